/**
 * state-memory: heap bytes per key of ValueState<number> in the HashMapStateBackend for
 * 1,000,000 keys, filled directly through the backend API (createKeyedStateBackend +
 * KeyedStateStore, setCurrentKey/update per key; no job), vs. a plain Map<string, number>
 * with the same keys and values.
 *
 * The key strings ('k' + i, as in keyed-count) are allocated once before either side is
 * measured and stay alive throughout, so neither figure includes the strings themselves
 * (both sides store references to the same strings); `keyStringBytesPerKey` says what
 * they cost on their own.
 */
import { HashMapStateBackend, ValueStateDescriptor, keyGroupForKey, keyGroupRangeForSubtask } from '../src/index.ts';
import { KeyedStateStore } from '../src/state/keyed-state-store.ts';
import { gc, hasGc, median, report, round } from './common.ts';

const KEYS = 1_000_000;
const MAX_PARALLELISM = 128;
const FLOOR = 250;

function heap(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

/** Bytes per key of the backend's state; the backend is dropped afterwards. */
async function measureBackend(keys: readonly string[], keyGroups: Uint16Array): Promise<number> {
  const before = heap();
  const backend = await new HashMapStateBackend().createKeyedStateBackend({
    jobId: 'bench-state-memory',
    operatorId: 'op',
    operatorName: 'state-memory (1/1)',
    subtaskIndex: 0,
    parallelism: 1,
    maxParallelism: MAX_PARALLELISM,
    keyGroupRange: keyGroupRangeForSubtask(MAX_PARALLELISM, 1, 0),
  });
  const store = new KeyedStateStore(backend, 'state-memory (1/1)');
  const state = store.getState(new ValueStateDescriptor<number>('count'));
  for (let i = 0; i < keys.length; i++) {
    backend.setCurrentKey(keys[i]!, keyGroups[i]!);
    await state.update(i);
  }
  backend.clearCurrentKey();
  const after = heap();
  // Sanity: the state is really there.
  backend.setCurrentKey(keys[12345]!, keyGroups[12345]!);
  if ((await state.value()) !== 12345) throw new Error('state-memory: backend lost a value');
  backend.clearCurrentKey();
  await backend.dispose();
  return (after - before) / keys.length;
}

/** Bytes per entry of Map<string, number> with the same keys and values. */
function measureMap(keys: readonly string[]): number {
  const before = heap();
  const m = new Map<string, number>();
  for (let i = 0; i < keys.length; i++) m.set(keys[i]!, i);
  const after = heap();
  if (m.get(keys[12345]!) !== 12345) throw new Error('state-memory: map lost a value');
  return (after - before) / keys.length;
}

export async function stateMemory(runs: number): Promise<void> {
  if (!hasGc()) console.error('[state-memory] warning: run with node --expose-gc (npm run bench) or the figures are meaningless');
  const beforeKeys = heap();
  const keys: string[] = new Array(KEYS);
  for (let i = 0; i < KEYS; i++) keys[i] = 'k' + i;
  const keyStringBytesPerKey = (heap() - beforeKeys) / KEYS; // includes the 8-byte array slot
  const keyGroups = new Uint16Array(KEYS);
  for (let i = 0; i < KEYS; i++) keyGroups[i] = keyGroupForKey(keys[i]!, MAX_PARALLELISM);

  // Warm-up of both sides (also lets lazily-allocated module state settle), then interleaved runs.
  await measureBackend(keys, keyGroups);
  measureMap(keys);
  const backendRuns: number[] = [];
  const mapRuns: number[] = [];
  for (let r = 0; r < runs; r++) {
    backendRuns.push(await measureBackend(keys, keyGroups));
    mapRuns.push(measureMap(keys));
  }
  const bytesPerKey = median(backendRuns);
  const mapBytes = median(mapRuns);
  report({
    bench: 'state-memory',
    keys: KEYS,
    method:
      'direct backend API: HashMapStateBackend.createKeyedStateBackend + KeyedStateStore.getState(ValueStateDescriptor<number>), setCurrentKey/update per key; heapUsed after gc() before/after',
    keyStrings: "'k'+i, pre-allocated and alive on both sides (excluded from both figures)",
    stat: `median of ${runs} interleaved runs after 1 warm-up each`,
    bytesPerKey: round(bytesPerKey, 1),
    baselineBytesPerKey: round(mapBytes, 1),
    baseline: 'Map<string, number>, same keys and values',
    ratio: round(bytesPerKey / mapBytes, 3),
    keyStringBytesPerKey: round(keyStringBytesPerKey, 1),
    bytesPerKeyRuns: backendRuns.map((x) => round(x, 1)),
    baselineBytesPerKeyRuns: mapRuns.map((x) => round(x, 1)),
    floor: FLOOR,
    floorRule: 'bytesPerKey <= floor',
    pass: bytesPerKey <= FLOOR,
  });
}
