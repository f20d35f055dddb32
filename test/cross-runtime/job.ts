/**
 * The job of the cross-runtime savepoint test, the same in Chromium, Node and Deno (it
 * imports no platform code): numbers `0 … records-1` keyed by `v % 7`, a running count in
 * `ValueState` and a per-key tally in `MapState`, written through a two-phase-commit sink.
 * One leg runs until a given record, stops with a savepoint and says where it is; the
 * next leg, in another runtime, on another backend and at another parallelism, starts
 * from that savepoint.
 */
import {
  CheckpointingMode,
  KeyedProcessFunction,
  MapStateDescriptor,
  StreamExecutionEnvironment,
  TwoPhaseCommitSink,
  type CheckpointStorage,
  type Collector,
  type JobClient,
  type KeyedProcessContext,
  type MapState,
  type RuntimeContext,
  type StateBackend,
} from '../../src/index.ts';
import { pacedSource } from '../helpers/sources.ts';
import { RunningCount } from '../helpers/running-count.ts';

export const RECORDS = 900;
const KEYS = 7;
const JOB = 'portable';

/** One leg of the run. */
export interface Leg {
  readonly parallelism: number;
  readonly backend: StateBackend;
  readonly storage: CheckpointStorage;
  /** The savepoint this leg starts from (a path in `storage`). */
  readonly fromSavepoint?: string;
  /** The record at which this leg stops with a savepoint; runs to the end without. */
  readonly stopAt?: number;
  /**
   * Receives each committed transaction's id and records. A leg that starts from a
   * savepoint commits the savepoint's pending transaction again (Flink's
   * `recoverAndCommit`: commits must be idempotent), so the caller keeps them by id.
   */
  onCommit(id: string, records: string[]): void;
}

/** Per key, how often each `v % 3` was seen, in `MapState`: `<key>/<v % 3>=<n>`. */
class Tally extends KeyedProcessFunction<number, number, string> {
  private seen!: MapState<number, number>;
  override open(ctx: RuntimeContext) {
    this.seen = ctx.getMapState(new MapStateDescriptor<number, number>('seen'));
  }
  async processElement(v: number, ctx: KeyedProcessContext<number>, out: Collector<string>) {
    const n = ((await this.seen.get(v % 3)) ?? 0) + 1;
    await this.seen.put(v % 3, n);
    out.collect(`${ctx.getCurrentKey()}/${v % 3}=${n}`);
  }
}

type Txn = { id: string; records: string[] };

class CallbackSink extends TwoPhaseCommitSink<string, Txn> {
  constructor(private readonly onCommit: (id: string, records: string[]) => void) {
    super();
  }
  beginTransaction() {
    return { id: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`, records: [] };
  }
  invoke(txn: Txn, v: string) {
    txn.records.push(v);
  }
  preCommit() {}
  commit(txn: Txn) {
    this.onCommit(txn.id, txn.records);
  }
  abort() {}
}

/** Runs one leg; resolves with its savepoint path when it stopped at `stopAt`. */
export async function runLeg(leg: Leg): Promise<string | undefined> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(leg.parallelism).setStateBackend(leg.backend);
  env.enableCheckpointing(60_000, CheckpointingMode.EXACTLY_ONCE).getCheckpointConfig().setCheckpointStorage(leg.storage);
  if (leg.fromSavepoint !== undefined) env.fromSavepoint(leg.fromSavepoint);
  let client: JobClient | undefined;
  let stopping: Promise<string> | undefined;
  const numbers = env
    .fromSource(
      pacedSource(RECORDS, (i) => i, 3),
      undefined,
      'numbers',
    )
    .setParallelism(1)
    .uid('numbers')
    .map((v: number) => {
      if (v === leg.stopAt && stopping === undefined) stopping = client!.stopWithSavepoint();
      return v;
    })
    .setParallelism(1)
    .uid('stopper');
  const counts = numbers
    .keyBy((v) => v % KEYS)
    .map(new RunningCount(KEYS))
    .uid('count');
  const tallies = numbers
    .keyBy((v) => v % KEYS)
    .process(new Tally())
    .uid('tally');
  counts.union(tallies).addSink(new CallbackSink(leg.onCommit)).uid('sink');
  client = await env.executeAsync(JOB);
  await client.result.catch((e: unknown) => {
    if (stopping === undefined) throw e;
  });
  return stopping;
}

/** What the job commits over all legs together when nothing is lost or repeated, sorted. */
export function expectedOutput(): string[] {
  const counts = new Map<number, number>();
  const tallies = new Map<string, number>();
  const out: string[] = [];
  for (let v = 0; v < RECORDS; v++) {
    const key = v % KEYS;
    const c = (counts.get(key) ?? 0) + 1;
    counts.set(key, c);
    out.push(`${key}:${c}`);
    const t = `${key}/${v % 3}`;
    const n = (tallies.get(t) ?? 0) + 1;
    tallies.set(t, n);
    out.push(`${t}=${n}`);
  }
  return out.sort();
}
