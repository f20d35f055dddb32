/**
 * workers-speedup-chromium: workers-speedup's CPU-heavy keyed job at parallelism 2 on 2
 * dedicated module Web Workers in headless Chromium (`webWorkers()`), against the local
 * executor on the page's main thread. The page (bench/browser/workers-page.ts) is served
 * by Vite and driven by Playwright; sides are timed in the page, interleaved, after one
 * warm-up each (the worker pool stays warm), and every run's output is verified.
 *
 * Two figures: `ratioAfterOneWarmup` over the first `runs` pairs (the method of the other
 * benches), and `ratio` over the last `runs` pairs, after `BENCH_WORKERS_WARMUP` (default
 * 5) more interleaved pairs: what a long-running job sees once each worker's isolate has
 * compiled its code (bench/README.md says why the workers need more runs than the page).
 */
import { availableParallelism, loadavg } from 'node:os';
import { openChromium } from '../test/helpers/chromium-page.ts';
import { median, report, round } from './common.ts';
import type { WorkersBenchConfig, WorkersBenchResult } from './browser/workers-page.ts';

const ARGS = { events: 200_000, keys: 1_000, rounds: Number(process.env.BENCH_ROUNDS ?? 200) };
const FLOOR = 1.5;
/** Extra interleaved pairs before the steady-state figure (the JIT warm-up of the workers' isolates). */
const WARM_PAIRS = Number(process.env.BENCH_WORKERS_WARMUP ?? 5);

/** Runs the bench and prints its JSON line. */
export async function workersSpeedupChromium(runs: number): Promise<void> {
  const session = await openChromium();
  try {
    const { page, origin } = session;
    await page.goto(`${origin}/bench/browser/workers.html`);
    await page.waitForFunction(() => 'runWorkersBench' in globalThis, undefined, { timeout: 60_000 });
    const loadBefore = loadavg()[0]!;
    const c: WorkersBenchConfig = { ...ARGS, runs: runs + WARM_PAIRS };
    const ms = (await page.evaluate(
      (x) => (globalThis as unknown as { runWorkersBench(c: WorkersBenchConfig): Promise<WorkersBenchResult> }).runWorkersBench(x),
      c,
    )) as WorkersBenchResult;
    // Early: the first `runs` pairs after one warm-up each; warm: the last `runs` pairs.
    const early = { workers: ms.workers.slice(0, runs), local: ms.local.slice(0, runs) };
    const warm = { workers: ms.workers.slice(-runs), local: ms.local.slice(-runs) };
    const w = median(warm.workers);
    const l = median(warm.local);
    const ratio = l / w;
    const ratioAfterOneWarmup = median(early.local) / median(early.workers);
    report({
      bench: 'workers-speedup-chromium',
      browser: 'Chromium (installed, headless), 2 dedicated module Web Workers vs the page main thread',
      events: ARGS.events,
      keys: ARGS.keys,
      hashRoundsPerEvent: ARGS.rounds,
      parallelism: 2,
      stat: `median of the last ${runs} of ${runs + WARM_PAIRS} interleaved runs per side after 1 warm-up each (ratio), of the first ${runs} (ratioAfterOneWarmup); worker pool warm; results verified`,
      engineEventsPerSec: Math.round(ARGS.events / (w / 1000)),
      baselineEventsPerSec: Math.round(ARGS.events / (l / 1000)),
      baseline: 'same job on the local executor (both subtasks on the page main thread)',
      ratio: round(ratio, 3),
      bestRatio: round(Math.min(...warm.local) / Math.min(...warm.workers), 3),
      ratioAfterOneWarmup: round(ratioAfterOneWarmup, 3),
      warmupPairs: 1 + WARM_PAIRS,
      engineMs: ms.workers.map((x) => round(x, 1)),
      baselineMs: ms.local.map((x) => round(x, 1)),
      coldStartMs: round(ms.coldStartMs, 0),
      hardwareConcurrency: ms.hardwareConcurrency,
      cores: availableParallelism(),
      loadAverage: [round(loadBefore, 2), round(loadavg()[0]!, 2)],
      floor: FLOOR,
      floorRule: 'ratio >= 1.5 (local ms / workers ms, steady state) on 2 cores',
      pass: ratio >= FLOOR,
    });
  } finally {
    await session.close();
  }
}
