/**
 * Helpers shared by the checkpoint benches (checkpoint-pause, checkpoint-incremental,
 * recovery): a keyed in-memory backend filled directly through the backend API (as
 * state-memory does), a checkpoint storage wrapper that counts what a job writes, and a
 * job kit (SumFn, phasedSource) for benches that need a checkpoint holding exactly a
 * known state.
 */
import {
  HashMapStateBackend,
  KeyedProcessFunction,
  ValueStateDescriptor,
  keyGroupForKey,
  keyGroupRangeForSubtask,
  type CheckpointStorage,
  type Collector,
  type KeyedProcessContext,
  type KeyedStateBackend,
  type RuntimeContext,
  type Source,
  type StorageLock,
  type ValueState,
} from '../src/index.ts';
import { KeyedStateStore } from '../src/state/keyed-state-store.ts';
import { decodeManifest, type Manifest } from '../src/format/checkpoint-format.ts';
import { MANIFEST_NAME } from '../src/format/checkpoint-storage.ts';
import { prng } from './common.ts';

export const MAX_PARALLELISM = 128;

/** `count` key strings 'k0'..'k{count-1}' and their key groups (allocated once, outside any timing). */
export function makeKeys(count: number): { keys: string[]; keyGroups: Uint16Array } {
  const keys: string[] = new Array(count);
  const keyGroups = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    keys[i] = 'k' + i;
    keyGroups[i] = keyGroupForKey(keys[i]!, MAX_PARALLELISM);
  }
  return { keys, keyGroups };
}

/** A keyed HashMapStateBackend of subtask 0 of 1, with one ValueState<number> named 'count'. */
export function newCountBackend(name: string): { backend: KeyedStateBackend; state: ValueState<number> } {
  const backend = new HashMapStateBackend().createKeyedStateBackend({
    jobId: `bench-${name}`,
    operatorId: 'op',
    operatorName: `${name} (1/1)`,
    subtaskIndex: 0,
    parallelism: 1,
    maxParallelism: MAX_PARALLELISM,
    keyGroupRange: keyGroupRangeForSubtask(MAX_PARALLELISM, 1, 0),
  }) as KeyedStateBackend;
  const store = new KeyedStateStore(backend, `${name} (1/1)`);
  const state = store.getState(new ValueStateDescriptor<number>('count'));
  return { backend, state };
}

/** `state.update(value(i))` for every key index in `indices` (all keys when absent). */
export async function writeKeys(
  backend: KeyedStateBackend,
  state: ValueState<number>,
  keys: readonly string[],
  keyGroups: Uint16Array,
  value: (i: number) => number,
  indices?: ArrayLike<number>,
): Promise<void> {
  const n = indices ? indices.length : keys.length;
  for (let j = 0; j < n; j++) {
    const i = indices ? indices[j]! : j;
    backend.setCurrentKey(keys[i]!, keyGroups[i]!);
    await state.update(value(i));
  }
  backend.clearCurrentKey();
}

/** Throws unless the keys at `indices` hold `value(i)`. */
export async function checkKeys(
  backend: KeyedStateBackend,
  state: ValueState<number>,
  keys: readonly string[],
  keyGroups: Uint16Array,
  value: (i: number) => number,
  indices: readonly number[],
  who: string,
): Promise<void> {
  for (const i of indices) {
    backend.setCurrentKey(keys[i]!, keyGroups[i]!);
    const v = await state.value();
    if (v !== value(i)) throw new Error(`${who}: key ${keys[i]} holds ${v}, expected ${value(i)}`);
  }
  backend.clearCurrentKey();
}

/** `count` distinct indices in [0, n), chosen at random (partial Fisher–Yates over a seeded PRNG). */
export function sampleDistinct(n: number, count: number, seed: number): Uint32Array {
  const rnd = prng(seed);
  const pool = new Uint32Array(n);
  for (let i = 0; i < n; i++) pool[i] = i;
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rnd() * (n - i));
    const t = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = t;
  }
  return pool.slice(0, count);
}

/** A completed checkpoint (or savepoint) as a counting storage saw it. */
export interface SeenCheckpoint {
  dir: string;
  manifest: Manifest;
  /** Bytes of the part files put into this checkpoint's directory. */
  partBytes: number;
  /** Whether any subtask's chain has more than one part (i.e. this checkpoint wrote a delta). */
  incremental: boolean;
  /** performance.now() when the manifest was put. */
  at: number;
}

/**
 * Wraps a storage and watches what the coordinator writes: part bytes per checkpoint
 * directory, and each committed manifest (`…/_metadata`), decoded. Everything is passed
 * through unchanged.
 */
export class CountingStorage implements CheckpointStorage {
  readonly name: string;
  /** Completed checkpoints and savepoints, in commit order. */
  readonly completed: SeenCheckpoint[] = [];
  private readonly partBytesByDir = new Map<string, number>();

  constructor(private readonly inner: CheckpointStorage) {
    this.name = `counting(${inner.name})`;
  }

  /** Completed periodic checkpoints (savepoints excluded). */
  get checkpoints(): SeenCheckpoint[] {
    return this.completed.filter((c) => !c.manifest.savepoint);
  }

  lock(scope: string): Promise<StorageLock> {
    return this.inner.lock(scope);
  }

  async put(path: string, data: Uint8Array): Promise<void> {
    await this.inner.put(path, data);
    const slash = path.lastIndexOf('/');
    const dir = path.slice(0, slash);
    if (path.slice(slash + 1) === MANIFEST_NAME) {
      const manifest = decodeManifest(data, path);
      const incremental = manifest.operators.some((o) => o.parts.some((chain) => (chain?.length ?? 0) > 1));
      this.completed.push({ dir, manifest, partBytes: this.partBytesByDir.get(dir) ?? 0, incremental, at: performance.now() });
    } else {
      this.partBytesByDir.set(dir, (this.partBytesByDir.get(dir) ?? 0) + data.length);
    }
  }

  get(path: string): Promise<Uint8Array | undefined> {
    return this.inner.get(path);
  }

  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }

  delete(path: string): Promise<void> {
    return this.inner.delete(path);
  }
}

/** An event of the checkpoint-incremental and recovery jobs: add `v` to key `k`'s sum. */
export interface SumEv {
  k: string;
  v: number;
  /** Probes (recovery) ask for the key's sum to be emitted; nothing else is emitted. */
  probe?: boolean;
}

/**
 * Keeps a per-key sum in ValueState<number> named 'count' — the same name as
 * {@link newCountBackend}'s state, so a snapshot of this job restores into that backend
 * for verification. With `timers`, every key also registers an event-time timer on its
 * first event (as keyed-count's Counter does) that emits nothing: it only makes the
 * operator's checkpoint carry one timer per key.
 */
export class SumFn extends KeyedProcessFunction<string, SumEv, [string, number]> {
  private sum!: ValueState<number>;

  constructor(private readonly timers = false) {
    super();
  }

  override open(ctx: RuntimeContext): void {
    this.sum = ctx.getState(new ValueStateDescriptor<number>('count'));
  }

  async processElement(e: SumEv, ctx: KeyedProcessContext<string>, out: Collector<[string, number]>): Promise<void> {
    const old = await this.sum.value();
    if (old === undefined && this.timers) ctx.timerService().registerEventTimeTimer(Number.MAX_SAFE_INTEGER - 1);
    const next = (old ?? 0) + e.v;
    await this.sum.update(next);
    if (e.probe) out.collect([e.k, next]);
  }
}

/** One phase of a {@link phasedSource}. */
export interface Phase<T> {
  readonly records: readonly T[];
  /**
   * After the phase's last record, the source stays idle until this returns true. It is
   * given the completed periodic checkpoints that were triggered after that record, i.e.
   * whose state includes the whole phase.
   */
  readonly until: (after: readonly SeenCheckpoint[]) => boolean;
}

/**
 * A bounded source (parallelism 1) that emits its phases one after another and, after
 * each, idles until the phase's `until` holds — so a bench can wait for a checkpoint
 * that holds exactly "all of phase 1" before phase 2 changes anything. It idles by
 * returning empty polls (a poll that awaits would keep the source task from taking the
 * checkpoint it waits for).
 *
 * Which checkpoints came after a phase is told by counting `snapshotSplits` calls: with
 * a fresh storage and job, checkpoint ids are 1, 2, … and each trigger snapshots this
 * reader once, so the n-th call is checkpoint n. `checkOrdinals` verifies that afterwards.
 * It is replayable only so that the job does not warn; it is never restored.
 */
export function phasedSource<T>(phases: readonly Phase<T>[], storage: CountingStorage): Source<T> {
  return {
    boundedness: 'bounded',
    maxParallelism: 1,
    replayable: true,
    createReader() {
      let phase = 0;
      let next = 0;
      let snapshots = 0;
      /** Snapshot calls made before the current phase's last record went out; set once it did. */
      let endedAt: number | undefined;
      return {
        async poll(max: number) {
          if (phase >= phases.length) return null;
          const p = phases[phase]!;
          if (endedAt === undefined) {
            const batch = p.records.slice(next, next + max);
            next += batch.length;
            if (next >= p.records.length) endedAt = snapshots;
            if (batch.length > 0) return batch;
          }
          if (p.until(storage.checkpoints.slice(endedAt))) {
            phase++;
            next = 0;
            endedAt = undefined;
            return [];
          }
          await new Promise((resolve) => setTimeout(resolve, 2));
          return [];
        },
        snapshotSplits() {
          snapshots++;
          return phase >= phases.length ? [] : [{ phase, next }];
        },
        restoreSplits() {
          throw new Error('phasedSource is never restored');
        },
      };
    },
  };
}

/**
 * Throws unless the storage saw periodic checkpoints 1, 2, … in order (what phasedSource
 * relies on), up to `upTo` if given: checkpoints after the last one a phase waited for
 * do not matter (one in flight when the source ends is aborted, and the job's final
 * checkpoint takes the next id).
 */
export function checkOrdinals(storage: CountingStorage, who: string, upTo?: SeenCheckpoint): void {
  const all = storage.checkpoints;
  const end = upTo === undefined ? all.length : all.indexOf(upTo) + 1;
  all.slice(0, end).forEach((c, i) => {
    if (c.manifest.checkpointId !== i + 1)
      throw new Error(`${who}: completed checkpoint #${i + 1} has id ${c.manifest.checkpointId}; phasedSource's count of checkpoints is off`);
  });
}
