/**
 * The building of two-input operators (Flink's `ConnectedStreams`, `BroadcastStream`,
 * `BroadcastConnectedStream` and `KeyedStream.IntervalJoined`): the checks of the user
 * function and the operator each call adds. The typed stream classes live in
 * `datastream.ts`, since they return `DataStream`s (an import of it here would close a
 * cycle), as `WindowedStream` does.
 */
import { BroadcastProcessFunction, KeyedBroadcastProcessFunction } from '../api/broadcast-functions.ts';
import { KeyedCoProcessFunction } from '../api/co-functions.ts';
import type { MapStateDescriptor } from '../api/descriptors.ts';
import { ConfigurationError } from '../api/errors.ts';
import { checkOutputTag, type OutputTag } from '../api/output-tag.ts';
import type { GraphNode, Partitioning } from '../engine/graph.ts';
import type { Key } from '../format/key-bytes.ts';
import type { BroadcastProcessFunctionLike, KeyedBroadcastProcessFunctionLike } from '../api/broadcast-functions.ts';
import type { CoFlatMapFunction, CoMapFunction, CoProcessFunctionLike, KeyedCoProcessFunctionLike } from '../api/co-functions.ts';
import type { ProcessJoinFunctionLike } from '../api/join-functions.ts';
import { BroadcastProcessOperator, KeyedBroadcastProcessOperator } from '../engine/operators/co-broadcast.ts';
import { CoFlatMapOperator, CoMapOperator, CoProcessOperator, KeyedCoProcessOperator } from '../engine/operators/co-process.ts';
import { IntervalJoinOperator } from '../engine/operators/interval-join.ts';
import { instantiate } from '../engine/operators/function-copy.ts';
import type { StreamOperator } from '../engine/operators/operator.ts';
import { className } from './stream-functions.ts';

/**
 * The stream type the two-input calls return: `datastream.ts` declares
 * `stream: DataStream<T>` here (declaration merging), so that this file need not import
 * it — `DataStream.connect` constructs these classes, and an import back would close a cycle.
 */
export interface StreamTypes<T> {
  /** Only for the type parameter; never set. */
  readonly __element?: T;
}
/** `DataStream<T>`, through {@link StreamTypes}. */
export type StreamOf<T> = StreamTypes<T> extends { stream: infer S } ? S : never;

/** Adds a two-input operator to the graph (the stream it returns is typed by the caller). */
export type AddTwoInput = (name: string, keyed: boolean, create: () => StreamOperator, fn: unknown, nameFromClass: boolean) => unknown;

/** Connects the first stream's nodes (with `first`) and the second's (with `second`) into a new operator. */
export type ConnectInputs = (first: Partitioning, second: Partitioning) => AddTwoInput;

type KeySelectors = readonly [(value: unknown) => Key, (value: unknown) => Key];

function checkMethods(fn: unknown, call: string, methods: readonly string[]): void {
  const ok = typeof fn === 'object' && fn !== null && methods.every((m) => typeof (fn as Record<string, unknown>)[m] === 'function');
  if (!ok) {
    throw new ConfigurationError(`${call}() needs an object with ${methods.map((m) => `${m}(…)`).join(' and ')}, got ${fn === null ? 'null' : typeof fn}`, {
      component: 'datastream',
    });
  }
}

/** The untyped base of `ConnectedStreams`: forward (or rebalanced) inputs, or both keyed. */
export abstract class ConnectedStreamsBase {
  /** @internal */
  protected constructor(
    protected readonly connectInputs: ConnectInputs,
    protected readonly keys: KeySelectors | undefined,
  ) {}

  private add(): AddTwoInput {
    const keys = this.keys;
    if (keys === undefined) return this.connectInputs({ type: 'forward' }, { type: 'forward' });
    return this.connectInputs({ type: 'hash', keySelector: keys[0] }, { type: 'hash', keySelector: keys[1] });
  }

  protected mapOperator(fn: unknown): unknown {
    checkMethods(fn, 'map', ['map1', 'map2']);
    return this.add()('Co-Map', this.keys !== undefined, () => new CoMapOperator(instantiate(fn as never)), fn, false);
  }

  protected flatMapOperator(fn: unknown): unknown {
    checkMethods(fn, 'flatMap', ['flatMap1', 'flatMap2']);
    return this.add()('Co-Flat Map', this.keys !== undefined, () => new CoFlatMapOperator(instantiate(fn as never)), fn, false);
  }

  protected processOperator(fn: unknown): unknown {
    checkMethods(fn, 'process', ['processElement1', 'processElement2']);
    const name = className(fn as object);
    if (this.keys === undefined) {
      if (fn instanceof KeyedCoProcessFunction) {
        throw new ConfigurationError(
          'a KeyedCoProcessFunction can only be used when both inputs are keyed: call keyBy(keyA, keyB) on the connected streams first',
          {
            component: 'datastream',
            operator: name,
          },
        );
      }
      return this.add()(name ?? 'Co-Process', false, () => new CoProcessOperator(instantiate(fn as never)), fn, name !== undefined);
    }
    return this.add()(name ?? 'Keyed Co-Process', true, () => new KeyedCoProcessOperator(instantiate(fn as never)), fn, name !== undefined);
  }
}

/**
 * A stream broadcast to every parallel instance of the operator it is connected to, with
 * the broadcast states that operator keeps (Flink's `BroadcastStream`): made by
 * `stream.broadcast(...descriptors)`, used by `stream.connect(broadcastStream)`.
 */
export class BroadcastStream<T> {
  /** Only for type inference; never set. */
  declare readonly __type?: T;
  /** @internal */
  constructor(
    /** @internal The nodes the broadcast records come from. */
    readonly sources: readonly GraphNode[],
    /** The broadcast state descriptors (every instance gets these states). */
    readonly descriptors: readonly MapStateDescriptor<unknown, unknown>[],
  ) {
    if (descriptors.length === 0) {
      throw new ConfigurationError('a BroadcastStream needs at least one MapStateDescriptor: broadcast(descriptor, ...)', { component: 'datastream' });
    }
    for (const d of descriptors as unknown[]) {
      if (typeof d !== 'object' || d === null || (d as { kind?: unknown }).kind !== 'map') {
        throw new ConfigurationError('broadcast() takes MapStateDescriptors (broadcast state is a map)', { component: 'datastream' });
      }
    }
  }
}

/** The untyped base of `BroadcastConnectedStream`: the first input keyed or not, the second broadcast. */
export abstract class BroadcastConnectedStreamBase {
  /** @internal */
  protected constructor(
    private readonly connectInputs: ConnectInputs,
    private readonly key: ((value: unknown) => Key) | undefined,
    private readonly broadcastStream: BroadcastStream<unknown>,
  ) {}

  protected processOperator(fn: unknown): unknown {
    checkMethods(fn, 'process', ['processElement', 'processBroadcastElement']);
    const name = className(fn as object);
    const declared = new Set(this.broadcastStream.descriptors.map((d) => d.name));
    if (this.key === undefined) {
      if (fn instanceof KeyedBroadcastProcessFunction) {
        throw new ConfigurationError('a KeyedBroadcastProcessFunction can only be used on a keyed stream: keyBy() before connect(broadcastStream)', {
          component: 'datastream',
          operator: name,
        });
      }
      const add = this.connectInputs({ type: 'forward' }, { type: 'broadcast' });
      return add(name ?? 'Co-Process-Broadcast', false, () => new BroadcastProcessOperator(instantiate(fn as never), declared), fn, name !== undefined);
    }
    if (fn instanceof BroadcastProcessFunction) {
      throw new ConfigurationError('a BroadcastProcessFunction can only be used on a non-keyed stream: use a KeyedBroadcastProcessFunction after keyBy()', {
        component: 'datastream',
        operator: name,
      });
    }
    const add = this.connectInputs({ type: 'hash', keySelector: this.key }, { type: 'broadcast' });
    return add(name ?? 'Co-Process-Broadcast-Keyed', true, () => new KeyedBroadcastProcessOperator(instantiate(fn as never), declared), fn, name !== undefined);
  }
}

/** The untyped base of `IntervalJoined`: bounds and late-data outputs of an interval join. */
export abstract class IntervalJoinedBase {
  private lowerInclusive = true;
  private upperInclusive = true;
  private leftLateTag: string | undefined;
  private rightLateTag: string | undefined;

  /** @internal */
  protected constructor(
    private readonly connectInputs: ConnectInputs,
    private readonly keys: KeySelectors,
    private readonly lower: number,
    private readonly upper: number,
  ) {
    for (const [what, v] of [
      ['lower', lower],
      ['upper', upper],
    ] as const) {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new ConfigurationError(`between() needs finite ${what} bound in ms, got ${String(v)}`, { component: 'datastream' });
      }
    }
    if (lower > upper) throw new ConfigurationError(`between() needs lowerBound <= upperBound, got ${lower} > ${upper}`, { component: 'datastream' });
  }

  /** Excludes the lower bound: a right record exactly `lower` ms after the left one does not join. */
  lowerBoundExclusive(): this {
    this.lowerInclusive = false;
    return this;
  }

  /** Excludes the upper bound: a right record exactly `upper` ms after the left one does not join. */
  upperBoundExclusive(): this {
    this.upperInclusive = false;
    return this;
  }

  /** Sends left records that arrive behind the watermark to side output `tag` instead of dropping them. */
  sideOutputLeftLateData(tag: OutputTag<unknown>): this {
    checkOutputTag(tag, 'intervalJoin');
    this.leftLateTag = tag.id;
    return this;
  }

  /** Sends right records that arrive behind the watermark to side output `tag` instead of dropping them. */
  sideOutputRightLateData(tag: OutputTag<unknown>): this {
    checkOutputTag(tag, 'intervalJoin');
    this.rightLateTag = tag.id;
    return this;
  }

  protected processOperator(fn: unknown): unknown {
    checkMethods(fn, 'process', ['processElement']);
    const name = className(fn as object);
    const bounds = {
      lower: this.lower,
      upper: this.upper,
      lowerInclusive: this.lowerInclusive,
      upperInclusive: this.upperInclusive,
      leftLateTag: this.leftLateTag,
      rightLateTag: this.rightLateTag,
    };
    const add = this.connectInputs({ type: 'hash', keySelector: this.keys[0] }, { type: 'hash', keySelector: this.keys[1] });
    return add(name ?? 'Interval Join', true, () => new IntervalJoinOperator(instantiate(fn as never), bounds), fn, name !== undefined);
  }
}

/** Two streams connected into one operator (Flink's `ConnectedStreams`); keyed after `keyBy(keyA, keyB)`. */
export class ConnectedStreams<IN1, IN2> extends ConnectedStreamsBase {
  /** @internal Made by `DataStream.connect`. */
  constructor(connectInputs: ConnectInputs, keys: readonly [(v: IN1) => Key, (v: IN2) => Key] | undefined) {
    super(connectInputs, keys as readonly [(v: unknown) => Key, (v: unknown) => Key] | undefined);
  }
  /** One output per record of either input: `map1` for the first, `map2` for the second. */
  map<R>(fn: CoMapFunction<IN1, IN2, R>): StreamOf<R> {
    return this.mapOperator(fn) as StreamOf<R>;
  }
  /** Any number of outputs per record of either input: `flatMap1`/`flatMap2`. */
  flatMap<R>(fn: CoFlatMapFunction<IN1, IN2, R>): StreamOf<R> {
    return this.flatMapOperator(fn) as StreamOf<R>;
  }
  /** A `CoProcessFunction`, or after `keyBy(keyA, keyB)` a `KeyedCoProcessFunction` with keyed state and timers shared by both inputs. */
  process<R, K extends Key = Key>(fn: CoProcessFunctionLike<IN1, IN2, R> | KeyedCoProcessFunctionLike<K, IN1, IN2, R>): StreamOf<R> {
    return this.processOperator(fn) as StreamOf<R>;
  }
  /** Partitions both inputs by key (records of both with equal keys meet in one instance and share its keyed state). */
  keyBy<K extends Key>(keySelector1: (value: IN1) => K, keySelector2: (value: IN2) => K): ConnectedStreams<IN1, IN2> {
    if (typeof keySelector1 !== 'function' || typeof keySelector2 !== 'function')
      throw new ConfigurationError('keyBy() of connected streams needs a key selector function for each input', { component: 'datastream' });
    return new ConnectedStreams<IN1, IN2>(this.connectInputs, [keySelector1, keySelector2]);
  }
}

/** A stream connected to a {@link BroadcastStream} (Flink's `BroadcastConnectedStream`). */
export class BroadcastConnectedStream<IN1, IN2, K extends Key = never> extends BroadcastConnectedStreamBase {
  /** @internal Made by `connect(broadcastStream)`. */
  constructor(connectInputs: ConnectInputs, key: ((v: IN1) => K) | undefined, broadcast: BroadcastStream<IN2>) {
    super(connectInputs, key as ((v: unknown) => Key) | undefined, broadcast as BroadcastStream<unknown>);
  }
  /** Runs a `KeyedBroadcastProcessFunction` (keyed first input) or a `BroadcastProcessFunction`. */
  process<R>(fn: KeyedBroadcastProcessFunctionLike<K, IN1, IN2, R>): StreamOf<R>;
  process<R>(fn: BroadcastProcessFunctionLike<IN1, IN2, R>): StreamOf<R>;
  process<R>(fn: KeyedBroadcastProcessFunctionLike<K, IN1, IN2, R> | BroadcastProcessFunctionLike<IN1, IN2, R>): StreamOf<R> {
    return this.processOperator(fn) as StreamOf<R>;
  }
}

/** Two keyed streams to join by interval (Flink's `KeyedStream.IntervalJoin`), made by `intervalJoin`. */
export class IntervalJoin<T1, T2, K extends Key> {
  /** @internal */
  constructor(
    private readonly connectInputs: ConnectInputs,
    private readonly keys: readonly [(v: T1) => K, (v: T2) => K],
  ) {}
  /** Joins a left record at `t` with the right records in [t + lowerBound, t + upperBound] (ms, both inclusive by default). */
  between(lowerBound: number, upperBound: number): IntervalJoined<T1, T2, K> {
    return new IntervalJoined<T1, T2, K>(this.connectInputs, this.keys, lowerBound, upperBound);
  }
}

/** An interval join with its bounds (Flink's `KeyedStream.IntervalJoined`): `process` adds it. */
export class IntervalJoined<T1, T2, K extends Key> extends IntervalJoinedBase {
  /** @internal */
  constructor(connectInputs: ConnectInputs, keys: readonly [(v: T1) => K, (v: T2) => K], lowerBound: number, upperBound: number) {
    super(connectInputs, keys as readonly [(v: unknown) => Key, (v: unknown) => Key], lowerBound, upperBound);
  }
  /** Calls `fn.processElement(left, right, ctx, out)` for every joined pair; outputs carry the larger of both timestamps. */
  process<R>(fn: ProcessJoinFunctionLike<T1, T2, R>): StreamOf<R> {
    return this.processOperator(fn) as StreamOf<R>;
  }
}
