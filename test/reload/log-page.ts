/**
 * The page of `log-reload.test.ts` (served by Vite, driven by Playwright): DOM events
 * (`CustomEvent`s dispatched on `document`, numbered `0 … events-1`) are appended by
 * their listener to a durable input log in IndexedDB; a keyed counting job reads the log,
 * checkpoints to OPFS and commits through a two-phase-commit sink into localStorage (one
 * item per transaction, so a repeated commit is idempotent). The page is reloaded
 * mid-stream; the next load resumes the job from its newest checkpoint and the events
 * from the log's next offset (what a real page would do by asking its server, or simply
 * going on listening).
 *
 * Mid-stream on any machine: the page reloads itself from the commit that brings its
 * output `reloadAfter` results further (the test once polled for that and reloaded, but on a
 * loaded machine its polls reached the busy page late: one load logged 1160 of 1500 events
 * before the first reload, and the job could finish before the last), and the "user" stays
 * at most AHEAD events ahead of the committed output, so a slow job is not outrun either.
 */
import { DurableLog, OpfsCheckpointStorage, StreamExecutionEnvironment, TwoPhaseCommitSink } from '../../src/index.ts';
import { IndexedDbInputLogStore } from '../../src/storages/indexeddb-input-log.ts';
import { RunningCount } from '../helpers/running-count.ts';

/** Most events dispatched but not yet in committed output. */
const AHEAD = 150;

/** What one load is told. */
export interface LogReloadRun {
  /** Job name, IndexedDB log name, OPFS directory and localStorage prefix. */
  name: string;
  events: number;
  /** The page reloads itself once this many more results committed; absent: it runs to the end. */
  reloadAfter?: number;
}

/** The page's state when it reloaded itself (kept in sessionStorage, which a reload keeps). */
export interface ReloadPoint {
  dispatched: number;
  committed: number;
  finished: boolean;
}

/** Results committed so far, by this load and the earlier ones (one per event). A module variable: each sink subtask works on its own copy of the sink. */
let committed = 0;
/** Events this load's "user" dispatched (numbered from 0 across loads). */
let dispatched = 0;
/** The commit count from which this load reloads the page. */
let reloadAt = Number.POSITIVE_INFINITY;
let onReload = () => {};

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
    const key = `${this.prefix}:${txn.id}`;
    if (localStorage.getItem(key) === null) committed += txn.records.length; // a repeated commit adds nothing
    localStorage.setItem(key, JSON.stringify(txn.records));
    if (committed >= reloadAt && dispatched > committed) {
      // Only with events dispatched but not committed: they must come back from the log.
      reloadAt = Number.POSITIVE_INFINITY;
      onReload();
    }
  }
  abort() {}
}

/** Starts producing and the job; resolves with the log's bounds at start and, at the end, nothing. */
async function run(r: LogReloadRun): Promise<{ first: number; next: number }> {
  const g = globalThis as { finished?: boolean };
  const log = await DurableLog.open<number>(new IndexedDbInputLogStore(r.name), { name: r.name });
  const started = { first: log.firstOffset, next: log.nextOffset };
  document.addEventListener('tick', (e) => void log.append((e as CustomEvent<number>).detail));
  committed = Object.keys(localStorage)
    .filter((k) => k.startsWith(`${r.name}:`))
    .reduce((n, k) => n + (JSON.parse(localStorage.getItem(k)!) as string[]).length, 0);
  // The "user": two events every 5 ms, continuing after what the log already holds, at most AHEAD ahead of the committed output.
  dispatched = log.nextOffset;
  const timer = setInterval(() => {
    for (let k = 0; k < 2 && dispatched < r.events && dispatched < committed + AHEAD; k++)
      document.dispatchEvent(new CustomEvent('tick', { detail: dispatched++ }));
    if (dispatched >= r.events) clearInterval(timer);
  }, 5);
  if (r.reloadAfter !== undefined) {
    reloadAt = committed + r.reloadAfter;
    onReload = () => {
      const points = JSON.parse(sessionStorage.getItem(`${r.name}:reloads`) ?? '[]') as ReloadPoint[];
      points.push({ dispatched, committed, finished: g.finished === true });
      sessionStorage.setItem(`${r.name}:reloads`, JSON.stringify(points));
      location.reload();
    };
  }
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
  void env.execute(r.name).then(async () => {
    await log.close();
    g.finished = true;
  });
  return started;
}

(globalThis as { eddyLogReload?: { run: typeof run } }).eddyLogReload = { run };
