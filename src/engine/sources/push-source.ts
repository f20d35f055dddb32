/**
 * The common part of live sources whose producer pushes and cannot be paused (DOM
 * events, WebSocket, BroadcastChannel, EventSource): a listener puts events into a
 * bounded {@link LiveBuffer}; the reader polls it without waiting and tells the task
 * when input arrives (`isAvailable`), so checkpoints never wait for input. Events are
 * mapped to records when polled, so a throwing `map` fails the job naming the source.
 *
 * The platform object is passed in (or made by a factory), so this file knows no
 * platform global; the structural types below are the few members it uses.
 */
import { ConfigurationError } from '../../api/errors.ts';
import type { LiveBufferOptions, Source, SourceReader, SourceReaderContext } from '../../api/sources.ts';
import { checkLiveBufferOptions, LiveBuffer } from './live-buffer.ts';

/**
 * A listener as the platform's `EventTarget` takes it: DOM targets (whose listeners take
 * an `Event`) fit; the sources' own listeners read the members they need off the object.
 */
export type EventListenerLike = (event: object) => void;

/** The members of an `EventTarget` a live source uses (listeners take the event). */
export interface EventTargetLike {
  addEventListener(type: string, listener: EventListenerLike): void;
  removeEventListener(type: string, listener: EventListenerLike): void;
}

/** The members of an `AbortSignal` a live source uses: aborting ends the source cleanly. */
export interface AbortSignalLike extends EventTargetLike {
  readonly aborted: boolean;
}

/** A platform object, or a factory called once per reader (per subtask and attempt), which the source then owns and closes. */
export type Provided<O> = O | ((ctx: SourceReaderContext) => O);

/** Options every push source takes. */
export interface PushSourceOptions extends LiveBufferOptions {
  /** Ends the source cleanly (it finishes once its buffer is drained) when the signal aborts. */
  signal?: AbortSignalLike;
}

/** What a push source's attach step gets: where events go. */
export interface PushSink<E> {
  /** Buffers an event with its arrival time. */
  push(event: E): void;
  /** The input ended cleanly. */
  end(): void;
  /** The input failed. */
  fail(error: unknown): void;
}

/** An event with its arrival time (`Date.now()`), as buffered. */
interface Arrived<E> {
  readonly event: E;
  readonly at: number;
}

/** Base class of the push sources; subclasses attach listeners to their platform object. */
export abstract class PushSource<O extends object, E, T> implements Source<T> {
  readonly boundedness = 'unbounded' as const;
  /** Nothing can be read again after a failure: the job says so once when checkpointing is on. */
  readonly replayable = false;
  /** One given object feeds one reader; a factory can make one per subtask. */
  readonly maxParallelism: number | undefined;
  private readonly buffer: Required<LiveBufferOptions>;
  private readonly signal: AbortSignalLike | undefined;
  private dropped = 0;

  constructor(
    /** The component named in errors, e.g. `source:websocket`. */
    protected readonly component: string,
    private readonly provided: Provided<O>,
    private readonly mapEvent: (event: E, receivedAt: number) => T,
    options: PushSourceOptions | undefined,
  ) {
    if (typeof provided !== 'function' && (typeof provided !== 'object' || provided === null)) {
      throw new ConfigurationError(`needs the platform object or a factory (ctx) => object, got ${String(provided)}`, { component });
    }
    if (typeof mapEvent !== 'function') throw new ConfigurationError(`map must be a function (event, receivedAt) => record`, { component });
    this.buffer = checkLiveBufferOptions(component, options);
    this.signal = options?.signal;
    this.maxParallelism = typeof provided === 'function' ? undefined : 1;
  }

  /** Events dropped so far by the `drop-oldest` / `drop-newest` policies, over every reader of this source object. */
  getDroppedCount(): number {
    return this.dropped;
  }

  /** Starts listening; returns what stops listening. */
  protected abstract attach(target: O, sink: PushSink<E>): () => void;
  /** Closes an object made by the factory (the source owns it). */
  protected abstract dispose(target: O): void;
  /** Checks that the object is what the source needs; throws a ConfigurationError otherwise. */
  protected abstract check(target: unknown): asserts target is O;

  createReader(ctx: SourceReaderContext): SourceReader<T> {
    const owned = typeof this.provided === 'function';
    const target = owned ? (this.provided as (ctx: SourceReaderContext) => O)(ctx) : (this.provided as O);
    this.check(target);
    const buffer = new LiveBuffer<Arrived<E>>(this.component, this.buffer, () => this.dropped++);
    const detach = this.attach(target, {
      push: (event) => buffer.push({ event, at: Date.now() }),
      end: () => buffer.end(),
      fail: (error) => buffer.fail(error),
    });
    const signal = this.signal;
    const onAbort = () => buffer.end();
    if (signal?.aborted) buffer.end();
    else signal?.addEventListener('abort', onAbort);
    const mapEvent = this.mapEvent;
    let closed = false;
    return {
      poll(max) {
        const arrived = buffer.poll(max);
        if (arrived === null) return null;
        const records = new Array<T>(arrived.length);
        for (let i = 0; i < arrived.length; i++) records[i] = mapEvent(arrived[i].event, arrived[i].at);
        return records;
      },
      isAvailable: () => buffer.isAvailable(),
      close: () => {
        if (closed) return;
        closed = true;
        signal?.removeEventListener('abort', onAbort);
        detach();
        if (owned) this.dispose(target);
      },
    };
  }
}

/** Throws unless `target` has `addEventListener`/`removeEventListener`. */
export function checkEventTarget(component: string, target: unknown, what: string): void {
  const t = target as EventTargetLike | null;
  if (typeof t !== 'object' || t === null || typeof t.addEventListener !== 'function' || typeof t.removeEventListener !== 'function') {
    throw new ConfigurationError(`needs ${what} (an object with addEventListener/removeEventListener), got ${describe(target)}`, { component });
  }
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  return typeof v === 'object' ? `an object (${Object.prototype.toString.call(v).slice(8, -1)})` : `a ${typeof v}`;
}

/** Adds listeners and returns what removes them all. */
export function listen(target: EventTargetLike, listeners: Record<string, (event: never) => void>): () => void {
  const entries = Object.entries(listeners) as Array<[string, EventListenerLike]>;
  for (const [type, l] of entries) target.addEventListener(type, l);
  return () => {
    for (const [type, l] of entries) target.removeEventListener(type, l);
  };
}
