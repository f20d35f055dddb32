/**
 * The browser adapter of the {@link WorkerExecutor}: dedicated module Web Workers
 * running `./worker-entry.ts`, connected by `MessageChannel`s whose ports are
 * transferred to them.
 *
 * ```ts
 * env.setExecutor(new WorkerExecutor({ workers: navigator.hardwareConcurrency, platform: webWorkers() }));
 * ```
 *
 * The default entry is written as `new Worker(new URL(…, import.meta.url), { type:
 * 'module' })`, the form Vite (dev server, build, vitest browser mode) recognises; other
 * bundlers may need `entry` set to the URL of the bundled src/runtimes/web/worker-entry.ts.
 * Globals (`Worker`, `MessageChannel`) are touched only when a worker is spawned.
 *
 * The default entry imports each job's module by its URL. When a bundler merged that
 * module into the page's code (a Vite production build of a statically imported job
 * module), the app gives its own entry instead: `worker: () => new Worker(new
 * URL('./eddy-worker.ts', import.meta.url), { type: 'module' })`, whose module imports the
 * jobs and calls {@link serveWebWorker}.
 */
import type { JobDefinition, JobResult } from '../../datastream/job-definition.ts';
import { keptChannelYield } from '../../engine/yield.ts';
import { runWorkerHost, type HostEndpoint } from '../../workers/worker-host.ts';
import type { MessagePortLike, SpawnedWorker, WorkerPlatform } from '../../workers/worker-protocol.ts';

/** Options of {@link webWorkers}. */
export interface WebWorkersOptions {
  /** The worker entry module (default: `./worker-entry.ts` beside this file). */
  readonly entry?: string | URL;
  /**
   * Starts one worker running an entry of the app's own (which calls {@link serveWebWorker});
   * written by the app as `() => new Worker(new URL('./eddy-worker.ts', import.meta.url), { type: 'module' })`
   * so that its bundler builds that entry together with the jobs it imports.
   */
  readonly worker?: () => Worker;
}

// `any`: a job of any arguments (JobDefinition is invariant in them).
/**
 * Serves eddy's worker protocol in this dedicated Web Worker: the body of an app's own
 * worker entry. `jobs` are the job definitions the entry imports; the worker runs them
 * from its own bundle instead of importing their modules by URL.
 */
export function serveWebWorker(options: { readonly jobs?: readonly JobDefinition<any, JobResult>[] } = {}): void {
  runWorkerHost(globalThis as unknown as HostEndpoint, { ...options, yieldToHost: keptChannelYield() });
}

/**
 * Records a source in a Web Worker reads at a time (`WorkerPlatform.sourceBatchSize`). In
 * Chromium every message between workers costs both threads a task, Mojo and
 * (de)serialization outside any JavaScript. Traced on workers-speedup (2 workers, thread
 * CPU of the page's threads, load 8–16, 10 runs per setting), the workers' CPU was 1.75 ×
 * the page's for the same job with batches of 1,024, 1.49 × with 4,096 and 1.36 × with
 * 8,192 (busiest worker 0.80, 0.69, 0.63 of the page); exchange-throughput's job across
 * 2 workers 680 vs 457 ms of CPU per run (1,024 vs 8,192). Node keeps 1,024: its messages
 * are cheap, and there that exchange's consumer spent ~4 × the GC time with 8,192.
 */
export const WEB_WORKER_SOURCE_BATCH_SIZE = 8192;

/** Dedicated Web Workers as the platform of a {@link WorkerExecutor}. */
export function webWorkers(options: WebWorkersOptions = {}): WorkerPlatform {
  return {
    name: 'web-workers',
    sourceBatchSize: WEB_WORKER_SOURCE_BATCH_SIZE,
    spawn(): SpawnedWorker {
      // Written out literally so that Vite (dev server and build) recognises and bundles the worker.
      const worker = options.worker
        ? options.worker()
        : options.entry
          ? new Worker(options.entry, { type: 'module' })
          : new Worker(new URL('./worker-entry.ts', import.meta.url), { type: 'module' });
      let exit: ((reason: string) => void) | undefined;
      return {
        postMessage: (message, transfer) => worker.postMessage(message, transfer ?? []),
        listen(handlers) {
          worker.onmessage = (event) => handlers.message(event.data);
          // A module that fails to load or an uncaught error: the worker is as good as dead.
          worker.onerror = (event) => handlers.error(new Error(event.message || 'worker error'));
          worker.onmessageerror = () => handlers.error(new Error('a message from the worker could not be deserialized'));
          exit = handlers.exit;
        },
        async terminate() {
          worker.terminate();
          // Browsers announce no exit; report it as Node does, so a termination from outside is noticed.
          exit?.('terminated');
        },
      };
    },
    createChannel() {
      const { port1, port2 } = new MessageChannel();
      return { port1: port1 as MessagePortLike, port2: port2 as MessagePortLike };
    },
  };
}
