/**
 * The child process of sqlite-larger-than-memory (run with `--max-old-space-size=256`):
 * writes KEYS keys of ValueState<{ count, last }> through SqliteStateBackend (in-memory
 * database: the rows live in WASM memory, outside the V8 heap the flag limits), straight
 * through the backend API (`setCurrentKey` + `value()` + `update()` per key, as a keyed
 * operator does), then reads a sample back and prints one JSON line of measurements.
 */
import { ValueStateDescriptor } from '../src/api/descriptors.ts';
import { SqliteStateBackend, type SqliteKeyedStateBackend } from '../src/backends/sqlite/index.ts';
import { keyGroupForKey, keyGroupRangeForSubtask } from '../src/format/key-groups.ts';
import { KeyedStateStore } from '../src/state/keyed-state-store.ts';

const KEYS = Number(process.argv[2] ?? 10_000_000);
const STEP = 1_000_000;

const backend = new SqliteStateBackend({ vfs: 'memory' });
const kb = (await backend.createKeyedStateBackend({
  jobId: 'larger-than-memory',
  operatorId: 'op',
  operatorName: 'Bench (1/1)',
  subtaskIndex: 0,
  parallelism: 1,
  maxParallelism: 128,
  keyGroupRange: keyGroupRangeForSubtask(128, 1, 0),
})) as SqliteKeyedStateBackend;
const store = new KeyedStateStore(kb, 'Bench (1/1)');
const state = store.getState(new ValueStateDescriptor<{ count: number; last: number }>('count'));

let heapHighWater = 0;
const sampleHeap = () => (heapHighWater = Math.max(heapHighWater, process.memoryUsage().heapUsed));
/** Seconds per million keys, per million. */
const perMillion: number[] = [];
let t0 = performance.now();
const start = t0;
for (let i = 0; i < KEYS; i++) {
  const key = `key-${i}`;
  kb.setCurrentKey(key, keyGroupForKey(key, 128));
  const old = await state.value();
  await state.update({ count: (old?.count ?? 0) + 1, last: i });
  if ((i + 1) % 100_000 === 0) sampleHeap();
  if ((i + 1) % STEP === 0) {
    const now = performance.now();
    perMillion.push((now - t0) / 1000);
    t0 = now;
  }
}
await kb.flush();
const writeSeconds = (performance.now() - start) / 1000;
sampleHeap();
// Read a sample back: the first, the last and every 100,003rd key.
let checked = 0;
for (let i = 0; i < KEYS; i += 100_003) {
  for (const j of [i, KEYS - 1 - i]) {
    const key = `key-${j}`;
    kb.setCurrentKey(key, keyGroupForKey(key, 128));
    const v = await state.value();
    if (v?.count !== 1 || v.last !== j) throw new Error(`key ${key} read back ${JSON.stringify(v)}`);
    checked++;
  }
}
const stats = kb.stats();
if (stats.rows !== KEYS) throw new Error(`expected ${KEYS} rows, found ${stats.rows}`);
const wasmBytes = await backend.wasmMemoryBytes();
sampleHeap();
await kb.dispose();
console.log(
  JSON.stringify({
    keys: KEYS,
    writeSeconds,
    perMillionSeconds: perMillion,
    heapHighWaterBytes: heapHighWater,
    wasmMemoryBytes: wasmBytes,
    rows: stats.rows,
    checked,
  }),
);
