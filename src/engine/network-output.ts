/**
 * The sending side of a non-chained edge: partitions each output batch over the
 * consumer's subtasks (forward, round-robin, or by key group after `keyBy`) and puts
 * the parts on their channels. Keyed batches carry their keys and key groups along so
 * the consumer does not compute them again.
 */
import { EddyError, InvalidKeyError, UserFunctionError } from '../api/errors.ts';
import type { Partitioning } from './graph.ts';
import { asciiStringKeyGroup, keyGroupForKey, subtaskForKeyGroup } from '../format/key-groups.ts';
import { keyProblem, type Key } from '../format/key-bytes.ts';
import type { RecordBatch } from './operators/operator.ts';
import type { BackPressureMeter } from './metrics.ts';
import type { StreamElement } from './input-gate.ts';

/**
 * Where a channel's elements go: an {@link InputGate} in this thread, or the sending end
 * of a channel to a task in another worker. `put` resolves once the element may be
 * followed by the next (back-pressure).
 */
export interface ChannelSink {
  put(channel: number, element: StreamElement): Promise<void>;
  /** True when a `put` of a record batch on `channel` would not wait (then no back-pressure is measured). */
  hasRoom?(channel: number): boolean;
}

/** A consumer subtask's gate (or remote endpoint) and the channel index this producer writes to. */
export interface ChannelTarget {
  readonly gate: ChannelSink;
  readonly channel: number;
}

export class NetworkOutput {
  private nextTarget: number;
  /** The producing task's meter of time waited for room (set by the executor). */
  backPressure: BackPressureMeter | undefined;

  constructor(
    private readonly partitioning: Partitioning,
    /** One per consumer subtask, by subtask index (a single one for forward edges). */
    private readonly targets: readonly ChannelTarget[],
    private readonly maxParallelism: number,
    /** The consuming operator's name, for errors of the key selector. */
    private readonly consumerName: string,
    producerIndex: number,
  ) {
    this.nextTarget = producerIndex % targets.length;
  }

  emitRecords(batch: RecordBatch): Promise<void> {
    const p = this.partitioning;
    if (p.type === 'hash') return this.hash(batch, p.keySelector);
    // Consumers only read a batch, so every subtask may get the same one.
    if (p.type === 'broadcast') return this.broadcast({ kind: 'records', batch });
    if (this.targets.length === 1) return this.send(0, { kind: 'records', batch });
    return this.rebalance(batch);
  }

  async emitWatermark(timestamp: number): Promise<void> {
    await this.broadcast({ kind: 'watermark', timestamp });
  }

  async emitIdleness(idle: boolean): Promise<void> {
    await this.broadcast({ kind: 'idleness', idle });
  }

  async emitBarrier(checkpointId: number, timestamp: number, incremental: boolean): Promise<void> {
    await this.broadcast({ kind: 'barrier', checkpointId, timestamp, incremental });
  }

  async end(): Promise<void> {
    await this.broadcast({ kind: 'end' });
  }

  private async broadcast(element: StreamElement): Promise<void> {
    for (let i = 0; i < this.targets.length; i++) await this.send(i, element);
  }

  private send(target: number, element: StreamElement): Promise<void> {
    const t = this.targets[target];
    const put = t.gate.put(t.channel, element);
    if (this.backPressure === undefined || t.gate.hasRoom?.(t.channel) === true) return put;
    return this.backPressure.measure(put);
  }

  private async rebalance(batch: RecordBatch): Promise<void> {
    const n = this.targets.length;
    const parts = Array.from({ length: n }, () => ({ values: [] as unknown[], timestamps: batch.timestamps ? ([] as number[]) : undefined }));
    for (let i = 0; i < batch.values.length; i++) {
      const p = parts[this.nextTarget];
      this.nextTarget = this.nextTarget + 1 === n ? 0 : this.nextTarget + 1;
      p.values.push(batch.values[i]);
      p.timestamps?.push(batch.timestamps![i]);
    }
    for (let t = 0; t < n; t++) if (parts[t].values.length > 0) await this.send(t, { kind: 'records', batch: parts[t] });
  }

  private async hash(batch: RecordBatch, selector: (value: unknown) => Key): Promise<void> {
    const n = this.targets.length;
    const { values, timestamps } = batch;
    const keys: Key[] = new Array(values.length);
    // A plain array, not a Uint16Array: constructing a typed array cost ~3-4 µs per batch,
    // more than the six bytes per record it saved.
    const keyGroups: number[] = new Array(values.length);
    const cache = this.keyGroupCache;
    const maxP = this.maxParallelism;
    let i = 0;
    try {
      for (; i < values.length; i++) {
        let key = selector(values[i]);
        if (typeof key === 'string') {
          // Hashing an ASCII string is cheaper than a cache lookup, which misses the CPU cache once there are many keys.
          const keyGroup = asciiStringKeyGroup(key, maxP);
          if (keyGroup >= 0) {
            keyGroups[i] = keyGroup;
            keys[i] = key;
            continue;
          }
        }
        const cached = typeof key === 'string' || typeof key === 'number' ? cache.get(key) : undefined;
        if (cached !== undefined) {
          // The first instance of an equal key: state maps then compare it by pointer.
          key = cached.key;
          keyGroups[i] = cached.keyGroup;
        } else keyGroups[i] = this.keyGroupOf(key);
        keys[i] = key;
      }
    } catch (e) {
      if (e instanceof EddyError) throw e;
      throw new UserFunctionError(`the keyBy key selector threw: ${e instanceof Error ? e.message : String(e)}`, { operator: this.consumerName }, e);
    }
    // One consumer takes the batch as it is; several get it split by their key-group ranges.
    if (n === 1) return this.send(0, { kind: 'records', batch: { values, timestamps, keys, keyGroups } });
    const parts = Array.from({ length: n }, () => ({
      values: [] as unknown[],
      timestamps: timestamps ? ([] as number[]) : undefined,
      keys: [] as Key[],
      keyGroups: [] as number[],
    }));
    for (let j = 0; j < values.length; j++) {
      const p = parts[subtaskForKeyGroup(maxP, n, keyGroups[j])];
      p.keyGroups.push(keyGroups[j]);
      p.values.push(values[j]);
      p.keys.push(keys[j]);
      if (timestamps !== undefined) p.timestamps!.push(timestamps[j]);
    }
    for (let t = 0; t < n; t++) if (parts[t].values.length > 0) await this.send(t, { kind: 'records', batch: parts[t] });
  }

  /** Key groups of recent number and non-ASCII string keys: hashing those costs more than a lookup. */
  private readonly keyGroupCache = new Map<unknown, { key: Key; keyGroup: number }>();

  /** Checks and hashes a key the cache does not know. */
  private keyGroupOf(key: Key): number {
    // Finite numbers cannot be wrong; everything else (even a string: lone surrogates) is checked.
    if (typeof key !== 'number' || !Number.isFinite(key)) {
      const problem = keyProblem(key);
      if (problem !== undefined) {
        throw new InvalidKeyError(`the keyBy key selector returned an invalid key: ${problem}`, { component: 'keyBy', operator: this.consumerName });
      }
    }
    const keyGroup = keyGroupForKey(key, this.maxParallelism);
    if (typeof key === 'string' || typeof key === 'number') {
      if (this.keyGroupCache.size >= 65_536) this.keyGroupCache.clear();
      this.keyGroupCache.set(key, { key, keyGroup });
    }
    return keyGroup;
  }
}
