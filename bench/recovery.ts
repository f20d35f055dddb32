/**
 * recovery: time to restore 1,000,000 keys of ValueState<number> from a checkpoint in a
 * FileSystemCheckpointStorage, against the time to build the same state again from the
 * events that created it (ratio = restore ÷ rebuild, lower is better).
 *
 * The checkpoint is made once, untimed, by a real job: phasedSource (1,000,000 events
 * `{k: 'k'+i, v: i}`, one per key) → keyBy → SumFn (per-key sum in ValueState 'count'),
 * parallelism 1, `enableCheckpointing(200)` into a FileSystemCheckpointStorage in a temp
 * directory (removed afterwards); the source idles until a checkpoint taken after its
 * last event has completed, so the newest retained checkpoint holds all 1,000,000 keys.
 *
 * Two pairs of sides, timed interleaved (each run verified inside its timing):
 *
 * (job) restore: a job `fromSavepoint(<that chk dir>)` with the same keyed operator
 *     (uid 'sum') over a source of 200 probe events (v = 0, each emits its key's sum) —
 *     `executeAndCollect()` wall time, which includes reading `_metadata` and the part
 *     file from disk, checking their CRCs, decoding, and loading the backend.
 *     rebuild: the same job without a savepoint over the 1,000,000 events followed by the
 *     same 200 probes. Both must emit the 200 expected sums. This is the primary ratio.
 *
 * (backend) restore: `loadCheckpoint(fsStorage, dir)` + `HashMapStateBackend.restore()` of
 *     the keyed operator's snapshot into a fresh backend. rebuild: a fresh backend filled
 *     through the state API from the same 1,000,000 events (per event: keyGroupForKey,
 *     setCurrentKey, value(), update(sum + v) — what the operator does, without a job).
 *     Both read the 200 probe keys back.
 *
 * The job sides also report process CPU time per run (`cpuRatio`: median restore CPU ÷
 * median rebuild CPU), which a loaded machine disturbs far less than wall time; the floor
 * stays on wall time.
 *
 * One event per key is the cheapest possible history for a rebuild (real state is
 * usually the result of many events per key), so the ratio is conservative.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamExecutionEnvironment, keyGroupForKey } from '../src/index.ts';
import { FileSystemCheckpointStorage } from '../src/storages/fs.ts';
import { listCompletedCheckpoints, loadCheckpoint } from '../src/engine/checkpoint-restore.ts';
import { VOID_NAMESPACE } from '../src/state/backend.ts';
import { gc, median, report, round, timeInterleaved } from './common.ts';
import {
  CountingStorage,
  MAX_PARALLELISM,
  SumFn,
  checkKeys,
  checkOrdinals,
  makeKeys,
  newCountBackend,
  phasedSource,
  sampleDistinct,
  type SeenCheckpoint,
  type SumEv,
} from './checkpoint-common.ts';

const KEYS = 1_000_000;
const PROBES = 200;
const SEED = 7;
const INTERVAL_MS = 200;
const JOB = 'recovery';
/**
 * Issue 18's floor: restoring takes at most half the time of replaying the cheapest
 * possible history. The goal is what a single CRC pass and bulk map construction should reach.
 */
const FLOOR = 0.5;
const GOAL = 0.35;

type Keys = ReturnType<typeof makeKeys>;

/** Throws unless the job emitted exactly one `[key, i]` per probe index. */
function checkProbes(out: ReadonlyArray<readonly [string, number]>, keys: readonly string[], probes: readonly number[], who: string): void {
  if (out.length !== probes.length) throw new Error(`${who}: ${out.length} probe results, expected ${probes.length}`);
  const got = new Map(out.map(([k, v]) => [k, v]));
  for (const i of probes) if (got.get(keys[i]!) !== i) throw new Error(`${who}: key ${keys[i]} holds ${got.get(keys[i]!)}, expected ${i}`);
}

/** Runs the job once to leave a completed checkpoint of all 1,000,000 keys in `storage`; returns its directory. */
async function makeCheckpoint(storage: CountingStorage, events: readonly SumEv[]): Promise<string> {
  let waitedFor: SeenCheckpoint | undefined;
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
  env.enableCheckpointing(INTERVAL_MS);
  env.getCheckpointConfig().setCheckpointStorage(storage);
  const out = await env
    .fromSource(phasedSource<SumEv>([{ records: events, until: (after) => (waitedFor = after[0]) !== undefined }], storage), undefined, 'events')
    .uid('events')
    .keyBy((e) => e.k)
    .process(new SumFn())
    .uid('sum')
    .executeAndCollect(JOB);
  if (out.length !== 0) throw new Error(`recovery: the checkpointing job emitted ${out.length} records, expected none`);
  if (waitedFor === undefined) throw new Error('recovery: the job ended before a checkpoint after its last event completed');
  checkOrdinals(storage, 'recovery', waitedFor);
  // Retention keeps only the newest checkpoint; every checkpoint after the last event holds all keys.
  const [newest] = await listCompletedCheckpoints(storage, JOB);
  if (newest === undefined) throw new Error('recovery: no completed checkpoint in storage');
  return newest;
}

/** The probe job: `events` then the probes, optionally starting from `savepoint` in `storage`. */
async function probeJob(storage: FileSystemCheckpointStorage, records: readonly SumEv[], savepoint: string | undefined): Promise<[string, number][]> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
  env.getCheckpointConfig().setCheckpointStorage(storage);
  if (savepoint !== undefined) env.fromSavepoint(savepoint);
  return env
    .fromCollection(records)
    .uid('probes')
    .keyBy((e) => e.k)
    .process(new SumFn())
    .uid('sum')
    .executeAndCollect(`${JOB}-probe`);
}

async function measure({ keys, keyGroups }: Keys, runs: number, dir: string): Promise<Record<string, unknown>> {
  const events: SumEv[] = keys.map((k, i) => ({ k, v: i }));
  const probeIdx = Array.from(sampleDistinct(KEYS, PROBES, SEED));
  const probes: SumEv[] = probeIdx.map((i) => ({ k: keys[i]!, v: 0, probe: true }));
  const eventsThenProbes = [...events, ...probes];
  const fs = new FileSystemCheckpointStorage(dir);
  const counting = new CountingStorage(fs);
  const checkpoint = await makeCheckpoint(counting, events);
  const seen = counting.checkpoints.find((c) => c.dir === checkpoint)!;
  let fileBytes = 0;
  for (const op of seen.manifest.operators)
    for (const chain of op.parts) for (const h of chain ?? []) fileBytes += (await stat(join(dir, ...h.path.split('/')))).size;
  let entriesChecked = false;
  // Process CPU time per run beside the wall time: on a shared machine the wall time mostly
  // says how busy the machine was (the warm-up's figure is dropped like its wall time).
  const cpuMs: Record<'restore' | 'rebuild', number[]> = { restore: [], rebuild: [] };
  const withCpu = (side: 'restore' | 'rebuild', run: () => Promise<void>) => async () => {
    const before = process.cpuUsage();
    await run();
    const d = process.cpuUsage(before);
    cpuMs[side].push((d.user + d.system) / 1000);
  };

  const [jobRestore, jobRebuild, backendRestore, backendRebuild] = await timeInterleaved(
    [
      { name: 'job restore', run: withCpu('restore', async () => checkProbes(await probeJob(fs, probes, checkpoint), keys, probeIdx, 'job restore')) },
      {
        name: 'job rebuild',
        run: withCpu('rebuild', async () => checkProbes(await probeJob(fs, eventsThenProbes, undefined), keys, probeIdx, 'job rebuild')),
      },
      {
        name: 'backend restore',
        run: async () => {
          const loaded = await loadCheckpoint(fs, checkpoint);
          const { backend, state } = newCountBackend('recovery');
          const keyed = loaded.restoreFor('sum', 0, 1)?.keyed;
          if (!keyed) throw new Error('recovery: the keyed operator is missing from the checkpoint');
          await backend.restore(keyed);
          await checkKeys(backend, state, keys, keyGroups, (i) => i, probeIdx, 'backend restore');
          if (!entriesChecked) {
            // Once (in the warm-up): the restored backend holds every key, not just the probes.
            let n = 0;
            for await (const _ of backend.keys('count', VOID_NAMESPACE)) n++;
            if (n !== KEYS) throw new Error(`recovery: restored ${n} keys, expected ${KEYS}`);
            entriesChecked = true;
          }
          await backend.dispose();
        },
      },
      {
        name: 'backend rebuild',
        run: async () => {
          const { backend, state } = newCountBackend('recovery-rebuild');
          for (const e of events) {
            backend.setCurrentKey(e.k, keyGroupForKey(e.k, MAX_PARALLELISM));
            await state.update(((await state.value()) ?? 0) + e.v);
          }
          backend.clearCurrentKey();
          await checkKeys(backend, state, keys, keyGroups, (i) => i, probeIdx, 'backend rebuild');
          await backend.dispose();
        },
      },
    ],
    runs,
  );

  const ratio = jobRestore!.medianMs / jobRebuild!.medianMs;
  const restoreCpuMs = cpuMs.restore.slice(1).map((x) => round(x, 0));
  const rebuildCpuMs = cpuMs.rebuild.slice(1).map((x) => round(x, 0));
  const backendRatio = backendRestore!.medianMs / backendRebuild!.medianMs;
  return {
    checkpoint: `${checkpoint} (FileSystemCheckpointStorage in a temp dir), ${fileBytes} bytes of part files (one keyed part, one source part), made once by the job (untimed)`,
    stat: `median of ${runs} runs per side after 1 warm-up each; all four sides interleaved`,
    ratio: round(ratio, 4),
    bestRatio: round(jobRestore!.bestMs / jobRebuild!.bestMs, 4),
    backendRatio: round(backendRatio, 4),
    backendBestRatio: round(backendRestore!.bestMs / backendRebuild!.bestMs, 4),
    cpuRatio: round(median(restoreCpuMs) / median(rebuildCpuMs), 4),
    job: {
      restore: `fromSavepoint(${checkpoint}) → probes source (${PROBES} events) → keyBy → SumFn (uid 'sum') → executeAndCollect; includes loading the checkpoint from disk`,
      rebuild: `same job, no savepoint, over the ${KEYS} events then the ${PROBES} probes`,
      restoreMs: jobRestore!.medianMs,
      rebuildMs: jobRebuild!.medianMs,
      restoreRunsMs: jobRestore!.ms,
      rebuildRunsMs: jobRebuild!.ms,
      restoreCpuMs,
      rebuildCpuMs,
    },
    backend: {
      restore: 'loadCheckpoint(FileSystemCheckpointStorage, dir) (read + CRC + decode) + HashMapStateBackend.restore() into a fresh backend',
      rebuild: `fresh HashMapStateBackend; per event keyGroupForKey + setCurrentKey + value() + update(sum + v) for ${KEYS} events`,
      restoreMs: backendRestore!.medianMs,
      rebuildMs: backendRebuild!.medianMs,
      restoreRunsMs: backendRestore!.ms,
      rebuildRunsMs: backendRebuild!.ms,
    },
    verified: `every run reads back ${PROBES} random keys (job: emitted by probe events; backend: value()); the first backend restore also counts all ${KEYS} keys`,
  };
}

export async function recovery(runs: number): Promise<void> {
  const keys = makeKeys(KEYS);
  const dir = await mkdtemp(join(tmpdir(), 'eddy-bench-recovery-'));
  try {
    gc();
    const r = await measure(keys, runs, dir);
    const ratio = r.ratio as number;
    report({
      bench: 'recovery',
      keys: KEYS,
      ratio,
      backendRatio: r.backendRatio,
      baseline: 'building the same state again from the 1,000,000 events (one per key)',
      floor: FLOOR,
      goal: GOAL,
      floorRule: 'ratio <= floor (restore ÷ rebuild, job level; goal: ratio <= goal)',
      pass: ratio <= FLOOR,
      goalMet: ratio <= GOAL,
      ...r,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
