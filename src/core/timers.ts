/**
 * Event-time and processing-time timers of one keyed operator subtask (Flink's
 * `InternalTimerService`). Timers are deduplicated per (key, timestamp), fire in
 * timestamp order with their key set as the current key, and are snapshotted by key
 * group together with the keyed state.
 */
import type { TimeDomain } from '../api/functions.ts';
import { ByteReader, ByteWriter } from './bytes.ts';
import { canonicalKeyBytes, keyFromCanonicalBytes, keyId, type Key, type KeyGroupRange, type KeyId } from './keys.ts';

/** A registered timer. */
export interface Timer {
  readonly timestamp: number;
  readonly key: Key;
  readonly keyGroup: number;
  readonly domain: TimeDomain;
  /** Set when the timer was deleted; it is then skipped instead of removed from the heap. */
  cancelled: boolean;
  /** Registration order: breaks ties so firing order is deterministic. */
  readonly seq: number;
}

/** A min-heap of timers by (timestamp, registration order) plus a (key, timestamp) index. */
class TimerQueue {
  private heap: Timer[] = [];
  private readonly index = new Map<KeyId, Map<number, Timer>>();
  private live = 0;

  get size(): number {
    return this.live;
  }

  add(timer: Timer, id: KeyId): boolean {
    let byTime = this.index.get(id);
    if (byTime === undefined) this.index.set(id, (byTime = new Map()));
    if (byTime.has(timer.timestamp)) return false;
    byTime.set(timer.timestamp, timer);
    this.push(timer);
    this.live++;
    return true;
  }

  delete(id: KeyId, timestamp: number): void {
    const byTime = this.index.get(id);
    const timer = byTime?.get(timestamp);
    if (!byTime || !timer) return;
    timer.cancelled = true;
    byTime.delete(timestamp);
    if (byTime.size === 0) this.index.delete(id);
    this.live--;
  }

  /** The earliest live timer's timestamp, if any. */
  peekTimestamp(): number | undefined {
    this.dropCancelled();
    return this.heap.length > 0 ? this.heap[0].timestamp : undefined;
  }

  /** Removes and returns the earliest live timer if its timestamp is ≤ `time`. */
  pollDue(time: number): Timer | undefined {
    this.dropCancelled();
    const top = this.heap[0];
    if (top === undefined || top.timestamp > time) return undefined;
    this.pop();
    this.delete(keyId(top.key), top.timestamp);
    top.cancelled = false;
    return top;
  }

  /** Every live timer, in no particular order. */
  *all(): Iterable<Timer> {
    for (const byTime of this.index.values()) yield* byTime.values();
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0].cancelled) this.pop();
  }

  private static less(a: Timer, b: Timer): boolean {
    return a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.seq < b.seq);
  }

  private push(t: Timer): void {
    const h = this.heap;
    let i = h.push(t) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!TimerQueue.less(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && TimerQueue.less(h[l], h[m])) m = l;
      if (r < h.length && TimerQueue.less(h[r], h[m])) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}

/** Timers of one keyed operator subtask, in both time domains. */
export class InternalTimerService {
  private readonly eventTime = new TimerQueue();
  private readonly processingTime = new TimerQueue();
  private seq = 0;
  /** The last watermark processed. */
  watermark = -Infinity;

  constructor(private readonly keyGroupRange: KeyGroupRange) {}

  register(domain: TimeDomain, key: Key, keyGroup: number, timestamp: number): boolean {
    const timer: Timer = { timestamp, key, keyGroup, domain, cancelled: false, seq: this.seq++ };
    return this.queue(domain).add(timer, keyId(key));
  }

  delete(domain: TimeDomain, key: Key, timestamp: number): void {
    this.queue(domain).delete(keyId(key), timestamp);
  }

  /** The next processing-time timer's timestamp, to schedule a wake-up. */
  nextProcessingTime(): number | undefined {
    return this.processingTime.peekTimestamp();
  }

  /** Removes and returns the next timer due at `time` in `domain`. */
  pollDue(domain: TimeDomain, time: number): Timer | undefined {
    return this.queue(domain).pollDue(time);
  }

  /** Number of pending timers per domain. */
  size(domain: TimeDomain): number {
    return this.queue(domain).size;
  }

  private queue(domain: TimeDomain): TimerQueue {
    return domain === 'EVENT_TIME' ? this.eventTime : this.processingTime;
  }

  /**
   * The pending timers by key group: per timer a domain byte (0 event, 1 processing),
   * the canonical key bytes and the timestamp, sorted for deterministic bytes.
   */
  snapshot(): Map<number, Uint8Array> {
    const byGroup = new Map<number, Timer[]>();
    for (const queue of [this.eventTime, this.processingTime]) {
      for (const t of queue.all()) {
        let list = byGroup.get(t.keyGroup);
        if (!list) byGroup.set(t.keyGroup, (list = []));
        list.push(t);
      }
    }
    const out = new Map<number, Uint8Array>();
    for (const [group, timers] of byGroup) {
      timers.sort((a, b) => a.timestamp - b.timestamp || a.seq - b.seq);
      const w = new ByteWriter();
      for (const t of timers) {
        w.u8(t.domain === 'EVENT_TIME' ? 0 : 1);
        w.lenBytes(canonicalKeyBytes(t.key));
        w.f64(t.timestamp);
      }
      out.set(group, w.finish());
    }
    return out;
  }

  /** Adds the timers of every key group of `snapshot` that this subtask owns. */
  restore(snapshot: ReadonlyMap<number, Uint8Array>): void {
    for (const [group, bytes] of snapshot) {
      if (!this.keyGroupRange.contains(group)) continue;
      const r = new ByteReader(bytes);
      while (!r.done) {
        const domain: TimeDomain = r.u8() === 0 ? 'EVENT_TIME' : 'PROCESSING_TIME';
        const key = keyFromCanonicalBytes(r.lenBytes());
        this.register(domain, key, group, r.f64());
      }
    }
  }
}
