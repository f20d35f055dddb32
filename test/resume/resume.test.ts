/**
 * Resuming after a restart: `env.fromLatestCheckpoint()` continues a job from the newest
 * completed checkpoint an earlier run of it left; without it a job that finds such
 * checkpoints warns; retention counts the checkpoints of earlier runs; a cancel keeps or
 * deletes them as `ExternalizedCheckpointRetention` says.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  EddyError,
  ExternalizedCheckpointRetention,
  RichMapFunction,
  StreamExecutionEnvironment,
  TwoPhaseCommitSink,
  ValueStateDescriptor,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { listCompletedCheckpoints } from '../../src/engine/checkpoint-restore.ts';
import { MemoryCheckpointStorage } from '../../src/storages/memory.ts';
import { pacedSource } from '../helpers/sources.ts';
import { RunningCount } from '../helpers/running-count.ts';

const RECORDS = 600;
/** Committed records by transaction id; module-level so that every per-subtask copy of the sink shares it. */
const committed = new Map<string, string[]>();
const output = () => [...committed.values()].flat().sort();

/** Commits a transaction under its id, so a commit repeated after a restore is idempotent. */
class MapSink extends TwoPhaseCommitSink<string, { id: string; records: string[] }> {
  beginTransaction() {
    return { id: Math.random().toString(36).slice(2), records: [] as string[] };
  }
  invoke(txn: { records: string[] }, v: string) {
    txn.records.push(v);
  }
  preCommit() {}
  commit(txn: { id: string; records: string[] }) {
    committed.set(txn.id, txn.records);
  }
  abort() {}
}

function expected(): string[] {
  const counts = new Map<number, number>();
  const out: string[] = [];
  for (let i = 0; i < RECORDS; i++) {
    const n = (counts.get(i % 5) ?? 0) + 1;
    counts.set(i % 5, n);
    out.push(`${i % 5}:${n}`);
  }
  return out.sort();
}

interface RunOptions {
  resume?: boolean;
  savepoint?: string;
  /** Stop with a savepoint (instead of cancel) once `cancelAfter` records are committed; resolves it into `stopped`. */
  stopped?: { savepoint?: string };
  retention?: ExternalizedCheckpointRetention;
  /** Cancel once this many records are committed. */
  cancelAfter?: number;
  perPoll?: number;
}

async function run(storage: MemoryCheckpointStorage, job: string, o: RunOptions = {}): Promise<void> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
  env.enableCheckpointing(10);
  env.getCheckpointConfig().setCheckpointStorage(storage).setMaxRetainedCheckpoints(2);
  if (o.retention) env.getCheckpointConfig().setExternalizedCheckpointRetention(o.retention);
  if (o.resume) env.fromLatestCheckpoint();
  if (o.savepoint) env.fromSavepoint(o.savepoint);
  env
    .fromSource(
      pacedSource(RECORDS, (i) => i, o.perPoll ?? 3),
      undefined,
      'numbers',
    )
    .uid('numbers')
    .keyBy((i) => i % 5)
    .map(new RunningCount(5))
    .uid('count')
    .addSink(new MapSink())
    .uid('sink');
  const client = await env.executeAsync(job);
  if (o.cancelAfter === undefined) {
    await client.result;
    return;
  }
  while (output().length < o.cancelAfter && client.getJobStatus() !== 'FINISHED') await new Promise((r) => setTimeout(r, 2));
  expect(client.getJobStatus()).not.toBe('FINISHED');
  if (o.stopped) o.stopped.savepoint = await client.stopWithSavepoint();
  else await client.cancel();
}

/** The checkpoint directories (chk-N) that still hold any file. */
async function checkpointDirs(storage: MemoryCheckpointStorage, job: string): Promise<string[]> {
  return [...new Set((await storage.list(`${job}/`)).map((p) => /^[^/]+\/(chk-\d+)\//.exec(p)?.[1]).filter((d): d is string => d !== undefined))].sort();
}

afterEach(() => {
  committed.clear();
  vi.restoreAllMocks();
});

describe('resuming after a restart', () => {
  it('fromLatestCheckpoint() continues a stopped job where it stopped: output equals a failure-free run', { timeout: 30_000 }, async () => {
    const storage = new MemoryCheckpointStorage();
    await run(storage, 'resume-job', { cancelAfter: RECORDS / 3, retention: ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION });
    const before = output().length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(RECORDS);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await run(storage, 'resume-job', { resume: true });
    expect(output()).toEqual(expected());
    expect(warn.mock.calls.flat().join('\n')).not.toMatch(/starts from scratch/);
  });

  it('a job that finds checkpoints of an earlier run and does not resume warns once, naming the newest and how to resume', { timeout: 30_000 }, async () => {
    const storage = new MemoryCheckpointStorage();
    await run(storage, 'warn-job', { cancelAfter: RECORDS / 3, retention: ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION });
    const [newest] = await listCompletedCheckpoints(storage, 'warn-job');
    expect(newest).toMatch(/^warn-job\/chk-\d+$/);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await run(storage, 'warn-job');
    const warnings = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('starts from scratch'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(newest);
    expect(warnings[0]).toContain('env.fromLatestCheckpoint()');
  });

  it('without checkpoints of an earlier run, fromLatestCheckpoint() starts from scratch', { timeout: 30_000 }, async () => {
    await run(new MemoryCheckpointStorage(), 'fresh-job', { resume: true });
    expect(output()).toEqual(expected());
  });

  it('with fromSavepoint() too, the savepoint is only the first start: later starts resume from the newest checkpoint', { timeout: 30_000 }, async () => {
    const storage = new MemoryCheckpointStorage();
    const stopped: { savepoint?: string } = {};
    await run(storage, 'initial-job', { cancelAfter: RECORDS / 4, stopped });
    expect(await listCompletedCheckpoints(storage, 'initial-job'), 'the default retention deleted the checkpoints on the stop').toEqual([]);
    const savepoint = stopped.savepoint!;
    // No checkpoint: starts from the savepoint; then stops again, keeping its checkpoints.
    await run(storage, 'initial-job', { resume: true, savepoint, cancelAfter: RECORDS / 2, retention: ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION });
    // Both set again (an unchanged program): resumes from the newest checkpoint, not the old savepoint.
    await run(storage, 'initial-job', { resume: true, savepoint });
    expect(output()).toEqual(expected());
  });

  it('a stop with a savepoint deletes the checkpoints even under RETAIN_ON_CANCELLATION, so resuming continues from the savepoint, not an older checkpoint', {
    timeout: 30_000,
  }, async () => {
    const storage = new MemoryCheckpointStorage();
    const stopped: { savepoint?: string } = {};
    await run(storage, 'stopped-job', { cancelAfter: RECORDS / 3, stopped, retention: ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION });
    // As in Flink, where a job stopped with a savepoint FINISHES: its checkpoints are older than the savepoint.
    expect(await listCompletedCheckpoints(storage, 'stopped-job')).toEqual([]);
    expect(await storage.list(`${stopped.savepoint!}/`)).not.toHaveLength(0);
    await run(storage, 'stopped-job', { resume: true, savepoint: stopped.savepoint });
    expect(output()).toEqual(expected());
  });

  it('fromLatestCheckpoint() without checkpointing is refused with INVALID_CONFIG', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().fromLatestCheckpoint();
    env.fromElements('a', 'b').addSink(new MapSink());
    const error = await env.executeAsync('no-checkpointing').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EddyError);
    expect((error as EddyError).code).toBe('INVALID_CONFIG');
    expect((error as EddyError).message).toContain('enableCheckpointing');
  });
});

describe('retained checkpoints', () => {
  it('retention covers the checkpoints earlier runs of the job left: four runs keep max-retained directories, not four times as many', {
    timeout: 60_000,
  }, async () => {
    const storage = new MemoryCheckpointStorage();
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    for (let i = 0; i < 4; i++) await run(storage, 'retention-job');
    expect(await checkpointDirs(storage, 'retention-job')).toHaveLength(2);
    expect(await listCompletedCheckpoints(storage, 'retention-job')).toHaveLength(2);
  });

  it('survive a cancel under RETAIN_ON_CANCELLATION and are deleted by it by default (savepoints stay)', { timeout: 30_000 }, async () => {
    const kept = new MemoryCheckpointStorage();
    await run(kept, 'kept-job', { cancelAfter: RECORDS / 4, retention: ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION });
    expect(await listCompletedCheckpoints(kept, 'kept-job')).not.toHaveLength(0);

    committed.clear();
    const deleted = new MemoryCheckpointStorage();
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
    env.enableCheckpointing(10).getCheckpointConfig().setCheckpointStorage(deleted).setMaxRetainedCheckpoints(2);
    env
      .fromSource(
        pacedSource(RECORDS, (i) => i, 1),
        undefined,
        'numbers',
      )
      .keyBy((i) => i % 5)
      .map(new RunningCount(5))
      .addSink(new MapSink());
    const client = await env.executeAsync('deleted-job');
    while (output().length < RECORDS / 4) await new Promise((r) => setTimeout(r, 2));
    const savepoint = await client.triggerSavepoint();
    while ((await listCompletedCheckpoints(deleted, 'deleted-job')).length === 0) await new Promise((r) => setTimeout(r, 2));
    await client.cancel();
    expect(await listCompletedCheckpoints(deleted, 'deleted-job')).toEqual([]);
    expect(await checkpointDirs(deleted, 'deleted-job')).toEqual([]);
    expect(await deleted.list(`${savepoint}/`)).not.toHaveLength(0);
  });

  it('rejects an unknown retention with INVALID_CONFIG', () => {
    const cfg = StreamExecutionEnvironment.getExecutionEnvironment().getCheckpointConfig();
    expect(() => cfg.setExternalizedCheckpointRetention('KEEP' as ExternalizedCheckpointRetention)).toThrow(/unknown externalized checkpoint retention KEEP/);
  });
});
