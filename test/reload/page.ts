/**
 * The page of `opfs-reload.test.ts` (served by Vite, driven by Playwright): a keyed
 * counting job on IndexedDbStateBackend with checkpoints in OPFS, writing through a
 * two-phase-commit sink into localStorage (one item per committed transaction, so a
 * commit repeated after a restore is idempotent). The page can be reloaded mid-job; the
 * next load resumes from the newest complete checkpoint in OPFS.
 */
import {
  IndexedDbStateBackend,
  OpfsCheckpointStorage,
  RichMapFunction,
  StreamExecutionEnvironment,
  TwoPhaseCommitSink,
  ValueStateDescriptor,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { listCompletedCheckpoints } from '../../src/engine/checkpoint-restore.ts';
import { pacedSource } from '../helpers/sources.ts';
import { RunningCount } from '../helpers/running-count.ts';

/** What one run of the job is told. */
export interface ReloadRun {
  /** Job name = checkpoint scope; also the localStorage prefix of committed output. */
  job: string;
  /** OPFS directory of the checkpoint storage. */
  directory: string;
  records: number;
  /** Resume from the newest complete checkpoint in OPFS (the second load does). */
  resume: boolean;
}

/** Commits a transaction as one localStorage item named by its id: idempotent. */
class LocalStorageSink extends TwoPhaseCommitSink<string, { id: string; records: string[] }> {
  constructor(private readonly prefix: string) {
    super();
  }
  beginTransaction() {
    return { id: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`, records: [] as string[] };
  }
  invoke(txn: { records: string[] }, v: string) {
    txn.records.push(v);
  }
  preCommit() {}
  commit(txn: { id: string; records: string[] }) {
    localStorage.setItem(`${this.prefix}:${txn.id}`, JSON.stringify(txn.records));
  }
  abort() {}
}

/** Runs the job to its end; resolves with the checkpoint it resumed from, if any. */
async function run(r: ReloadRun): Promise<string | null> {
  const storage = new OpfsCheckpointStorage({ directory: r.directory });
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
  env.enableCheckpointing(25).getCheckpointConfig().setCheckpointStorage(storage).setMaxRetainedCheckpoints(2);
  env.setStateBackend(new IndexedDbStateBackend());
  if (r.resume) env.fromLatestCheckpoint();
  // Only for the test's report of where the run resumed; the resume itself is the public call above.
  const [latest] = r.resume ? await listCompletedCheckpoints(storage, r.job) : [];
  env
    .fromSource(
      pacedSource(r.records, (i) => i, 2),
      undefined,
      'numbers',
    )
    .uid('numbers')
    .keyBy((i) => i % 7)
    .map(new RunningCount(7))
    .uid('count')
    .addSink(new LocalStorageSink(r.job))
    .uid('sink');
  await env.execute(r.job);
  return latest ?? null;
}

(globalThis as { eddyReload?: { run: typeof run } }).eddyReload = { run };
