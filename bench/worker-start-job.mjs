// The dist side of the worker-start bench, run by plain `node` (no tsx in this process or
// its workers). `eddy` is the package itself: Node resolves a package's own name through
// its `exports`, so this is dist/. `node bench/worker-start-job.mjs` prints one
// `{ cold, warm }` measurement (see worker-start.ts).
import { defineJob, StreamExecutionEnvironment, WorkerExecutor } from 'eddy';
import { nodeWorkerThreads } from 'eddy/runtimes/node-workers';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** One record through one operator: the run costs little beyond starting the worker. */
export const tiny = defineJob(import.meta.url, 'tiny', (env) => env.fromElements(1).map((x) => x + 1));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const executor = new WorkerExecutor({ workers: 1, platform: nodeWorkerThreads() });
  const run = async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setExecutor(executor);
    const t = performance.now();
    const out = await tiny.build(env, undefined).executeAndCollect();
    if (JSON.stringify(out) !== '[2]') throw new Error(`worker-start: dist computed ${JSON.stringify(out)}`);
    return performance.now() - t;
  };
  const cold = await run();
  const warm = await run();
  await executor.shutdown();
  // The floor: an empty module worker that posts one message (what any worker costs here).
  const t = performance.now();
  const bare = new Worker(new URL('data:text/javascript,import { parentPort } from "node:worker_threads"; parentPort.postMessage(0);'));
  await new Promise((resolve) => bare.once('message', resolve));
  const bareMs = performance.now() - t;
  await bare.terminate();
  console.log(JSON.stringify({ cold, warm, bare: bareMs }));
}
