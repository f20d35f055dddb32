/**
 * workers-speedup: a CPU-heavy keyed job (per event: `ROUNDS` rounds of hashing, then a
 * MapState update) at parallelism 2, run by 2 Node worker_threads vs. the local executor
 * (both subtasks in one thread). Same graph, same generated input (made inside the
 * source subtasks on both sides), same verified output. The worker pool is warm (the
 * warm-up run starts it), so thread start-up is not timed; `coldStartMs` reports it.
 */
import { availableParallelism, loadavg } from 'node:os';
import { LocalExecutor, StreamExecutionEnvironment, WorkerExecutor, type Executor } from '../src/index.ts';
import { nodeWorkerThreads } from '../src/runtimes/node/node-workers.ts';
import { median, report, round, timeInterleaved } from './common.ts';
import { heavyHash, heavyJob, type HeavyArgs } from './workers-jobs.ts';

const ARGS: HeavyArgs = { events: 200_000, keys: 1_000, rounds: Number(process.env.BENCH_ROUNDS ?? 200) };
const FLOOR = 1.5;

async function runOn(executor: Executor): Promise<Array<[string, number, number]>> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2).setExecutor(executor);
  const out = (await heavyJob.build(env, ARGS).executeAndCollect('workers-speedup')) as Array<[string, number, number]>;
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** The expected output, computed directly. */
function expected(): string {
  const per = new Map<string, { count: number; buckets: number[] }>();
  for (let i = 0; i < ARGS.events; i++) {
    const k = 'k' + (i % ARGS.keys);
    let e = per.get(k);
    if (!e) per.set(k, (e = { count: 0, buckets: new Array(16).fill(0) }));
    const h = heavyHash(k, i, ARGS.rounds);
    e.count++;
    e.buckets[h & 15] = (e.buckets[h & 15] + h) >>> 0;
  }
  const rows = [...per].map(([k, e]): [string, number, number] => [k, e.count, e.buckets.reduce((s, v) => (s + v) >>> 0, 0)]);
  return JSON.stringify(rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/** Runs the bench and prints its JSON line. */
export async function workersSpeedup(runs: number): Promise<void> {
  const want = expected();
  const workers = new WorkerExecutor({ workers: 2, platform: nodeWorkerThreads() });
  const local = new LocalExecutor();
  const check = (who: string) => (out: Array<[string, number, number]>) => {
    if (JSON.stringify(out) !== want) throw new Error(`workers-speedup: ${who} computed a different result`);
  };
  const loadBefore = loadavg()[0]!;
  const t0 = performance.now();
  check('workers (cold)')(await runOn(workers));
  const coldStartMs = performance.now() - t0;
  // CPU time of the whole process (all threads) per run: cpu ÷ wall shows how many cores a side really got.
  const cpu: Record<string, number[]> = { workers: [], local: [] };
  const timed = (name: string, executor: Executor) => async () => {
    const c0 = process.cpuUsage();
    check(name)(await runOn(executor));
    const c = process.cpuUsage(c0);
    cpu[name]!.push((c.user + c.system) / 1000);
  };
  const [w, l] = await timeInterleaved(
    [
      { name: 'workers', run: timed('workers', workers) },
      { name: 'local', run: timed('local', local) },
    ],
    runs,
  );
  // The first entry of each side is its warm-up run.
  const cpuMs = (name: string) => round(median(cpu[name]!.slice(1)), 0);
  await workers.shutdown();
  const ratio = l!.medianMs / w!.medianMs;
  report({
    bench: 'workers-speedup',
    events: ARGS.events,
    keys: ARGS.keys,
    hashRoundsPerEvent: ARGS.rounds,
    parallelism: 2,
    input:
      'generated inside the source subtasks (index ranges), keyBy key, hash + MapState<number, number> per event, [key, count, checksum] per key at the end; result verified on both sides',
    stat: `median of ${runs} interleaved runs after 1 warm-up each; worker pool warm`,
    engineEventsPerSec: Math.round(ARGS.events / (w!.medianMs / 1000)),
    baselineEventsPerSec: Math.round(ARGS.events / (l!.medianMs / 1000)),
    baseline: 'same job on the local executor (both subtasks in one thread)',
    ratio: round(ratio, 3),
    bestRatio: round(l!.bestMs / w!.bestMs, 3),
    engineMs: w!.ms,
    baselineMs: l!.ms,
    engineCpuMs: cpuMs('workers'),
    baselineCpuMs: cpuMs('local'),
    engineCoresUsed: round(cpuMs('workers') / w!.medianMs, 2),
    baselineCoresUsed: round(cpuMs('local') / l!.medianMs, 2),
    coldStartMs: round(coldStartMs, 0),
    cores: availableParallelism(),
    loadAverage: [round(loadBefore, 2), round(loadavg()[0]!, 2)],
    floor: FLOOR,
    floorRule: 'ratio >= 1.5 (local ms / workers ms)',
    pass: ratio >= FLOOR,
  });
}
