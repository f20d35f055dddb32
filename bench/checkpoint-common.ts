/**
 * Helpers shared by the checkpoint benches (checkpoint-pause, checkpoint-incremental,
 * recovery): a keyed in-memory backend filled directly through the backend API (as
 * state-memory does), and a checkpoint storage wrapper that counts what a job writes.
 */
import { HashMapStateBackend, ValueStateDescriptor, keyGroupForKey, keyGroupRangeForSubtask, type CheckpointStorage, type KeyedStateBackend, type StorageLock, type ValueState } from '../src/index.ts';
import { KeyedStateStore } from '../src/core/state/keyed-state-store.ts';
import { decodeManifest, type Manifest } from '../src/core/checkpoint/format.ts';
import { MANIFEST_NAME } from '../src/core/checkpoint/restore.ts';

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

/** A deterministic PRNG (mulberry32), so that "random keys" are the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
