/**
 * The page of `log-reload.test.ts` (served by Vite, driven by Playwright): DOM events
 * (`CustomEvent`s dispatched on `document`, numbered `0 … events-1`) are appended by
 * their listener to a durable input log in IndexedDB; a keyed counting job reads the log,
 * checkpoints to OPFS and commits through a two-phase-commit sink into localStorage (one
 * item per transaction, so a repeated commit is idempotent). The page is reloaded
 * mid-stream; the next load resumes the job from its newest checkpoint and the events
 * from the log's next offset (what a real page would do by asking its server, or simply
 * going on listening).
 */
import { DurableLog, OpfsCheckpointStorage, StreamExecutionEnvironment, TwoPhaseCommitSink } from '../../src/index.ts';
import { IndexedDbInputLogStore } from '../../src/storages/indexeddb-input-log.ts';
import { RunningCount } from '../helpers/running-count.ts';

/** What one load is told. */
export interface LogReloadRun {
  /** Job name, IndexedDB log name, OPFS directory and localStorage prefix. */
  name: string;
  events: number;
}

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

/** Starts producing and the job; resolves with the log's bounds at start and, at the end, nothing. */
async function run(r: LogReloadRun): Promise<{ first: number; next: number }> {
  const log = await DurableLog.open<number>(new IndexedDbInputLogStore(r.name), { name: r.name });
  const started = { first: log.firstOffset, next: log.nextOffset };
  document.addEventListener('tick', (e) => void log.append((e as CustomEvent<number>).detail));
  // The "user": one event every few ms, continuing after what the log already holds.
  let i = log.nextOffset;
  const timer = setInterval(() => {
    for (let k = 0; k < 2 && i < r.events; k++) document.dispatchEvent(new CustomEvent('tick', { detail: i++ }));
    if (i >= r.events) clearInterval(timer);
  }, 5);
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
  env
    .enableCheckpointing(25)
    .getCheckpointConfig()
    .setCheckpointStorage(new OpfsCheckpointStorage({ directory: r.name }))
    .setMaxRetainedCheckpoints(2);
  env.fromLatestCheckpoint();
  env
    .fromSource(log.source({ stopAtOffset: r.events }), undefined, 'ticks')
    .uid('ticks')
    .keyBy((v) => v % 7)
    .map(new RunningCount(7))
    .uid('count')
    .addSink(new LocalStorageSink(r.name))
    .uid('sink');
  const g = globalThis as { finished?: boolean };
  void env.execute(r.name).then(async () => {
    await log.close();
    g.finished = true;
  });
  return started;
}

(globalThis as { eddyLogReload?: { run: typeof run } }).eddyLogReload = { run };
