/**
 * Event-time and processing-time timers of one keyed operator subtask (Flink's
 * `InternalTimerService`). Timers are deduplicated per (key, timestamp), fire in
 * timestamp order with their key set as the current key, and are snapshotted by key
 * group together with the keyed state.
 */
import type { TimeDomain } from '../api/functions.ts';
import { ByteReader } from '../format/bytes.ts';
import { keyFromCanonicalBytes, type Key } from '../format/key-bytes.ts';
import { keyId, type KeyId } from '../format/key-ids.ts';
import type { KeyGroupRange } from '../format/key-groups.ts';
import { DeltaEpochs } from '../state/delta-epochs.ts';
import { COMPACT_AT, isFired, KeyIndex } from './timer-index.ts';
import { LIVE, TimerOrder } from './timer-order.ts';
import { encodeFullTimers, encodeTimerDelta, type CapturedQueue, type Timer, type TimerDelta } from './timer-snapshots.ts';

export type { Timer } from './timer-snapshots.ts';

/**
 * One domain's pending timers: their firing order ({@link TimerOrder}) and an index by
 * (namespace, key, timestamp) for deduplication, deletion and state queries.
 */
class TimerQueue {
  /** The current snapshot epoch, stamped on timers as they end. */
  private epoch = 0;
  private readonly order = new TimerOrder();
  /**
   * Pending timers of namespace `''` by key group (from the range's first), then by key.
   * Many small Maps rather than one: a Map that grows to hundreds of thousands of keys
   * rehashes into ever larger tables (filling one Map with 10,000 keys costs ~6× what
   * filling 128 Maps with the same keys does).
   */
  private readonly byKeyGroup: Array<KeyIndex | undefined>;
  /** Timers of other namespaces than `''` (windows), by namespace, then by key. */
  private readonly namespaced = new Map<string, KeyIndex>();
  private live = 0;
  /**
   * Change logs for deltas, once tracking (see {@link DeltaEpochs}): timers as they are
   * added and as they end, in epoch order. Trimmed by replacing the arrays, never in
   * place, so a capture can keep a reference and a length.
   */
  private added: Timer[] = [];
  private ended: Timer[] = [];
  tracking = false;

  constructor(
    private readonly keyGroupRange: KeyGroupRange,
    private readonly domain: TimeDomain,
  ) {
    this.byKeyGroup = Array.from({ length: keyGroupRange.size }, () => undefined);
  }

  private indexOf(namespace: string, keyGroup: number): KeyIndex | undefined {
    return namespace === '' ? this.byKeyGroup[keyGroup - this.keyGroupRange.start] : this.namespaced.get(namespace);
  }

  private createIndex(namespace: string, keyGroup: number): KeyIndex {
    const index = new KeyIndex();
    if (namespace === '') this.byKeyGroup[keyGroup - this.keyGroupRange.start] = index;
    else this.namespaced.set(namespace, index);
    return index;
  }

  /** Empties an index without pending timers of the entries of fired timers it kept (a namespace's is forgotten). */
  private dropIfEmpty(index: KeyIndex, namespace: string): void {
    if (index.live > 0 || (index.stale === 0 && namespace === '')) return;
    if (namespace !== '') this.namespaced.delete(namespace);
    else {
      // Kept (empty) for the key group's next timers.
      index.byKey.clear();
      index.stale = 0;
    }
  }

  get size(): number {
    return this.live;
  }

  /**
   * Adds a timer unless `key` (whose id is `id`) has one at `timestamp` in `namespace`;
   * true when added. The index is asked first, so registering a timer again allocates nothing.
   */
  add(key: Key, id: KeyId, keyGroup: number, timestamp: number, namespace: string, seq: number): boolean {
    const index = this.indexOf(namespace, keyGroup) ?? this.createIndex(namespace, keyGroup);
    const byKey = index.byKey;
    const entry = byKey.get(id);
    let timer: Timer;
    if (entry === undefined || isFired(entry)) {
      if (entry !== undefined) index.stale--;
      timer = this.newTimer(key, keyGroup, timestamp, namespace, seq);
      byKey.set(id, timer);
    } else if (entry instanceof Map) {
      if (entry.has(timestamp)) return false;
      timer = this.newTimer(key, keyGroup, timestamp, namespace, seq);
      entry.set(timestamp, timer);
    } else {
      if (entry.timestamp === timestamp) return false;
      timer = this.newTimer(key, keyGroup, timestamp, namespace, seq);
      byKey.set(
        id,
        new Map([
          [entry.timestamp, entry],
          [timestamp, timer],
        ]),
      );
      index.multi++;
    }
    index.live++;
    if (this.tracking) this.added.push(timer);
    this.order.push(timer);
    this.live++;
    return true;
  }

  private newTimer(key: Key, keyGroup: number, timestamp: number, namespace: string, seq: number): Timer {
    return { timestamp, key, keyGroup, domain: this.domain, namespace, endedIn: LIVE, addedIn: this.epoch, seq };
  }

  delete(id: KeyId, keyGroup: number, timestamp: number, namespace: string): void {
    const index = this.indexOf(namespace, keyGroup);
    const entry = index?.byKey.get(id);
    if (index === undefined || entry === undefined) return;
    let timer: Timer | undefined;
    if (entry instanceof Map) {
      timer = entry.get(timestamp);
      if (timer === undefined) return;
      entry.delete(timestamp);
      if (entry.size === 0) {
        index.byKey.delete(id);
        index.multi--;
      }
    } else {
      if (entry.timestamp !== timestamp || entry.endedIn !== LIVE) return;
      timer = entry;
      index.byKey.delete(id);
    }
    this.end(timer, index);
  }

  /** Stamps a timer that was deleted or fired with the epoch it ended in. */
  private end(timer: Timer, index: KeyIndex): void {
    timer.endedIn = this.epoch;
    if (this.tracking) this.ended.push(timer);
    this.live--;
    index.live--;
    this.dropIfEmpty(index, timer.namespace);
  }

  /** The pending timestamps of a key, in every namespace, ascending (a state query). */
  timestampsOf(id: KeyId, keyGroup: number): number[] {
    const out: number[] = [];
    const own = this.indexOf('', keyGroup);
    for (const index of own === undefined ? this.namespaced.values() : [own, ...this.namespaced.values()]) {
      const entry = index.byKey.get(id);
      if (entry instanceof Map) out.push(...entry.keys());
      else if (entry !== undefined && !isFired(entry)) out.push(entry.timestamp);
    }
    return out.sort((a, b) => a - b);
  }

  /** The namespaces other than `''` in which a key has a pending timer (a state query). */
  namespacesOf(id: KeyId, into: Set<string>): void {
    for (const [namespace, index] of this.namespaced) {
      const entry = index.byKey.get(id);
      if (entry !== undefined && !isFired(entry)) into.add(namespace);
    }
  }

  /** Forgets the changes of epochs up to `epoch` (that of a completed checkpoint: the base of later deltas). */
  forgetUpTo(epoch: number): void {
    let i = 0;
    while (i < this.added.length && this.added[i].addedIn <= epoch) i++;
    if (i > 0) this.added = this.added.slice(i);
    let j = 0;
    while (j < this.ended.length && this.ended[j].endedIn <= epoch) j++;
    if (j > 0) this.ended = this.ended.slice(j);
  }

  /** The earliest live timer's timestamp, if any. */
  peekTimestamp(): number | undefined {
    return this.order.front()?.timestamp;
  }

  /** Removes and returns the earliest live timer if its timestamp is ≤ `time`. */
  pollDue(time: number): Timer | undefined {
    const top = this.order.front();
    if (top === undefined || top.timestamp > time) return undefined;
    this.order.take();
    const index = this.indexOf(top.namespace, top.keyGroup)!;
    // With no key of more than one timer, the key's entry is this timer: it stays, ended
    // (a later add replaces it), so firing does no Map lookup or deletion.
    if (index.multi === 0) index.stale++;
    else {
      const id = keyId(top.key);
      const entry = index.byKey.get(id)!;
      if (entry === top) index.stale++;
      else {
        const timers = entry as Map<number, Timer>;
        timers.delete(top.timestamp);
        if (timers.size === 0) {
          index.byKey.delete(id);
          index.multi--;
        }
      }
    }
    this.end(top, index);
    if (index.live > 0 && index.stale >= COMPACT_AT && index.stale > 2 * index.live) index.compact();
    return top;
  }

  /**
   * The timers as they are now (plain array copies: fast even for millions of timers), and
   * the epoch they belong to; later epochs begin. Timers that end afterwards are stamped
   * with a later epoch, so the copy still tells which were pending at capture.
   */
  capture(): CapturedQueue {
    return {
      heap: this.order.toArray(),
      epoch: this.epoch++,
      added: this.added,
      addedLength: this.added.length,
      ended: this.ended,
      endedLength: this.ended.length,
    };
  }
}

/**
 * What a keyed operator needs of its timers: the engine's in-memory
 * {@link InternalTimerService}, or a service that keeps them elsewhere (a Durable Object's
 * storage, `eddy/cloudflare`).
 */
export interface OperatorTimers {
  /** The last watermark processed. */
  watermark: number;
  /** Registers a timer unless one exists for the same key, namespace and timestamp; true when added. */
  register(domain: TimeDomain, key: Key, keyGroup: number, timestamp: number, namespace?: string): boolean;
  /** Deletes the timer of `key` (in `keyGroup`, as registered) at `timestamp` in `namespace`, if there is one. */
  delete(domain: TimeDomain, key: Key, keyGroup: number, timestamp: number, namespace?: string): void;
  /** The next processing-time timer's timestamp, to schedule a wake-up. */
  nextProcessingTime(): number | undefined;
  /** Removes and returns the next timer due at `time` in `domain`. */
  pollDue(domain: TimeDomain, time: number): Timer | undefined;
  /** The pending timers of `key` by domain, ascending (a state query). */
  timersOf(key: Key, keyGroup: number): { eventTime: number[]; processingTime: number[] };
  /**
   * The namespaces other than `''` in which `key` has a pending timer, in either domain (a
   * state query finds a window operator's windows in flight by them). Optional: a service
   * without it leaves namespaced state out of a query.
   */
  namespacesOf?(key: Key): string[];
  /** Number of pending timers per domain. */
  size(domain: TimeDomain): number;
  /** The pending timers by key group, encoded whole. */
  snapshot(): Promise<Map<number, Uint8Array>>;
  /** Captures the timers for a checkpoint, to be encoded in full or as a delta. */
  capture(checkpointId: number | undefined, incremental: boolean): CapturedTimers;
  /** A checkpoint completed: later deltas may build on it. */
  notifyCheckpointComplete(checkpointId: number): void;
  /** Adds the timers of every key group of `snapshot` that this subtask owns. */
  restore(snapshot: ReadonlyMap<number, Uint8Array>): void;
}

/** Timers of one keyed operator subtask, in both time domains. */
export class InternalTimerService implements OperatorTimers {
  private readonly eventTime: TimerQueue;
  private readonly processingTime: TimerQueue;
  private seq = 0;
  /** Which completed checkpoint a delta may build on (the same bookkeeping as the keyed backends'). */
  private readonly epochs = new DeltaEpochs();
  /** The epoch of `epochs.base`'s capture. */
  private baseEpoch = -1;
  /** The last watermark processed. */
  watermark = -Infinity;

  constructor(private readonly keyGroupRange: KeyGroupRange) {
    this.eventTime = new TimerQueue(keyGroupRange, 'EVENT_TIME');
    this.processingTime = new TimerQueue(keyGroupRange, 'PROCESSING_TIME');
  }

  /** Registers a timer unless one exists for the same key, namespace and timestamp; true when added. */
  register(domain: TimeDomain, key: Key, keyGroup: number, timestamp: number, namespace = ''): boolean {
    if (!this.queue(domain).add(key, keyId(key), keyGroup, timestamp, namespace, this.seq)) return false;
    this.seq++;
    return true;
  }

  delete(domain: TimeDomain, key: Key, keyGroup: number, timestamp: number, namespace = ''): void {
    this.queue(domain).delete(keyId(key), keyGroup, timestamp, namespace);
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
  timersOf(key: Key, keyGroup: number): { eventTime: number[]; processingTime: number[] } {
    const id = keyId(key);
    return { eventTime: this.eventTime.timestampsOf(id, keyGroup), processingTime: this.processingTime.timestampsOf(id, keyGroup) };
  }

  namespacesOf(key: Key): string[] {
    const id = keyId(key);
    const found = new Set<string>();
    this.eventTime.namespacesOf(id, found);
    this.processingTime.namespacesOf(id, found);
    return [...found];
  }

  /** Number of pending timers per domain. */
  size(domain: TimeDomain): number {
    return this.queue(domain).size;
  }

  private queue(domain: TimeDomain): TimerQueue {
    return domain === 'EVENT_TIME' ? this.eventTime : this.processingTime;
  }

  /**
   * The pending timers by key group (format: `timer-snapshots.ts`), sorted for
   * deterministic bytes. What is pending is captured synchronously, inside this call (two
   * array copies); the encoding runs in slices afterwards, while records and timers go on.
   */
  snapshot(): Promise<Map<number, Uint8Array>> {
    return this.capture(undefined, false).full();
  }

  /**
   * Captures the timers for checkpoint `checkpointId`, as {@link snapshot} does. With
   * `incremental`, changes are tracked from now on, and once a checkpoint has completed
   * (`notifyCheckpointComplete`) the capture can also be encoded as a delta over it.
   * Either encoding may be asked for, so the caller can match the keyed state's choice.
   */
  capture(checkpointId: number | undefined, incremental: boolean): CapturedTimers {
    const delta = this.epochs.begin(checkpointId, incremental);
    const baseCheckpointId = delta ? this.epochs.base : undefined;
    const baseEpoch = this.baseEpoch;
    if (this.epochs.tracking) this.eventTime.tracking = this.processingTime.tracking = true;
    const captured = [this.eventTime.capture(), this.processingTime.capture()];
    return {
      baseCheckpointId,
      full: () => encodeFullTimers(captured),
      delta: () => {
        if (baseCheckpointId === undefined) throw new Error('eddy internal: no completed checkpoint for a timer delta to build on');
        return encodeTimerDelta(captured, baseEpoch, baseCheckpointId);
      },
    };
  }

  /** A checkpoint completed: later deltas may build on it, and older changes are forgotten. */
  notifyCheckpointComplete(checkpointId: number): void {
    const epoch = this.epochs.complete(checkpointId);
    if (epoch === undefined) return;
    this.baseEpoch = epoch;
    this.eventTime.forgetUpTo(epoch);
    this.processingTime.forgetUpTo(epoch);
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

/** The timers of one subtask captured for a checkpoint, to be encoded in full or as a delta. */
export interface CapturedTimers {
  /** The completed checkpoint a delta would build on; undefined when only `full` may be asked for. */
  readonly baseCheckpointId: number | undefined;
  /** All timers pending at the capture, by key group. */
  full(): Promise<Map<number, Uint8Array>>;
  /** The changes since `baseCheckpointId` up to the capture. */
  delta(): Promise<TimerDelta>;
}
