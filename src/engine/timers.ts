/**
 * Event-time and processing-time timers of one keyed operator subtask (Flink's
 * `InternalTimerService`). Timers are deduplicated per (key, timestamp), fire in
 * timestamp order with their key set as the current key, and are snapshotted by key
 * group together with the keyed state.
 */
import type { TimeDomain } from '../api/functions.ts';
import { ByteReader, ByteWriter } from '../format/bytes.ts';
import { Slices } from '../state/slices.ts';
import { canonicalKeyBytes, keyFromCanonicalBytes, type Key } from '../format/key-bytes.ts';
import { keyId, type KeyId } from '../format/key-ids.ts';
import type { KeyGroupRange } from '../format/key-groups.ts';

/** A registered timer. */
export interface Timer {
  readonly timestamp: number;
  readonly key: Key;
  readonly keyGroup: number;
  readonly domain: TimeDomain;
  /**
   * The timer's namespace (Flink's timers are per key *and* namespace): `''` for a
   * function's own timers, the window for the window operator's.
   */
  readonly namespace: string;
  /**
   * The snapshot epoch in which the timer was deleted or fired (`LIVE` while pending).
   * A deleted timer stays in the heap and is skipped when it reaches the top; a snapshot
   * captured in an earlier epoch still counts it as pending (see `TimerQueue.capture`).
   */
  endedIn: number;
  /** Registration order: breaks ties so firing order is deterministic. */
  readonly seq: number;
}

/** `Timer.endedIn` of a pending timer. */
const LIVE = Infinity;

/** A min-heap of timers by (timestamp, registration order) plus a (key, timestamp) index. */
class TimerQueue {
  /** The current snapshot epoch, stamped on timers as they end. */
  private epoch = 0;
  private heap: Timer[] = [];
  /**
   * Pending timers by key: the timer itself while a key has one (the common case, and no
   * Map per key to allocate), a Map by timestamp once it has more.
   */
  private readonly index = new Map<KeyId, Timer | Map<number, Timer>>();
  /** The same index for timers of other namespaces than `''`, by namespace. */
  private readonly namespaced = new Map<string, Map<KeyId, Timer | Map<number, Timer>>>();
  private live = 0;

  private indexOf(namespace: string, create: boolean): Map<KeyId, Timer | Map<number, Timer>> | undefined {
    if (namespace === '') return this.index;
    let index = this.namespaced.get(namespace);
    if (index === undefined && create) this.namespaced.set(namespace, (index = new Map()));
    return index;
  }

  get size(): number {
    return this.live;
  }

  add(timer: Timer, id: KeyId): boolean {
    const index = this.indexOf(timer.namespace, true)!;
    const entry = index.get(id);
    if (entry === undefined) index.set(id, timer);
    else if (entry instanceof Map) {
      if (entry.has(timer.timestamp)) return false;
      entry.set(timer.timestamp, timer);
    } else {
      if (entry.timestamp === timer.timestamp) return false;
      index.set(
        id,
        new Map([
          [entry.timestamp, entry],
          [timer.timestamp, timer],
        ]),
      );
    }
    this.push(timer);
    this.live++;
    return true;
  }

  delete(id: KeyId, timestamp: number, namespace: string): void {
    const index = this.indexOf(namespace, false);
    const entry = index?.get(id);
    if (index === undefined || entry === undefined) return;
    let timer: Timer | undefined;
    if (entry instanceof Map) {
      timer = entry.get(timestamp);
      if (timer === undefined) return;
      entry.delete(timestamp);
      if (entry.size === 0) index.delete(id);
    } else {
      if (entry.timestamp !== timestamp) return;
      timer = entry;
      index.delete(id);
    }
    if (index.size === 0 && namespace !== '') this.namespaced.delete(namespace);
    timer.endedIn = this.epoch;
    this.live--;
  }

  /** The pending timestamps of a key, in every namespace, ascending (a state query). */
  timestampsOf(id: KeyId): number[] {
    const out: number[] = [];
    for (const index of [this.index, ...this.namespaced.values()]) {
      const entry = index.get(id);
      if (entry instanceof Map) out.push(...entry.keys());
      else if (entry !== undefined) out.push(entry.timestamp);
    }
    return out.sort((a, b) => a - b);
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
    this.delete(keyId(top.key), top.timestamp, top.namespace);
    return top;
  }

  /**
   * The heap as it is now (a plain array copy: fast even for millions of timers), and
   * the epoch it belongs to; later epochs begin. Timers that end afterwards are stamped
   * with a later epoch, so the copy still tells which were pending at capture.
   */
  capture(): { heap: Timer[]; epoch: number } {
    return { heap: this.heap.slice(), epoch: this.epoch++ };
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0].endedIn !== LIVE) this.pop();
  }

  private push(t: Timer): void {
    this.rise(t, this.heap.push(t) - 1);
  }

  /** Puts `t` into the hole at `i`, or above it while it sorts before the parent. */
  private rise(t: Timer, i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(t, h[parent])) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = t;
  }

  /**
   * Removes the top. The hole it leaves walks down along the smaller children to a leaf
   * and the last element rises from there: the last element nearly always belongs near
   * the bottom, so this takes about half the comparisons of sifting it down from the top.
   */
  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    const n = h.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && less(h[child + 1], h[child])) child++;
      h[i] = h[child];
      i = child;
    }
    this.rise(last, i);
  }
}

function less(a: Timer, b: Timer): boolean {
  return a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.seq < b.seq);
}

/** Timers of one keyed operator subtask, in both time domains. */
export class InternalTimerService {
  private readonly eventTime = new TimerQueue();
  private readonly processingTime = new TimerQueue();
  private seq = 0;
  /** The last watermark processed. */
  watermark = -Infinity;

  constructor(private readonly keyGroupRange: KeyGroupRange) {}

  /** Registers a timer unless one exists for the same key, namespace and timestamp; true when added. */
  register(domain: TimeDomain, key: Key, keyGroup: number, timestamp: number, namespace = ''): boolean {
    const timer: Timer = { timestamp, key, keyGroup, domain, namespace, endedIn: LIVE, seq: this.seq++ };
    return this.queue(domain).add(timer, keyId(key));
  }

  delete(domain: TimeDomain, key: Key, timestamp: number, namespace = ''): void {
    this.queue(domain).delete(keyId(key), timestamp, namespace);
  }

  /** The next processing-time timer's timestamp, to schedule a wake-up. */
  nextProcessingTime(): number | undefined {
    return this.processingTime.peekTimestamp();
  }

  /** Removes and returns the next timer due at `time` in `domain`. */
  pollDue(domain: TimeDomain, time: number): Timer | undefined {
    return this.queue(domain).pollDue(time);
  }

  /** The pending timers of `key` by domain, ascending (a state query). */
  timersOf(key: Key): { eventTime: number[]; processingTime: number[] } {
    const id = keyId(key);
    return { eventTime: this.eventTime.timestampsOf(id), processingTime: this.processingTime.timestampsOf(id) };
  }

  /** Number of pending timers per domain. */
  size(domain: TimeDomain): number {
    return this.queue(domain).size;
  }

  private queue(domain: TimeDomain): TimerQueue {
    return domain === 'EVENT_TIME' ? this.eventTime : this.processingTime;
  }

  /**
   * The pending timers by key group: per timer a domain byte (0 event, 1 processing;
   * 2 and 3 the same for a timer with a namespace), the canonical key bytes, the
   * namespace (only after 2 or 3) and the timestamp, sorted for deterministic bytes. What is
   * pending is captured synchronously, inside this call (two array copies); the encoding
   * runs in slices afterwards, while records and timers go on.
   */
  snapshot(): Promise<Map<number, Uint8Array>> {
    return encodeTimers([this.eventTime.capture(), this.processingTime.capture()]);
  }

  /** Adds the timers of every key group of `snapshot` that this subtask owns. */
  restore(snapshot: ReadonlyMap<number, Uint8Array>): void {
    for (const [group, bytes] of snapshot) {
      if (!this.keyGroupRange.contains(group)) continue;
      const r = new ByteReader(bytes);
      while (!r.done) {
        const tag = r.u8();
        const domain: TimeDomain = (tag & 1) === 0 ? 'EVENT_TIME' : 'PROCESSING_TIME';
        const key = keyFromCanonicalBytes(r.lenBytes());
        const namespace = tag >= 2 ? r.string() : '';
        this.register(domain, key, group, r.f64(), namespace);
      }
    }
  }
}

/** Encodes captured heaps by key group, all of it after the capturing call returned, in slices. */
async function encodeTimers(captured: ReadonlyArray<{ heap: Timer[]; epoch: number }>): Promise<Map<number, Uint8Array>> {
  await Promise.resolve(); // nothing of the encoding runs inside the snapshot call
  const slices = new Slices();
  const byGroup = new Map<number, Timer[]>();
  for (const { heap, epoch } of captured) {
    for (let i = 0; i < heap.length; i++) {
      const t = heap[i];
      // Pending at capture: still live, or ended in a later epoch.
      if (t.endedIn > epoch) {
        let list = byGroup.get(t.keyGroup);
        if (!list) byGroup.set(t.keyGroup, (list = []));
        list.push(t);
      }
      if ((i & 4095) === 4095 && slices.due()) await slices.pause();
    }
  }
  const out = new Map<number, Uint8Array>();
  for (const group of [...byGroup.keys()].sort((a, b) => a - b)) {
    const timers = byGroup.get(group)!;
    timers.sort((a, b) => a.timestamp - b.timestamp || a.seq - b.seq);
    if (slices.due()) await slices.pause();
    const w = new ByteWriter();
    for (let i = 0; i < timers.length; i++) {
      const t = timers[i];
      const namespaced = t.namespace !== '';
      w.u8((t.domain === 'EVENT_TIME' ? 0 : 1) + (namespaced ? 2 : 0));
      w.lenBytes(canonicalKeyBytes(t.key));
      if (namespaced) w.string(t.namespace);
      w.f64(t.timestamp);
      if ((i & 4095) === 4095 && slices.due()) await slices.pause();
    }
    out.set(group, w.finish());
  }
  return out;
}
