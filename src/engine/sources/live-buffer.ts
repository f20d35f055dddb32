/**
 * The bounded queue between a producer that cannot be paused (events, socket messages)
 * and a source reader: pushes never block, a full buffer applies the chosen overflow
 * policy, and the reader's availability future resolves when something arrives.
 */
import { ConfigurationError, SourceError } from '../../api/errors.ts';
import type { LiveBufferOptions, OverflowPolicy } from '../../api/sources.ts';

/** Default events buffered per reader. */
export const DEFAULT_LIVE_BUFFER_SIZE = 10_000;

const POLICIES: readonly OverflowPolicy[] = ['fail', 'drop-oldest', 'drop-newest'];

/** Checks the buffer options of a live source (in its constructor, so that bad ones fail at graph building). */
export function checkLiveBufferOptions(component: string, options: LiveBufferOptions | undefined): Required<LiveBufferOptions> {
  const bufferSize = options?.bufferSize ?? DEFAULT_LIVE_BUFFER_SIZE;
  const onOverflow = options?.onOverflow ?? 'fail';
  if (!Number.isInteger(bufferSize) || bufferSize < 1) {
    throw new ConfigurationError(`bufferSize must be a positive integer, got ${String(bufferSize)}`, { component });
  }
  if (!POLICIES.includes(onOverflow)) {
    throw new ConfigurationError(`onOverflow must be one of ${POLICIES.map((p) => `'${p}'`).join(', ')}, got ${JSON.stringify(onOverflow)}`, { component });
  }
  return { bufferSize, onOverflow };
}

/** A bounded FIFO with an availability future; one per source reader. */
export class LiveBuffer<T> {
  // A queue: `head` is the next to take; the array is compacted now and then.
  private items: T[] = [];
  private head = 0;
  private ended = false;
  private failure: unknown = undefined;
  private wake: (() => void) | undefined;
  private waiting: Promise<void> | undefined;

  constructor(
    private readonly component: string,
    private readonly options: Required<LiveBufferOptions>,
    /** Called once per dropped event (the source sums them up). */
    private readonly onDrop: () => void,
  ) {}

  /** Events waiting to be polled. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** Adds an event; never blocks. After the end or a failure, events are ignored. */
  push(value: T): void {
    if (this.ended || this.failure !== undefined) return;
    if (this.size >= this.options.bufferSize) {
      const policy = this.options.onOverflow;
      if (policy === 'drop-newest') {
        this.onDrop();
        return;
      }
      if (policy === 'drop-oldest') {
        this.items[this.head++] = undefined as T;
        this.onDrop();
      } else {
        this.fail(
          new SourceError(
            'SOURCE_BUFFER_FULL',
            `the buffer of ${this.options.bufferSize} events is full: events arrive faster than the job processes them. Raise bufferSize, choose onOverflow: 'drop-oldest' or 'drop-newest' to drop events (counted), or make the job faster`,
            { component: this.component },
          ),
        );
        return;
      }
    }
    this.items.push(value);
    this.signal();
  }

  /** No more events: the reader finishes once the buffer is drained. */
  end(): void {
    this.ended = true;
    this.signal();
  }

  /** The input failed: the reader hands out what is buffered, then throws `error`. */
  fail(error: unknown): void {
    if (this.failure !== undefined || this.ended) return;
    this.failure = error;
    this.signal();
  }

  /** Up to `max` buffered events, `[]` when none, `null` once ended and drained; throws a failure once drained. */
  poll(max: number): T[] | null {
    const n = Math.min(max, this.size);
    if (n > 0) {
      const batch = this.items.slice(this.head, this.head + n);
      this.head += n;
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      return batch;
    }
    if (this.failure !== undefined) throw this.failure;
    return this.ended ? null : [];
  }

  /** Resolves once an event, the end or a failure is there. */
  isAvailable(): Promise<void> {
    if (this.size > 0 || this.ended || this.failure !== undefined) return Promise.resolve();
    this.waiting ??= new Promise<void>((resolve) => (this.wake = resolve));
    return this.waiting;
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    this.waiting = undefined;
    wake?.();
  }
}
