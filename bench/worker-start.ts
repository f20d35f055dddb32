/**
 * worker-start: time to a started Node worker of the `WorkerExecutor`, from source (the
 * worker registers tsx and compiles eddy's TypeScript as it loads it) vs from the build
 * (`dist/`, plain JavaScript, what `npm i eddy` gives). Each run makes a new executor
 * with one worker and runs a one-record job twice: the first run (`coldMs`) starts the
 * worker, the second (`warmMs`) reuses it, so `startMs = coldMs - warmMs` is the start.
 * The build is made first (`npm run build`); the dist side runs in a plain `node` child
 * (worker-start-job.mjs, eddy loaded by package name), since this process and the workers
 * it starts have tsx registered by `npm run bench`. `emptyWorkerMs` is the floor: an empty
 * module worker posting one message, measured in that child.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median, report, round } from './common.ts';

type Times = { cold: number; warm: number; bare?: number };

async function fromSource(): Promise<Times> {
  const { StreamExecutionEnvironment, WorkerExecutor } = await import('../src/index.ts');
  const { nodeWorkerThreads } = await import('../src/runtimes/node/node-workers.ts');
  const { tiny } = await import('./worker-start-job.ts');
  const executor = new WorkerExecutor({ workers: 1, platform: nodeWorkerThreads() });
  const run = async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setExecutor(executor);
    const t = performance.now();
    const out = await tiny.build(env, undefined).executeAndCollect();
    if (JSON.stringify(out) !== '[2]') throw new Error(`worker-start: source computed ${JSON.stringify(out)}`);
    return performance.now() - t;
  };
  try {
    const cold = await run();
    return { cold, warm: await run() };
  } finally {
    await executor.shutdown();
  }
}

function fromDist(): Times {
  const child = spawnSync(process.execPath, [fileURLToPath(new URL('./worker-start-job.mjs', import.meta.url))], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`worker-start: the dist run failed\n${child.stdout}${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as Times;
}

/** Runs the bench and prints its JSON line. */
export async function workerStart(runs: number): Promise<void> {
  const built = spawnSync(process.execPath, [fileURLToPath(new URL('../scripts/build.mjs', import.meta.url))], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`worker-start: the build failed\n${built.stdout}${built.stderr}`);
  const sides: Array<[string, () => Promise<Times> | Times]> = [
    ['source', fromSource],
    ['dist', fromDist],
  ];
  const times: Record<string, { cold: number[]; warm: number[] }> = { source: { cold: [], warm: [] }, dist: { cold: [], warm: [] } };
  const bare: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const [name, measure] of i % 2 === 0 ? sides : [...sides].reverse()) {
      const t = await measure();
      times[name]!.cold.push(t.cold);
      times[name]!.warm.push(t.warm);
      if (t.bare !== undefined) bare.push(t.bare);
    }
  }
  const summary = (name: string) => {
    const cold = median(times[name]!.cold);
    const warm = median(times[name]!.warm);
    return { coldMs: round(cold, 1), warmMs: round(warm, 1), startMs: round(cold - warm, 1) };
  };
  const source = summary('source');
  const dist = summary('dist');
  report({ bench: 'worker-start', runs, source, dist, emptyWorkerMs: round(median(bare), 1), speedup: round(source.startMs / dist.startMs, 2) });
}
