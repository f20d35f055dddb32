/**
 * Dedicated worker of the `sqlite-opfs` bench (opfs-sahpool needs sync access handles,
 * which only dedicated workers have). Two requests:
 *
 * - `count`: the keyed-count job (`fromCollection` → `keyBy` → per-key counter in
 *   ValueState, one `[key, count]` per key at the end) on SqliteStateBackend with the
 *   given VFS, backend flushed before it is disposed; returns ms per run (after 1 warm-up).
 * - `large`: `keys` keys of ValueState<{ count, last, tag }> written straight through the
 *   backend API on opfs-sahpool (as a keyed operator does), a sample read back, the row
 *   count checked; returns timings, the database file's size and, where the worker has
 *   `performance.memory` (Chromium gives it to pages only), the heap high-water mark.
 */
import { ValueStateDescriptor } from '../../src/api/descriptors.ts';
import { SqliteStateBackend, type SqliteKeyedStateBackend } from '../../src/backends/sqlite/index.ts';
import { keyGroupForKey, keyGroupRangeForSubtask } from '../../src/format/key-groups.ts';
import { StreamExecutionEnvironment, type StateBackend } from '../../src/index.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import { Counter } from '../engine-count.ts';

const POOL = '.eddy-bench-sqlite';

/** Chromium's non-standard heap figures (exact with --enable-precise-memory-info). */
function heapUsed(): number {
  const m = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
  return m ? m.usedJSHeapSize : Number.NaN;
}

function heapLimit(): number {
  const m = (performance as unknown as { memory?: { jsHeapSizeLimit: number } }).memory;
  return m ? m.jsHeapSizeLimit : Number.NaN;
}

/** Flushes the write-behind cache before disposal, so every count ends up in SQLite. */
function flushed(backend: StateBackend): StateBackend {
  return {
    name: backend.name,
    async createKeyedStateBackend(options) {
      const keyed = await backend.createKeyedStateBackend(options);
      const dispose = keyed.dispose.bind(keyed);
      keyed.dispose = async () => {
        await keyed.flush?.();
        await dispose();
      };
      return keyed;
    },
  };
}

async function countOnce(vfs: 'memory' | 'opfs-sahpool', events: number, keys: number): Promise<number> {
  const evs = Array.from({ length: events }, (_, i) => ({ k: `k${i % keys}` }));
  const backend = new SqliteStateBackend({ vfs, poolDirectory: POOL, removeOnDispose: true });
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1).setStateBackend(flushed(backend));
  const t0 = performance.now();
  const out = (await env
    .fromCollection(evs)
    .keyBy((e) => e.k)
    .process(new Counter())
    .executeAndCollect(`sqlite-opfs-${vfs}`)) as [string, number][];
  const ms = performance.now() - t0;
  if (backend.vfs !== vfs) throw new Error(`asked for ${vfs}, got ${backend.vfs}`);
  if (out.length !== keys || out.some(([, c]) => c !== events / keys)) throw new Error(`${vfs}: wrong counts (${out.length} keys)`);
  return ms;
}

async function count(c: { events: number; keys: number; runs: number }): Promise<Record<'memory' | 'opfs', number[]>> {
  await countOnce('opfs-sahpool', c.events, c.keys);
  await countOnce('memory', c.events, c.keys);
  const ms = { memory: [] as number[], opfs: [] as number[] };
  for (let r = 0; r < c.runs; r++) {
    ms.opfs.push(await countOnce('opfs-sahpool', c.events, c.keys));
    ms.memory.push(await countOnce('memory', c.events, c.keys));
  }
  return ms;
}

/** The pool keeps its files under opaque names (in a subdirectory): the largest is the database. */
async function largestFile(dir: FileSystemDirectoryHandle): Promise<number> {
  let max = 0;
  for await (const h of (dir as unknown as { values(): AsyncIterable<FileSystemHandle> }).values()) {
    const size = h.kind === 'file' ? (await (h as FileSystemFileHandle).getFile()).size : await largestFile(h as FileSystemDirectoryHandle);
    max = Math.max(max, size);
  }
  return max;
}

async function large(c: { keys: number }) {
  const backend = new SqliteStateBackend({ vfs: 'opfs-sahpool', poolDirectory: POOL, removeOnDispose: true });
  const kb = (await backend.createKeyedStateBackend({
    jobId: `large-${Date.now().toString(36)}`,
    operatorId: 'op',
    operatorName: 'Bench (1/1)',
    subtaskIndex: 0,
    parallelism: 1,
    maxParallelism: 128,
    keyGroupRange: keyGroupRangeForSubtask(128, 1, 0),
  })) as SqliteKeyedStateBackend;
  const store = new KeyedStateStore(kb, 'Bench (1/1)');
  const state = store.getState(new ValueStateDescriptor<{ count: number; last: number; tag: string }>('v'));
  let heapHighWater = heapUsed();
  const t0 = performance.now();
  for (let i = 0; i < c.keys; i++) {
    const key = `key-${i}`;
    kb.setCurrentKey(key, keyGroupForKey(key, 128));
    const old = await state.value();
    // ~60 bytes of payload per key, so the state is many times the heap it runs in.
    await state.update({ count: (old?.count ?? 0) + 1, last: i, tag: `tag-${i}-${'x'.repeat(48)}` });
    if ((i + 1) % 100_000 === 0) {
      heapHighWater = Math.max(heapHighWater, heapUsed());
      // Progress for the runner's console (a 2M-key run takes many minutes on a busy machine).
      console.info(`sqlite-opfs: ${i + 1} keys, ${Math.round(performance.now() - t0)} ms`);
    }
  }
  await kb.flush();
  const writeMs = performance.now() - t0;
  let checked = 0;
  for (let i = 0; i < c.keys; i += 100_003) {
    for (const j of [i, c.keys - 1 - i]) {
      const key = `key-${j}`;
      kb.setCurrentKey(key, keyGroupForKey(key, 128));
      const v = await state.value();
      if (v?.count !== 1 || v.last !== j) throw new Error(`key ${key} read back ${JSON.stringify(v)}`);
      checked++;
    }
  }
  const stats = kb.stats();
  if (stats.rows !== c.keys) throw new Error(`expected ${c.keys} rows, found ${stats.rows}`);
  const fileBytes = await largestFile(await (await navigator.storage.getDirectory()).getDirectoryHandle(POOL));
  const wasmBytes = await backend.wasmMemoryBytes();
  heapHighWater = Math.max(heapHighWater, heapUsed());
  await kb.dispose();
  return { keys: c.keys, writeMs, checked, rows: stats.rows, fileBytes, wasmBytes, heapHighWater, heapLimit: heapLimit() };
}

self.onmessage = async (e: MessageEvent<{ op: 'count' | 'large'; config: never }>) => {
  try {
    const result = e.data.op === 'count' ? await count(e.data.config) : await large(e.data.config);
    self.postMessage({ result });
  } catch (error) {
    self.postMessage({ error: String(error instanceof Error ? error.stack : error) });
  }
};
