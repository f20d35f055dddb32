/**
 * Chaos inside one process (the local executor): user code that throws, checkpoint writes
 * that fail or tear, checkpoint reads that come back corrupt. Every run is the same keyed
 * job (running counts in ValueState, 10-ms windows in MapState fired by event-time timers,
 * output through `executeAndCollect`, whose commits follow completed checkpoints), and its
 * output is compared with the failure-free run's.
 */
import { RestartStrategies, StreamExecutionEnvironment, WatermarkStrategy, type Collector, type KeyedProcessContext } from '../../src/index.ts';
import { SqliteStateBackend } from '../../src/backends/sqlite/index.ts';
import { pacedSource } from '../helpers/sources.ts';
import { prng } from '../helpers/prng.ts';
import { CountAndWindows, type Ev } from '../workers/jobs.ts';
import { ChaosStorage, Trap, type StorageFaults } from './chaos-storage.ts';
import { failed, judge, newTally, record, settleWithin, type Tally } from './tally.ts';

const RECORDS = 600;
const event = (i: number): Ev => ({ key: `k${(i * 7) % 13}`, ts: i, seq: i });

/** The worker tests' counting job, whose record `trap` names throws once. */
class TrappedCount extends CountAndWindows {
  constructor(private readonly trap: Trap) {
    super();
  }
  override processElement(e: Ev, ctx: KeyedProcessContext<string>, out: Collector<string>) {
    this.trap.check(e.seq);
    return super.processElement(e, ctx, out);
  }
}

/** One faulted run's setup. */
export interface InProcessRun {
  readonly name: string;
  readonly parallelism: number;
  readonly backend: 'hashmap' | 'sqlite';
  readonly trap: Trap;
  readonly faults: StorageFaults;
}

async function runJob(r: InProcessRun): Promise<{ output: string[]; storage: ChaosStorage }> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(r.parallelism);
  if (r.backend === 'sqlite') env.setStateBackend(new SqliteStateBackend({ vfs: 'memory', cacheBytes: 16 << 10 }));
  env.enableCheckpointing(2).setRestartStrategy(RestartStrategies.fixedDelayRestart(4, 0));
  const storage = new ChaosStorage(r.faults, r.trap);
  env.getCheckpointConfig().setCheckpointStorage(storage).setMaxRetainedCheckpoints(2);
  const output = (await env
    .fromSource(
      pacedSource(RECORDS, event, 4),
      WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.ts),
      'events',
    )
    .uid('events')
    .keyBy((e) => e.key)
    .process(new TrappedCount(r.trap))
    .uid('count')
    .executeAndCollect(`chaos-${r.parallelism}`)) as string[];
  return { output, storage };
}

/** How many runs of each family, and the seed that picks their fault points. */
export interface InProcessPlan {
  readonly seed: number;
  readonly userFailures: number;
  readonly failedPartWrites: number;
  readonly failedManifestWrites: number;
  readonly tornParts: number;
  readonly corruptReads: number;
  /** Runs a family on SQLite-WASM instead of the heap backend every `sqliteEvery` runs (0: never). */
  readonly sqliteEvery: number;
}

/** The runs of `plan`, with fault points drawn from its seed. */
export function inProcessRuns(plan: InProcessPlan): InProcessRun[] {
  const random = prng(plan.seed);
  const pick = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const runs: InProcessRun[] = [];
  const add = (name: string, trap: Trap, faults: StorageFaults) => {
    const i = runs.length;
    const parallelism = [1, 2, 3][i % 3]!;
    const backend = plan.sqliteEvery > 0 && i % plan.sqliteEvery === plan.sqliteEvery - 1 ? 'sqlite' : 'hashmap';
    runs.push({ name: `${name} (p=${parallelism}, ${backend})`, parallelism, backend, trap, faults });
  };
  for (let i = 0; i < plan.userFailures; i++) {
    const at = pick(1, RECORDS - 1);
    add(`user code throws at record ${at}`, new Trap(at), {});
  }
  for (let i = 0; i < plan.failedPartWrites; i++) {
    const n = pick(1, 60);
    add(`part write #${n} fails`, new Trap(), { failPartWrite: n });
  }
  for (let i = 0; i < plan.failedManifestWrites; i++) {
    const n = pick(1, 20);
    add(`manifest commit #${n} fails`, new Trap(), { failManifestWrite: n });
  }
  for (let i = 0; i < plan.tornParts; i++) {
    const n = pick(1, 40);
    add(`part write #${n} is torn, then a task fails`, new Trap(), { tearPartWrite: n });
  }
  for (let i = 0; i < plan.corruptReads; i++) {
    const trap = new Trap(pick(100, RECORDS - 1));
    add(`a task fails at record ${trap.atRecord}, then a checkpoint part reads back corrupt`, trap, { corruptReadAfter: trap });
  }
  return runs;
}

/** Runs every run of `plan` (`concurrency` at a time) against the failure-free output and tallies the verdicts. */
export async function runInProcessChaos(plan: InProcessPlan, concurrency = 8, hangAfterMs = 60_000): Promise<Tally> {
  const expected = new Map<string, string[]>();
  for (const p of [1, 2, 3])
    expected.set(String(p), (await runJob({ name: 'baseline', parallelism: p, backend: 'hashmap', trap: new Trap(), faults: {} })).output.sort());
  const tally = newTally();
  const runs = inProcessRuns(plan);
  const warn = console.warn;
  console.warn = () => {};
  try {
    for (let i = 0; i < runs.length; i += concurrency) {
      await Promise.all(
        runs.slice(i, i + concurrency).map(async (r) => {
          let storage: ChaosStorage | undefined;
          const settled = await settleWithin(hangAfterMs, async () => {
            const result = await runJob(r);
            storage = result.storage;
            return result.output.sort();
          });
          // A fault that never happened (the job ended first) is not counted as one.
          const faults = (r.trap.sprung ? 1 : 0) + (storage?.injected ?? 0);
          if ('hang' in settled) record(tally, r.name, faults, { kind: 'hang', after: hangAfterMs });
          else if ('error' in settled) record(tally, r.name, faults, failed(settled.error));
          else record(tally, r.name, faults, judge(expected.get(String(r.parallelism))!, settled.value));
        }),
      );
    }
  } finally {
    console.warn = warn;
  }
  return tally;
}
