/**
 * checkpoint-incremental: bytes an incremental checkpoint writes when 1 % of 1,000,000
 * keys changed, as a ratio of a full checkpoint of the same state. Measured twice:
 *
 * (job) End to end, the primary figure: a job (phasedSource → keyBy → SumFn, a per-key
 *     sum in ValueState<number>, parallelism 1) with `enableCheckpointing(100)` and
 *     `enableIncrementalCheckpoints(true)` into a MemoryCheckpointStorage wrapped in
 *     CountingStorage, which adds up the bytes of every part file the coordinator puts.
 *     Phase 1 writes all 1,000,000 keys; the source then idles until a *full* checkpoint
 *     taken after phase 1 has completed (the first checkpoint, or every 8th: the
 *     coordinator's compaction). That checkpoint's part bytes are the full figure.
 *     Phase 2 adds to 10,000 random keys (sampleDistinct), and the source idles until the
 *     first checkpoint taken after phase 2 has completed. The delta figure is the part
 *     bytes of every checkpoint after the full one up to that one (normally one; an empty
 *     delta that happened to fall between the two phases is counted too). Both figures
 *     include every part of the checkpoint (the source's and the keyed operator's), as
 *     storage sees them; the keyed operator's own part is reported separately.
 *
 * (backend) The backend snapshot path alone: a HashMapStateBackend filled directly
 *     (KeyedStateStore ValueState<number>) with 1,000,000 keys; `snapshot({checkpointId:
 *     1, incremental: true})` is full (no base yet); after `notifyCheckpointComplete(1)`
 *     the same 10,000 keys are updated and `snapshot({checkpointId: 2, incremental: true})`
 *     is the delta. Sizes are those of the part files the coordinator would write
 *     (`encodePart({ keyed })`), and of the encoded key groups alone.
 *
 * Both are verified: the delta chain (full + deltas) is folded (`loadCheckpoint` for the
 * job, `mergeKeyedChain` for the backend), restored into a fresh backend, and sampled
 * changed and unchanged keys must hold their new and old values; the backend's delta
 * must hold exactly the 10,000 changed entries.
 *
 * A third figure (`withTimersRatio`) repeats the job with one event-time timer per key
 * (as keyed-count's Counter registers): incremental parts carry timer deltas (the timers
 * added and removed since the base), so the delta stays as small as without timers. It
 * counts towards `pass` with the same floor; the restore also checks that the folded
 * chain holds exactly one timer per key.
 *
 * Byte counts do not depend on machine noise, so each figure comes from one run.
 */
import { MemoryCheckpointStorage, StreamExecutionEnvironment } from '../src/index.ts';
import { mergeKeyedChain } from '../src/format/checkpoint-chain.ts';
import { decodePart, encodePart } from '../src/format/checkpoint-format.ts';
import { loadCheckpoint } from '../src/engine/checkpoint-restore.ts';
import { readKeyGroup, type KeyedStateSnapshot } from '../src/format/snapshot-format.ts';
import { InternalTimerService } from '../src/engine/timers.ts';
import { DEFAULT_MAX_PARALLELISM, keyGroupRangeForSubtask } from '../src/format/key-groups.ts';
import { gc, report, round } from './common.ts';
import {
  CountingStorage,
  SumFn,
  checkKeys,
  checkOrdinals,
  makeKeys,
  newCountBackend,
  phasedSource,
  sampleDistinct,
  writeKeys,
  type SeenCheckpoint,
  type SumEv,
} from './checkpoint-common.ts';

const KEYS = 1_000_000;
const CHANGED = 10_000;
const SEED = 3;
/** What phase 2 adds to a changed key: changed keys hold i + BUMP, the others i. */
const BUMP = 1_000_000_000;
const INTERVAL_MS = 100;
const FLOOR = 0.03;
/** How many changed and unchanged keys are read back after the restore. */
const SAMPLE = 500;

type Keys = ReturnType<typeof makeKeys>;

/** Changed keys to check, and as many unchanged ones (seeded, so every run checks the same). */
function samples(changed: Uint32Array): { changedSample: number[]; unchangedSample: number[] } {
  const isChanged = new Set(changed);
  const unchangedSample: number[] = [];
  for (const i of sampleDistinct(KEYS, SAMPLE * 2, SEED + 1)) if (!isChanged.has(i) && unchangedSample.length < SAMPLE) unchangedSample.push(i);
  return { changedSample: Array.from(changed.subarray(0, SAMPLE)), unchangedSample };
}

function keyGroupBytes(s: KeyedStateSnapshot): number {
  let n = 0;
  for (const b of s.keyGroups.values()) n += b.length;
  for (const b of s.incremental?.removed.values() ?? []) n += b.length;
  return n;
}

function entryCount(s: KeyedStateSnapshot): number {
  let n = 0;
  for (const b of s.keyGroups.values()) for (const _ of readKeyGroup(b, s.states)) n++;
  return n;
}

async function backendLevel({ keys, keyGroups }: Keys, changed: Uint32Array): Promise<Record<string, unknown>> {
  const { backend, state } = newCountBackend('checkpoint-incremental');
  await writeKeys(backend, state, keys, keyGroups, (i) => i);
  const full = await backend.snapshot({ checkpointId: 1, incremental: true });
  if (full.incremental) throw new Error('checkpoint-incremental: the first snapshot should be full');
  backend.notifyCheckpointComplete!(1);
  await writeKeys(backend, state, keys, keyGroups, (i) => i + BUMP, changed);
  const delta = await backend.snapshot({ checkpointId: 2, incremental: true });
  await backend.dispose();
  if (delta.incremental?.baseCheckpointId !== 1) throw new Error('checkpoint-incremental: the second snapshot should be a delta over checkpoint 1');
  const deltaEntries = entryCount(delta);
  if (deltaEntries !== CHANGED) throw new Error(`checkpoint-incremental: the delta holds ${deltaEntries} entries, expected ${CHANGED}`);

  // Fold the chain as a restore does and read changed and unchanged keys back.
  const merged = mergeKeyedChain([full, delta]);
  if (entryCount(merged) !== KEYS) throw new Error('checkpoint-incremental: the folded chain lost keys');
  const restored = newCountBackend('checkpoint-incremental-verify');
  await restored.backend.restore([merged]);
  const { changedSample, unchangedSample } = samples(changed);
  await checkKeys(restored.backend, restored.state, keys, keyGroups, (i) => i + BUMP, changedSample, 'backend delta, changed key');
  await checkKeys(restored.backend, restored.state, keys, keyGroups, (i) => i, unchangedSample, 'backend delta, unchanged key');
  await restored.backend.dispose();

  const fullPart = encodePart({ keyed: full }).length;
  const deltaPart = encodePart({ keyed: delta }).length;
  return {
    method:
      'HashMapStateBackend filled directly (ValueState<number>, 1,000,000 keys); snapshot({checkpointId:1, incremental:true}) = full; notifyCheckpointComplete(1); 10,000 random keys updated; snapshot({checkpointId:2, incremental:true}) = delta. Bytes = encodePart({keyed}) (the part file the coordinator writes); keyGroupBytes = encoded key groups (+ removed lists) only',
    fullPartBytes: fullPart,
    deltaPartBytes: deltaPart,
    ratio: round(deltaPart / fullPart, 5),
    fullKeyGroupBytes: keyGroupBytes(full),
    deltaKeyGroupBytes: keyGroupBytes(delta),
    keyGroupRatio: round(keyGroupBytes(delta) / keyGroupBytes(full), 5),
    deltaEntries,
    bytesPerChangedKey: round(deltaPart / CHANGED, 1),
    bytesPerKeyFull: round(fullPart / KEYS, 1),
    verified: `delta holds exactly ${CHANGED} entries; mergeKeyedChain([full, delta]) holds ${KEYS}; restored into a fresh backend, ${changedSample.length} changed and ${unchangedSample.length} unchanged keys read back`,
  };
}

/** The part the keyed operator wrote in checkpoint `c` (the newest link of its chain). */
function sumHandle(c: SeenCheckpoint) {
  const chain = c.manifest.operators.find((o) => o.operatorId === 'sum')?.parts[0];
  if (!chain || chain.length === 0) throw new Error(`checkpoint-incremental: checkpoint ${c.manifest.checkpointId} has no part of the keyed operator`);
  return chain[chain.length - 1]!;
}

/** Timers in a full timer snapshot: restored into a service owning every key group. */
function countTimers(t: ReadonlyMap<number, Uint8Array>): number {
  const service = new InternalTimerService(keyGroupRangeForSubtask(DEFAULT_MAX_PARALLELISM, 1, 0));
  service.restore(t);
  return service.size('EVENT_TIME') + service.size('PROCESSING_TIME');
}

async function jobLevel({ keys, keyGroups }: Keys, changed: Uint32Array, timers: boolean): Promise<Record<string, unknown>> {
  const phase1: SumEv[] = keys.map((k, i) => ({ k, v: i }));
  const phase2: SumEv[] = Array.from(changed, (i) => ({ k: keys[i]!, v: BUMP }));
  const storage = new CountingStorage(new MemoryCheckpointStorage());
  let full: SeenCheckpoint | undefined;
  let last: SeenCheckpoint | undefined;
  const source = phasedSource<SumEv>(
    [
      {
        records: phase1,
        until: (after) => (full = after.find((c) => !c.incremental)) !== undefined,
      },
      { records: phase2, until: (after) => (last = after[0]) !== undefined },
    ],
    storage,
  );
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
  env.enableCheckpointing(INTERVAL_MS);
  // Every checkpoint is kept: one that happens to follow `last` as a full one (every 8th
  // compacts) would otherwise delete the parts read back below.
  env.getCheckpointConfig().setCheckpointStorage(storage).enableIncrementalCheckpoints(true).setMaxRetainedCheckpoints(1000);
  const t0 = performance.now();
  const out = await env
    .fromSource(source, undefined, 'phases')
    .uid('events')
    .keyBy((e) => e.k)
    .process(new SumFn(timers))
    .uid('sum')
    .executeAndCollect('checkpoint-incremental');
  const jobMs = performance.now() - t0;
  if (out.length !== 0) throw new Error(`checkpoint-incremental: the job emitted ${out.length} records, expected none`);
  checkOrdinals(storage, 'checkpoint-incremental');
  if (!full || !last) throw new Error('checkpoint-incremental: the job ended before its checkpoints completed');
  const fullId = full.manifest.checkpointId;
  const lastId = last.manifest.checkpointId;
  const window = storage.checkpoints.filter((c) => c.manifest.checkpointId > fullId && c.manifest.checkpointId <= lastId);
  for (const c of window)
    if (!c.incremental) throw new Error(`checkpoint-incremental: checkpoint ${c.manifest.checkpointId} after the full one was not incremental`);
  const deltaBytes = window.reduce((n, c) => n + c.partBytes, 0);
  const deltaSumBytes = window.reduce((n, c) => n + sumHandle(c).size, 0);

  // What the keyed operator's delta part holds: keyed state vs timers.
  const lastPart = decodePart((await storage.get(sumHandle(last).path))!, sumHandle(last));
  const timerBytes = [...(lastPart.timers?.values() ?? lastPart.timerDelta?.groups.values() ?? [])].reduce((n, b) => n + b.length, 0);

  // Restore the last checkpoint (its chain folds the full part and the deltas) and read keys back.
  const loaded = await loadCheckpoint(storage, last.dir);
  const restoredOp = loaded.restoreFor('sum', 0, 1);
  if (!restoredOp) throw new Error('checkpoint-incremental: the keyed operator is missing from the checkpoint');
  const restored = newCountBackend('checkpoint-incremental-job-verify');
  await restored.backend.restore(restoredOp.keyed);
  const restoredTimers = restoredOp.timers.reduce((n, t) => n + countTimers(t), 0);
  if (restoredTimers !== (timers ? KEYS : 0))
    throw new Error(`checkpoint-incremental: the restored chain holds ${restoredTimers} timers, expected ${timers ? KEYS : 0}`);
  const { changedSample, unchangedSample } = samples(changed);
  await checkKeys(restored.backend, restored.state, keys, keyGroups, (i) => i + BUMP, changedSample, 'job delta, changed key');
  await checkKeys(restored.backend, restored.state, keys, keyGroups, (i) => i, unchangedSample, 'job delta, unchanged key');
  await restored.backend.dispose();
  const chainLength = last.manifest.operators.find((o) => o.operatorId === 'sum')!.parts[0]!.length;

  return {
    method: `job phasedSource → keyBy → SumFn${timers ? ' (+1 event-time timer per key)' : ''}, parallelism 1, enableCheckpointing(${INTERVAL_MS}) + enableIncrementalCheckpoints(true), MemoryCheckpointStorage wrapped in CountingStorage; full = part bytes of the first full checkpoint after phase 1 (1,000,000 keys); delta = part bytes of every checkpoint after it up to the first one after phase 2 (10,000 keys changed)`,
    fullCheckpointId: fullId,
    deltaCheckpointIds: window.map((c) => c.manifest.checkpointId),
    fullPartBytes: full.partBytes,
    deltaPartBytes: deltaBytes,
    ratio: round(deltaBytes / full.partBytes, 5),
    keyedOperatorFullPartBytes: sumHandle(full).size,
    keyedOperatorDeltaPartBytes: deltaSumBytes,
    lastDeltaTimerBytes: timerBytes,
    chainLengthOfLast: chainLength,
    checkpointsCompleted: storage.checkpoints.length,
    jobMs: round(jobMs, 0),
    lastDeltaTimerEncoding: lastPart.timerDelta ? 'delta' : lastPart.timers ? 'full' : 'none',
    verified: `loadCheckpoint(chk-${lastId}) folds a chain of ${chainLength} parts (${restoredTimers} timers); restored into a fresh backend, ${changedSample.length} changed and ${unchangedSample.length} unchanged keys read back`,
  };
}

export async function checkpointIncremental(_runs: number): Promise<void> {
  const keys = makeKeys(KEYS);
  const changed = sampleDistinct(KEYS, CHANGED, SEED);
  gc();
  const job = await jobLevel(keys, changed, false);
  gc();
  const backend = await backendLevel(keys, changed);
  gc();
  const withTimers = await jobLevel(keys, changed, true);
  const ratio = job.ratio as number;
  report({
    bench: 'checkpoint-incremental',
    keys: KEYS,
    changedKeys: CHANGED,
    ratio,
    backendRatio: backend.ratio,
    withTimersRatio: withTimers.ratio,
    baseline: 'a full checkpoint of the same 1,000,000 keys (same process, same storage path)',
    stat: 'byte counts: one run each (they do not depend on timing, except that an empty delta may fall between the phases and is counted)',
    floor: FLOOR,
    floorRule: 'ratio <= floor for the job (end to end), for the backend snapshot path and for the job with one timer per key (withTimersRatio)',
    pass: ratio <= FLOOR && (backend.ratio as number) <= FLOOR && (withTimers.ratio as number) <= FLOOR,
    job,
    backend,
    withTimers,
  });
}
