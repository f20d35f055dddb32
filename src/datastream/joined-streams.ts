/**
 * Window joins and co-groups (Flink's `JoinedStreams` and `CoGroupedStreams`): both
 * inputs are tagged, united, keyed by their own key selector and windowed together; each
 * window then hands the records of each side to the user's function. As in Flink, the
 * window keeps every record (no incremental aggregation), an inner join emits one result
 * per pair of records with equal keys in the same window, and `coGroup` sees both sides
 * even when one is empty. `apply` returns a `DataStream` through `StreamOf` (an import of
 * `datastream.ts` here would close an import cycle).
 */
import { ConfigurationError } from '../api/errors.ts';
import type { Awaitable, Collector, RichFunction, RuntimeContext } from '../api/functions.ts';
import type { WindowAssigner } from '../api/windowing/assigners.ts';
import type { Evictor } from '../api/windowing/evictors.ts';
import type { ProcessWindowContext, ProcessWindowFunctionLike } from '../api/windowing/functions.ts';
import type { Trigger } from '../api/windowing/triggers.ts';
import type { Window } from '../api/windowing/windows.ts';
import type { Key } from '../format/key-bytes.ts';
import { instantiate } from '../engine/operators/function-copy.ts';
import type { StreamOf } from './connected-streams.ts';

/** A record of either input of a join or co-group, as the window sees it (Flink's `TaggedUnion`). */
export type TaggedUnion<T1, T2> = { readonly input: 1; readonly value: T1 } | { readonly input: 2; readonly value: T2 };

/** Called once per key and window with the records of both inputs (Flink's `CoGroupFunction`). */
export type CoGroupFunction<T1, T2, OUT> =
  | ((first: Iterable<T1>, second: Iterable<T2>, out: Collector<OUT>) => Awaitable<void>)
  | (RichFunction & { coGroup(first: Iterable<T1>, second: Iterable<T2>, out: Collector<OUT>): Awaitable<void> });

/**
 * Called once per pair of records with equal keys in the same window: returns the result
 * (Flink's `JoinFunction`), or, declared with a third parameter `out`, emits any number of
 * results (Flink's `FlatJoinFunction`).
 */
export type JoinFunction<T1, T2, OUT> =
  | ((first: T1, second: T2) => Awaitable<OUT>)
  | ((first: T1, second: T2, out: Collector<OUT>) => Awaitable<void>)
  | (RichFunction & { join(first: T1, second: T2): Awaitable<OUT> })
  | (RichFunction & { join(first: T1, second: T2, out: Collector<OUT>): Awaitable<void> });

/** The windowed union of both tagged inputs, as `KeyedStream.window` makes it. */
export interface WindowedUnion<T1, T2, W extends Window> {
  trigger(trigger: Trigger<TaggedUnion<T1, T2>, W>): unknown;
  evictor(evictor: Evictor<TaggedUnion<T1, T2>, W>): unknown;
  allowedLateness(ms: number): unknown;
  process(fn: ProcessWindowFunctionLike<TaggedUnion<T1, T2>, unknown, Key, W>): unknown;
}

/** Makes the windowed union for a window assigner (given by `DataStream.join`/`coGroup`). */
export type WindowUnion<T1, T2> = <W extends Window>(assigner: WindowAssigner<TaggedUnion<T1, T2>, W>) => WindowedUnion<T1, T2, W>;

/** The untyped base of `JoinedStreams.WithWindow` / `CoGroupedStreams.WithWindow`: configuration and building. */
export abstract class WindowedCoGroupBase<T1, T2, W extends Window> {
  /** @internal */
  protected constructor(private readonly windowed: WindowedUnion<T1, T2, W>) {}

  /** Replaces the assigner's default trigger (it sees the tagged records). */
  trigger(trigger: Trigger<TaggedUnion<T1, T2>, W>): this {
    this.windowed.trigger(trigger);
    return this;
  }

  /** Removes records from windows before and/or after evaluation. */
  evictor(evictor: Evictor<TaggedUnion<T1, T2>, W>): this {
    this.windowed.evictor(evictor);
    return this;
  }

  /** Keeps event-time windows `ms` past their end: late records within it fire them again. */
  allowedLateness(ms: number): this {
    this.windowed.allowedLateness(ms);
    return this;
  }

  /** @internal */
  protected coGroupStream(fn: CoGroupFunction<T1, T2, unknown>): unknown {
    if (typeof fn !== 'function' && !hasMethod(fn, 'coGroup'))
      throw new ConfigurationError('apply() needs a CoGroupFunction: (first, second, out) => void or an object with coGroup(first, second, out)', {
        component: 'datastream',
      });
    return this.windowed.process(new CoGroupWindowFunction<T1, T2>(fn));
  }

  /** @internal */
  protected joinStream(fn: JoinFunction<T1, T2, unknown>): unknown {
    if (typeof fn !== 'function' && !hasMethod(fn, 'join'))
      throw new ConfigurationError('apply() needs a JoinFunction: (first, second) => result, (first, second, out) => void, or an object with join', {
        component: 'datastream',
      });
    return this.windowed.process(new CoGroupWindowFunction<T1, T2>(new JoinCoGroup(fn)));
  }
}

function hasMethod(fn: unknown, method: string): boolean {
  return typeof fn === 'object' && fn !== null && typeof (fn as Record<string, unknown>)[method] === 'function';
}

/** Refuses a key selector of `where` or `equalTo` that is not a function. */
export function checkKeySelector(fn: unknown, method: 'where' | 'equalTo'): void {
  if (typeof fn !== 'function') throw new ConfigurationError(`${method}() needs a key selector function, got ${typeof fn}`, { component: 'datastream' });
}

/** Tags the records of the first input. */
export function tagFirst<T1, T2>(value: T1): TaggedUnion<T1, T2> {
  return { input: 1, value };
}

/** Tags the records of the second input. */
export function tagSecond<T1, T2>(value: T2): TaggedUnion<T1, T2> {
  return { input: 2, value };
}

/** The key of a tagged record: the first or the second key selector, by input. */
export function unionKey<T1, T2, K extends Key>(first: (v: T1) => K, second: (v: T2) => K): (t: TaggedUnion<T1, T2>) => K {
  return (t) => (t.input === 1 ? first(t.value) : second(t.value));
}

/**
 * The window function behind both: splits the window's records by input and calls the
 * co-group function, which each subtask gets its own copy of (as every user function).
 */
class CoGroupWindowFunction<T1, T2> implements ProcessWindowFunctionLike<TaggedUnion<T1, T2>, unknown, Key, Window> {
  private fn: CoGroupFunction<T1, T2, unknown> | undefined;
  constructor(private readonly user: CoGroupFunction<T1, T2, unknown>) {}

  open(ctx: RuntimeContext): Awaitable<void> {
    const fn = (this.fn = instantiate(this.user));
    if (typeof fn !== 'function' && typeof fn.open === 'function') return fn.open(ctx);
  }

  close(): Awaitable<void> {
    const fn = this.fn;
    if (fn !== undefined && typeof fn !== 'function' && typeof fn.close === 'function') return fn.close();
  }

  process(_key: Key, _ctx: ProcessWindowContext<Window>, elements: Iterable<TaggedUnion<T1, T2>>, out: Collector<unknown>): Awaitable<void> {
    const first: T1[] = [];
    const second: T2[] = [];
    for (const t of elements) {
      if (t.input === 1) first.push(t.value);
      else second.push(t.value);
    }
    const fn = this.fn!;
    return typeof fn === 'function' ? fn(first, second, out) : fn.coGroup(first, second, out);
  }
}

/** A join as a co-group: the join function once per pair, in input order (Flink's `JoinCoGroupFunction`). */
class JoinCoGroup<T1, T2> {
  constructor(private readonly fn: JoinFunction<T1, T2, unknown>) {}

  open(ctx: RuntimeContext): Awaitable<void> {
    const fn = this.fn;
    if (typeof fn !== 'function' && typeof fn.open === 'function') return fn.open(ctx);
  }

  close(): Awaitable<void> {
    const fn = this.fn;
    if (typeof fn !== 'function' && typeof fn.close === 'function') return fn.close();
  }

  coGroup(first: Iterable<T1>, second: Iterable<T2>, out: Collector<unknown>): Awaitable<void> {
    const fn = this.fn;
    const call = (typeof fn === 'function' ? fn : fn.join.bind(fn)) as (a: T1, b: T2, out: Collector<unknown>) => unknown;
    // Declared with `out`: a flat join that emits itself; otherwise its result is the output.
    return joinPairs(call, call.length >= 3, [...first], [...second], out, 0);
  }
}

/** Calls the join for every pair from pair `from` on, in order, waiting only for results that are Promises. */
function joinPairs<T1, T2>(
  call: (a: T1, b: T2, out: Collector<unknown>) => unknown,
  flat: boolean,
  first: T1[],
  second: T2[],
  out: Collector<unknown>,
  from: number,
): Awaitable<void> {
  const pairs = first.length * second.length;
  for (let p = from; p < pairs; p++) {
    const r = call(first[Math.floor(p / second.length)], second[p % second.length], out);
    if (r instanceof Promise) {
      return r.then((v) => {
        if (!flat) out.collect(v);
        return joinPairs(call, flat, first, second, out, p + 1);
      });
    }
    if (!flat) out.collect(r);
  }
}

/** Both inputs of a window join or co-group, keyed by `where`/`equalTo`. */
type CoGroupInputs<T1, T2> = <K extends Key>(first: (v: T1) => K, second: (v: T2) => K) => WindowUnion<T1, T2>;

/** `a.join(b)`: pick the keys with `where(keyA).equalTo(keyB)`, then `window(assigner)` (Flink's `JoinedStreams`). */
export class JoinedStreams<T1, T2> {
  /** @internal */
  constructor(private readonly inputs: CoGroupInputs<T1, T2>) {}
  /** The key of the first input's records; then `equalTo` gives the second's. */
  where<K extends Key>(first: (v: T1) => K) {
    checkKeySelector(first, 'where');
    return {
      equalTo: (second: (v: T2) => K) => (
        checkKeySelector(second, 'equalTo'),
        {
          /** The windows both inputs are joined in. */
          window: <W extends Window>(assigner: WindowAssigner<TaggedUnion<T1, T2>, W>) => new JoinWithWindow<T1, T2, W>(this.inputs(first, second)(assigner)),
        }
      ),
    };
  }
}

/** A window join ready for its join function (Flink's `JoinedStreams.WithWindow`). */
export class JoinWithWindow<T1, T2, W extends Window> extends WindowedCoGroupBase<T1, T2, W> {
  /** @internal */
  constructor(windowed: WindowedUnion<T1, T2, W>) {
    super(windowed);
  }
  /** Calls `fn` once per pair of records with equal keys in the same window; a function declared with `out` emits itself (a flat join). */
  apply<R>(fn: JoinFunction<T1, T2, R>): StreamOf<R> {
    return this.joinStream(fn as JoinFunction<T1, T2, unknown>) as StreamOf<R>;
  }
}

/** `a.coGroup(b)`: pick the keys with `where(keyA).equalTo(keyB)`, then `window(assigner)` (Flink's `CoGroupedStreams`). */
export class CoGroupedStreams<T1, T2> {
  /** @internal */
  constructor(private readonly inputs: CoGroupInputs<T1, T2>) {}
  /** The key of the first input's records; then `equalTo` gives the second's. */
  where<K extends Key>(first: (v: T1) => K) {
    checkKeySelector(first, 'where');
    return {
      equalTo: (second: (v: T2) => K) => (
        checkKeySelector(second, 'equalTo'),
        {
          /** The windows both inputs are grouped in. */
          window: <W extends Window>(assigner: WindowAssigner<TaggedUnion<T1, T2>, W>) =>
            new CoGroupWithWindow<T1, T2, W>(this.inputs(first, second)(assigner)),
        }
      ),
    };
  }
}

/** A window co-group ready for its function (Flink's `CoGroupedStreams.WithWindow`). */
export class CoGroupWithWindow<T1, T2, W extends Window> extends WindowedCoGroupBase<T1, T2, W> {
  /** @internal */
  constructor(windowed: WindowedUnion<T1, T2, W>) {
    super(windowed);
  }
  /** Calls `fn` once per key and window with the records of each input. */
  apply<R>(fn: CoGroupFunction<T1, T2, R>): StreamOf<R> {
    return this.coGroupStream(fn as CoGroupFunction<T1, T2, unknown>) as StreamOf<R>;
  }
}
