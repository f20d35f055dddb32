/**
 * The browser side of the `workers-speedup-chromium` bench: workers-speedup's CPU-heavy
 * keyed job (bench/workers-jobs.ts) on 2 dedicated module Web Workers (`webWorkers()`)
 * against the local executor on the page's main thread, timed interleaved in the page.
 * Each run's output is checked against a direct computation.
 */
import { LocalExecutor, StreamExecutionEnvironment, WorkerExecutor, type Executor } from '../../src/index.ts';
import { webWorkers } from '../../src/runtimes/web/web-workers.ts';
import { heavyHash, heavyJob, type HeavyArgs } from '../workers-jobs.ts';

/** The runner's request. */
export interface WorkersBenchConfig extends HeavyArgs {
  readonly runs: number;
  /** Credits per channel between the workers (WorkerExecutor's default when absent); for profiling. */
  readonly credits?: number;
  /** WorkerExecutor's sourceBatchSize and inputYieldIntervalMs (its defaults when absent); for profiling. */
  readonly sourceBatchSize?: number;
  readonly inputYieldIntervalMs?: number;
  /** Workers of the workers side (default 2); for profiling. */
  readonly workerCount?: number;
  /**
   * For profiling: a second workers side with these options, run after the first in every
   * round (marked `workersB <run>`), to compare two settings under the same load.
   */
  readonly variantB?: { readonly sourceBatchSize?: number; readonly credits?: number };
}

/** What the page measured (ms per run; warm-up runs excluded). */
export interface WorkersBenchResult {
  readonly workers: number[];
  /** The runs of `variantB`, when asked for. */
  readonly workersB?: number[];
  readonly local: number[];
  readonly coldStartMs: number;
  readonly hardwareConcurrency: number;
}

type Row = [string, number, number];
const byKey = (a: Row, b: Row) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

function expected(a: HeavyArgs): string {
  const per = new Map<string, { count: number; buckets: number[] }>();
  for (let i = 0; i < a.events; i++) {
    const k = `k${i % a.keys}`;
    let e = per.get(k);
    if (!e) per.set(k, (e = { count: 0, buckets: new Array(16).fill(0) }));
    const h = heavyHash(k, i, a.rounds);
    e.count++;
    e.buckets[h & 15] = (e.buckets[h & 15]! + h) >>> 0;
  }
  const rows = [...per].map(([k, e]): Row => [k, e.count, e.buckets.reduce((s, v) => (s + v) >>> 0, 0)]);
  return JSON.stringify(rows.sort(byKey));
}

async function runBench(c: WorkersBenchConfig): Promise<WorkersBenchResult> {
  const want = expected(c);
  const workers = new WorkerExecutor({
    workers: c.workerCount ?? 2,
    platform: webWorkers(),
    credits: c.credits,
    sourceBatchSize: c.sourceBatchSize,
    inputYieldIntervalMs: c.inputYieldIntervalMs,
  });
  const variant =
    c.variantB && new WorkerExecutor({ workers: c.workerCount ?? 2, platform: webWorkers(), inputYieldIntervalMs: c.inputYieldIntervalMs, ...c.variantB });
  const local = new LocalExecutor();
  const once = async (who: string, executor: Executor) => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2).setExecutor(executor);
    const out = (await heavyJob.build(env, c).executeAndCollect('workers-speedup')) as Row[];
    if (JSON.stringify(out.sort(byKey)) !== want) throw new Error(`workers-speedup-chromium: ${who} computed a different result`);
  };
  try {
    const t0 = performance.now();
    await once('workers (cold)', workers);
    const coldStartMs = performance.now() - t0;
    performance.measure('workers warm-up', { start: t0 });
    const t1 = performance.now();
    await once('local (warm-up)', local);
    performance.measure('local warm-up', { start: t1 });
    if (variant) await once('workersB (cold)', variant);
    const ms = { workers: [] as number[], local: [] as number[], workersB: [] as number[] };
    const sides: Array<readonly ['workers' | 'local' | 'workersB', Executor]> = [
      ['workers', workers],
      ['local', local],
    ];
    if (variant) sides.push(['workersB', variant]);
    for (let r = 0; r < c.runs; r++) {
      for (const [name, executor] of sides) {
        const t = performance.now();
        await once(name, executor);
        ms[name].push(performance.now() - t);
        // Marks a run in a trace (bench/profile-workers-chromium.ts) and costs nothing otherwise.
        performance.measure(`${name} ${r}`, { start: t });
      }
    }
    return { ...ms, workersB: variant ? ms.workersB : undefined, coldStartMs, hardwareConcurrency: navigator.hardwareConcurrency };
  } finally {
    await workers.shutdown();
    await variant?.shutdown();
  }
}

(globalThis as unknown as { runWorkersBench: typeof runBench }).runWorkersBench = runBench;
