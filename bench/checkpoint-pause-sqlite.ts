/**
 * checkpoint-pause-sqlite: checkpoint-pause (a) on SqliteStateBackend (`vfs: 'memory'`).
 * 1,000,000 keys of ValueState<number> are written through the backend API (the cache
 * then written back), then each measured `snapshot({checkpointId})` is timed as a call
 * (until it returns its Promise: cache write-back, commit and the frozen page copy of the
 * database, see src/backends/sqlite/frozen-copy.ts) and until it resolves (the encoding
 * of the copy, in 8 ms slices). A ticker chained on setTimeout(0) runs meanwhile and
 * reports the longest gap between its turns: what a record waits at most while the
 * encoding runs. Before the frozen copy, the whole encoding ran inside the call.
 */
import { SqliteStateBackend } from '../src/backends/sqlite/index.ts';
import { keyGroupRangeForSubtask } from '../src/format/key-groups.ts';
import type { KeyedStateBackend } from '../src/state/backend.ts';
import { KeyedStateStore } from '../src/state/keyed-state-store.ts';
import { readKeyGroup } from '../src/format/snapshot-format.ts';
import { ValueStateDescriptor } from '../src/index.ts';
import { gc, median, report, round } from './common.ts';
import { MAX_PARALLELISM, makeKeys, writeKeys } from './checkpoint-common.ts';

const KEYS = 1_000_000;
/** The hashmap line's floor (checkpoint-pause), for comparison. */
const PAUSE_FLOOR_MS = 20;

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

export async function checkpointPauseSqlite(runs: number): Promise<void> {
  const { keys, keyGroups } = makeKeys(KEYS);
  const backend = (await new SqliteStateBackend({ vfs: 'memory' }).createKeyedStateBackend({
    jobId: 'bench-checkpoint-pause-sqlite',
    operatorId: 'op',
    operatorName: 'checkpoint-pause-sqlite (1/1)',
    subtaskIndex: 0,
    parallelism: 1,
    maxParallelism: MAX_PARALLELISM,
    keyGroupRange: keyGroupRangeForSubtask(MAX_PARALLELISM, 1, 0),
  })) as KeyedStateBackend;
  const state = new KeyedStateStore(backend, 'checkpoint-pause-sqlite (1/1)').getState(new ValueStateDescriptor<number>('count'));
  const f0 = performance.now();
  await writeKeys(backend, state, keys, keyGroups, (i) => i);
  await backend.flush!();
  const fillMs = performance.now() - f0;

  const sync: number[] = [];
  const total: number[] = [];
  const gaps: number[] = [];
  let checkpointId = 0;
  for (let r = 0; r <= runs; r++) {
    gc();
    const t = ticker();
    const t0 = performance.now();
    const pending = backend.snapshot({ checkpointId: ++checkpointId });
    const t1 = performance.now();
    const snap = await pending;
    const t2 = performance.now();
    const gap = t.stop();
    if (r === 0) {
      let entries = 0;
      for (const [, bytes] of snap.keyGroups) for (const _ of readKeyGroup(bytes, snap.states)) entries++;
      if (entries !== KEYS) throw new Error(`checkpoint-pause-sqlite: snapshot holds ${entries} entries, expected ${KEYS}`);
      continue; // warm-up
    }
    sync.push(t1 - t0);
    total.push(t2 - t0);
    gaps.push(gap);
  }
  await backend.dispose();
  const syncMs = median(sync);
  report({
    bench: 'checkpoint-pause-sqlite',
    keys: KEYS,
    method:
      "SqliteStateBackend({ vfs: 'memory' }) filled through KeyedStateStore ValueState<number> and flushed; syncMs = the backend.snapshot({checkpointId}) call until it returns its Promise; totalMs = until it resolves; maxTurnGapMs = longest gap between setTimeout(0) turns while it ran",
    stat: `median of ${runs} snapshots after 1 warm-up, each awaited before the next; machine shared and loaded, so absolute times are noisy`,
    fillMs: Math.round(fillMs),
    syncMs: round(syncMs, 2),
    totalMs: round(median(total), 1),
    maxTurnGapMs: round(median(gaps), 1),
    syncMsRuns: sync.map((x) => round(x, 2)),
    totalMsRuns: total.map((x) => round(x, 1)),
    maxTurnGapMsRuns: gaps.map((x) => round(x, 1)),
    floor: PAUSE_FLOOR_MS,
    pass: syncMs <= PAUSE_FLOOR_MS,
  });
}
