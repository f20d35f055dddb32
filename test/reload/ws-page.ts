/**
 * The page of `ws-reload.test.ts` (served by Vite, driven by Playwright): a keyed counting
 * job fed by the numbered events of a real WebSocket server (test/helpers/ws-stream-server.ts),
 * checkpointing to OPFS and committing through a two-phase-commit sink into localStorage
 * (one item per transaction, so a repeated commit is idempotent). Each committed record
 * is `<event>:<key>:<count of the key>`, so the test sees which event was counted, how
 * often, and whether the state counted something whose output was lost.
 *
 * - `log: 'indexeddb' | 'opfs'`: every message is appended to a `DurableLog` and acknowledged
 *   to the server (`ack:<event>`) once the append resolved; the job reads the log.
 * - `log: 'none'`: `WebSocketSource` feeds the job directly; every message the socket
 *   delivered is recorded in localStorage (`<name>:recv:<load>:<seq>`) as it arrives, so the
 *   test knows what was received before a reload.
 */
import {
  DurableLog,
  OpfsCheckpointStorage,
  RichMapFunction,
  StreamExecutionEnvironment,
  TwoPhaseCommitSink,
  ValueStateDescriptor,
  WebSocketSource,
} from '../../src/index.ts';
import type { DataStream, RuntimeContext, ValueState } from '../../src/index.ts';
import { IndexedDbInputLogStore } from '../../src/storages/indexeddb-input-log.ts';
import { OpfsInputLogStore } from '../../src/storages/opfs-input-log.ts';

/** What one load is told. */
export interface WsReloadRun {
  /** Job name, log name, OPFS directory and localStorage prefix. */
  name: string;
  /** The test server's `ws://` address. */
  url: string;
  log: 'indexeddb' | 'opfs' | 'none';
  /** Which load of the page this is (0, 1, …), for the received-events record. */
  load: number;
}

/** Keys are `v % KEYS`. */
export const KEYS = 7;

/** Counts per key and emits `<event>:<key>:<count>`. */
class CountWithEvent extends RichMapFunction<number, string> {
  private c!: ValueState<number>;
  override open(ctx: RuntimeContext) {
    this.c = ctx.getState(new ValueStateDescriptor<number>('c'));
  }
  async map(v: number) {
    const n = ((await this.c.value()) ?? 0) + 1;
    await this.c.update(n);
    return `${v}:${v % KEYS}:${n}`;
  }
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
    localStorage.setItem(`${this.prefix}:out:${txn.id}`, JSON.stringify(txn.records));
  }
  abort() {}
}

interface PageState {
  /** The job finished (the server closed the stream cleanly and, without a log, everything was committed). */
  finished?: boolean;
  /** With a log: the server ended the stream and every append resolved; the log's end then. */
  streamEnded?: number;
  failed?: string;
}
const g = globalThis as PageState;

/** Starts the job (and, with a log, the socket); resolves with the log's bounds at start (zeros without a log). */
async function run(r: WsReloadRun): Promise<{ first: number; next: number }> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
  env
    .enableCheckpointing(25)
    .getCheckpointConfig()
    .setCheckpointStorage(new OpfsCheckpointStorage({ directory: r.name }))
    .setMaxRetainedCheckpoints(2);
  env.fromLatestCheckpoint();
  let started = { first: 0, next: 0 };
  let log: DurableLog<number> | undefined;
  if (r.log === 'none') {
    let seq = 0;
    const connect = () => {
      const socket = new WebSocket(r.url);
      socket.addEventListener('message', (e) => localStorage.setItem(`${r.name}:recv:${r.load}:${seq++}`, String(e.data)));
      return socket;
    };
    const source = new WebSocketSource<number>(connect, { map: (d) => Number(d), bufferSize: 100_000 });
    build(env.fromSource(source, undefined, 'ticks').setParallelism(1), r);
  } else {
    const store = r.log === 'opfs' ? new OpfsInputLogStore(r.name) : new IndexedDbInputLogStore(r.name);
    const opened = await DurableLog.open<number>(store, { name: r.name });
    log = opened;
    started = { first: opened.firstOffset, next: opened.nextOffset };
    build(env.fromSource(opened.source(), undefined, 'ticks'), r);
    // The producer: append each message, acknowledge it once durable. The server never sends an event twice.
    const socket = new WebSocket(r.url);
    const appends: Promise<unknown>[] = [];
    socket.addEventListener('message', (e) => {
      const v = Number(e.data);
      appends.push(opened.append(v).then(() => socket.send(`ack:${v}`)));
    });
    socket.addEventListener('close', (e) => {
      if (e.wasClean) void Promise.all(appends).then(() => (g.streamEnded = opened.nextOffset));
    });
  }
  env
    .execute(r.name)
    .then(async () => {
      await log?.close();
      g.finished = true;
    })
    .catch((e: unknown) => (g.failed = String(e)));
  return started;
}

function build(source: DataStream<number>, r: WsReloadRun) {
  source
    .uid('ticks')
    .keyBy((v: number) => v % KEYS)
    .map(new CountWithEvent())
    .uid('count')
    .addSink(new LocalStorageSink(r.name))
    .uid('sink');
}

(globalThis as { eddyWsReload?: { run: typeof run } }).eddyWsReload = { run };
