/**
 * checkpoint-pause-sqlite: checkpoint-pause (a) on SqliteStateBackend (`vfs: 'memory'`).
 * 1,000,000 keys of ValueState<number> are written through the backend API (the cache
 * then written back). Two lines:
 *
 * - `full`: each measured `snapshot({checkpointId})` is timed as a call (until it returns
 *   its Promise: cache write-back, commit and the frozen page copy of the database, see
 *   src/backends/sqlite/frozen-copy.ts) and until it resolves (the encoding of the copy,
 *   in 8 ms slices). A ticker chained on setTimeout(0) runs meanwhile and reports the
 *   longest gap between its turns: what a record waits at most while the encoding runs.
 * - `incremental`: after one completed incremental checkpoint (a full one, the base),
 *   each interval writes 10,000 distinct random keys (1 %) through the API, not flushed
 *   (they sit dirty in the write-behind cache, as they would in a job), then
 *   `snapshot({checkpointId, incremental: true})` is timed the same way and completed.
 *   The baseline is the full line's call in the same process.
 * - `incremental-map`, `incremental-list`: the incremental line on a fresh backend holding
 *   1,000,000 keys of MapState<string, number> (one user key each) or ListState<number>
 *   (one element each); per interval 10,000 keys (1 %) get `put('a', x)` (map) or
 *   `add(x)` (list), then the delta's call is timed the same way. These rows are written
 *   in place in SQLite (no cache), so what the call costs here is what it reads of them.
 */
import { SqliteStateBackend } from '../src/backends/sqlite/index.ts';
import { keyGroupRangeForSubtask } from '../src/format/key-groups.ts';
import type { KeyedStateBackend } from '../src/state/backend.ts';
import { KeyedStateStore } from '../src/state/keyed-state-store.ts';
import { readKeyGroup, type KeyedStateSnapshot } from '../src/format/snapshot-format.ts';
import { ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor } from '../src/index.ts';
import { gc, median, report, round } from './common.ts';
import { MAX_PARALLELISM, makeKeys, sampleDistinct, writeKeys } from './checkpoint-common.ts';

const KEYS = 1_000_000;
/** Keys changed per interval of the incremental line (1 %). */
const CHANGED = 10_000;
/** The hashmap line's floor (checkpoint-pause), for comparison. */
const PAUSE_FLOOR_MS = 20;
/** Issue 18's floor for an incremental snapshot's call at 1M keys, 1 % changed. */
const INCREMENTAL_FLOOR_MS = 10;

/** Measures the longest gap between setTimeout(0) turns until stopped. */
function ticker(): { stop(): number } {
  let last = performance.now();
  let maxGap = 0;
  let running = true;
  const tick = () => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    if (running) setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  return {
    stop: () => {
      running = false;
      return maxGap;
    },
  };
}

/** One timed snapshot: the call, until it resolves, the longest turn gap meanwhile. */
async function timedSnapshot(
  backend: KeyedStateBackend,
  options: { checkpointId: number; incremental?: boolean },
): Promise<{ snap: KeyedStateSnapshot; sync: number; syncCpu: number; total: number; gap: number }> {
  gc();
  const t = ticker();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const pending = backend.snapshot(options);
  const t1 = performance.now();
  const c1 = process.cpuUsage(c0);
  const snap = await pending;
  const t2 = performance.now();
  return { snap, sync: t1 - t0, syncCpu: (c1.user + c1.system) / 1000, total: t2 - t0, gap: t.stop() };
}

/** Entries of a snapshot's key groups, as `[key, value]`. */
function entriesOf(snap: KeyedStateSnapshot): Map<unknown, unknown> {
  const out = new Map<unknown, unknown>();
  for (const [, bytes] of snap.keyGroups) for (const e of readKeyGroup(bytes, snap.states)) if (e.shape === 'value') out.set(e.key, e.value);
  return out;
}

/** The timings of a line's measured snapshots. */
interface Timings {
  sync: number[];
  cpu: number[];
  total: number[];
  gaps: number[];
}

function newTimings(): Timings {
  return { sync: [], cpu: [], total: [], gaps: [] };
}

function record(t: Timings, m: { sync: number; syncCpu: number; total: number; gap: number }): void {
  t.sync.push(m.sync);
  t.cpu.push(m.syncCpu);
  t.total.push(m.total);
  t.gaps.push(m.gap);
}

/** A line's timing fields: medians and max, then every run. */
function timingFields(t: Timings) {
  const runs = (xs: readonly number[], digits: number) => xs.map((x) => round(x, digits));
  return {
    syncMs: round(median(t.sync), 2),
    syncMsMax: round(Math.max(...t.sync), 2),
    syncCpuMs: round(median(t.cpu), 2),
    syncCpuMsMax: round(Math.max(...t.cpu), 2),
    totalMs: round(median(t.total), 1),
    maxTurnGapMs: round(median(t.gaps), 1),
    syncMsRuns: runs(t.sync, 2),
    totalMsRuns: runs(t.total, 1),
    maxTurnGapMsRuns: runs(t.gaps, 1),
  };
}

/** An in-memory SQLite keyed backend of subtask 0 of 1. */
async function openBackend(): Promise<KeyedStateBackend> {
  return (await new SqliteStateBackend({ vfs: 'memory' }).createKeyedStateBackend({
    jobId: 'bench-checkpoint-pause-sqlite',
    operatorId: 'op',
    operatorName: 'checkpoint-pause-sqlite (1/1)',
    subtaskIndex: 0,
    parallelism: 1,
    maxParallelism: MAX_PARALLELISM,
    keyGroupRange: keyGroupRangeForSubtask(MAX_PARALLELISM, 1, 0),
  })) as KeyedStateBackend;
}

export async function checkpointPauseSqlite(runs: number): Promise<void> {
  const { keys, keyGroups } = makeKeys(KEYS);
  await valueLines(runs, keys, keyGroups);
  await collectionLine(runs, keys, keyGroups, 'map');
  await collectionLine(runs, keys, keyGroups, 'list');
}

/** The `full` and `incremental` lines (ValueState). */
async function valueLines(runs: number, keys: readonly string[], keyGroups: Uint16Array): Promise<void> {
  const backend = await openBackend();
  const state = new KeyedStateStore(backend, 'checkpoint-pause-sqlite (1/1)').getState(new ValueStateDescriptor<number>('count'));
  const f0 = performance.now();
  await writeKeys(backend, state, keys, keyGroups, (i) => i);
  await backend.flush!();
  const fillMs = performance.now() - f0;

  const full = newTimings();
  let checkpointId = 0;
  for (let r = 0; r <= runs; r++) {
    const { snap, ...m } = await timedSnapshot(backend, { checkpointId: ++checkpointId });
    if (r === 0) {
      const entries = entriesOf(snap).size;
      if (entries !== KEYS) throw new Error(`checkpoint-pause-sqlite: snapshot holds ${entries} entries, expected ${KEYS}`);
      continue; // warm-up
    }
    record(full, m);
  }

  // The base of the deltas: the first incremental snapshot is a full one.
  const base = await backend.snapshot({ checkpointId: ++checkpointId, incremental: true });
  if (base.incremental !== undefined) throw new Error('checkpoint-pause-sqlite: the first incremental snapshot should be full');
  backend.notifyCheckpointComplete?.(checkpointId);
  const inc = newTimings();
  for (let r = 0; r <= runs; r++) {
    const changed = sampleDistinct(KEYS, CHANGED, 1000 + r);
    const value = (i: number) => i + 1_000_000 * (r + 1);
    await writeKeys(backend, state, keys, keyGroups, value, changed);
    const id = ++checkpointId;
    const { snap, ...m } = await timedSnapshot(backend, { checkpointId: id, incremental: true });
    backend.notifyCheckpointComplete?.(id);
    if (snap.incremental === undefined) throw new Error('checkpoint-pause-sqlite: expected a delta');
    const got = entriesOf(snap);
    if (got.size !== CHANGED) throw new Error(`checkpoint-pause-sqlite: delta holds ${got.size} entries, expected ${CHANGED}`);
    for (const i of changed)
      if (got.get(keys[i]) !== value(i)) throw new Error(`checkpoint-pause-sqlite: delta has ${String(got.get(keys[i]))} for ${keys[i]}`);
    if (r === 0) continue; // warm-up
    record(inc, m);
  }
  await backend.dispose();
  const stat = `median (and max) of ${runs} snapshots after 1 warm-up, each awaited before the next; machine shared and loaded, so absolute times are noisy`;
  const fullSync = median(full.sync);
  report({
    bench: 'checkpoint-pause-sqlite',
    variant: 'full',
    keys: KEYS,
    method:
      "SqliteStateBackend({ vfs: 'memory' }) filled through KeyedStateStore ValueState<number> and flushed; syncMs = the backend.snapshot({checkpointId}) call until it returns its Promise (syncCpuMs: process.cpuUsage() of the call, user + system of every thread of the process, so V8's background GC and compilation can put it above the wall time); totalMs = until it resolves; maxTurnGapMs = longest gap between setTimeout(0) turns while it ran",
    stat,
    fillMs: Math.round(fillMs),
    ...timingFields(full),
    floor: PAUSE_FLOOR_MS,
    pass: fullSync <= PAUSE_FLOOR_MS,
  });
  const incSync = median(inc.sync);
  report({
    bench: 'checkpoint-pause-sqlite',
    variant: 'incremental',
    keys: KEYS,
    changedPerInterval: CHANGED,
    method:
      'the same backend after a completed incremental (full) checkpoint; per interval 10,000 distinct random keys (sampleDistinct, seeded) written through the API and left in the cache, then backend.snapshot({checkpointId, incremental: true}) timed as above and completed (notifyCheckpointComplete); each delta checked (10,000 entries, the written values)',
    stat,
    ...timingFields(inc),
    baselineSyncMs: round(fullSync, 2),
    ratio: round(incSync / fullSync, 3),
    floor: INCREMENTAL_FLOOR_MS,
    pass: incSync <= INCREMENTAL_FLOOR_MS,
  });
}

/** The `incremental-map` or `incremental-list` line: a delta's call with 1 % of 1M list or map entries changed (exported to run one line alone). */
export async function collectionLine(runs: number, keys: readonly string[], keyGroups: Uint16Array, shape: 'map' | 'list'): Promise<void> {
  const backend = await openBackend();
  const store = new KeyedStateStore(backend, 'checkpoint-pause-sqlite (1/1)');
  const map = shape === 'map' ? store.getMapState(new MapStateDescriptor<string, number>('m')) : undefined;
  const list = shape === 'list' ? store.getListState(new ListStateDescriptor<number>('l')) : undefined;
  const write = async (indices: ArrayLike<number> | undefined, value: (i: number) => number) => {
    const n = indices === undefined ? keys.length : indices.length;
    for (let j = 0; j < n; j++) {
      const i = indices === undefined ? j : indices[j]!;
      backend.setCurrentKey(keys[i]!, keyGroups[i]!);
      if (map !== undefined) await map.put('a', value(i));
      else await list!.add(value(i));
    }
    backend.clearCurrentKey();
  };
  const f0 = performance.now();
  await write(undefined, (i) => i);
  await backend.flush!();
  const fillMs = performance.now() - f0;
  let checkpointId = 0;
  const base = await backend.snapshot({ checkpointId: ++checkpointId, incremental: true });
  if (base.incremental !== undefined) throw new Error(`checkpoint-pause-sqlite (${shape}): the first incremental snapshot should be full`);
  backend.notifyCheckpointComplete?.(checkpointId);
  const inc = newTimings();
  for (let r = 0; r <= runs; r++) {
    const changed = sampleDistinct(KEYS, CHANGED, 2000 + r);
    const value = (i: number) => i + 1_000_000 * (r + 1);
    await write(changed, value);
    const id = ++checkpointId;
    const { snap, ...m } = await timedSnapshot(backend, { checkpointId: id, incremental: true });
    backend.notifyCheckpointComplete?.(id);
    if (snap.incremental === undefined) throw new Error(`checkpoint-pause-sqlite (${shape}): expected a delta`);
    // The written value: the map's only entry, or the list's last element.
    const got = new Map<unknown, unknown>();
    for (const [, bytes] of snap.keyGroups)
      for (const e of readKeyGroup(bytes, snap.states)) {
        if (e.shape === 'map') got.set(e.key, e.entries.length === 1 && e.entries[0]![0] === 'a' ? e.entries[0]![1] : e.entries);
        else if (e.shape === 'list') got.set(e.key, e.values[e.values.length - 1]);
      }
    if (got.size !== CHANGED) throw new Error(`checkpoint-pause-sqlite (${shape}): delta holds ${got.size} entries, expected ${CHANGED}`);
    for (const i of changed)
      if (got.get(keys[i]) !== value(i)) throw new Error(`checkpoint-pause-sqlite (${shape}): delta has ${String(got.get(keys[i]))} for ${keys[i]}`);
    if (r === 0) continue; // warm-up
    record(inc, m);
  }
  await backend.dispose();
  const incSync = median(inc.sync);
  report({
    bench: 'checkpoint-pause-sqlite',
    variant: `incremental-${shape}`,
    keys: KEYS,
    changedPerInterval: CHANGED,
    method: `a fresh backend filled with 1,000,000 keys of ${shape === 'map' ? "MapState<string, number> (put('a', i))" : 'ListState<number> (add(i))'} and flushed, after a completed incremental (full) checkpoint; per interval 10,000 distinct random keys (sampleDistinct, seeded) get ${shape === 'map' ? "put('a', x)" : 'add(x)'}, then backend.snapshot({checkpointId, incremental: true}) timed as the incremental line and completed; each delta checked (10,000 entries, the written values)`,
    stat: `median (and max) of ${runs} snapshots after 1 warm-up, each awaited before the next; machine shared and loaded, so absolute times are noisy`,
    fillMs: Math.round(fillMs),
    ...timingFields(inc),
    floor: INCREMENTAL_FLOOR_MS,
    pass: incSync <= INCREMENTAL_FLOOR_MS,
  });
}
