/**
 * The Node adapter of the {@link WorkerExecutor}: workers are `worker_threads`, channels
 * between them are worker_threads `MessageChannel`s (their ports are transferred to the
 * workers, so records go from worker to worker without passing the main thread).
 *
 * ```ts
 * import { WorkerExecutor } from 'eddy';
 * import { nodeWorkerThreads } from 'eddy/runtimes/node-workers';
 * env.setExecutor(new WorkerExecutor({ workers: 2, platform: nodeWorkerThreads() }));
 * ```
 *
 * `node:worker_threads` is imported lazily, on the first spawn, so that importing this
 * module costs nothing where it is not used.
 */
import { createRequire } from 'node:module';
import type { ResourceLimits } from 'node:worker_threads';
import type { MessagePortLike, SpawnedWorker, WorkerPlatform } from '../../workers/worker-protocol.ts';

/** Options of {@link nodeWorkerThreads}. */
export interface NodeWorkerThreadsOptions {
  /**
   * Whether workers load TypeScript sources (registers tsx's loader in each worker);
   * default: true when this module itself is a `.ts` file (running from source).
   */
  readonly typescript?: boolean;
  /** Extra `resourceLimits` for each worker (e.g. `{ maxOldGenerationSizeMb: 512 }`). */
  readonly resourceLimits?: ResourceLimits;
}

type WorkerThreads = typeof import('node:worker_threads');
let threads: WorkerThreads | undefined;
function workerThreads(): WorkerThreads {
  // A synchronous, lazy load: spawn() is synchronous, and the module exists in every Node.
  return (threads ??= createRequire(import.meta.url)('node:worker_threads') as WorkerThreads);
}

/** Node `worker_threads` as the platform of a {@link WorkerExecutor}. */
export function nodeWorkerThreads(options: NodeWorkerThreadsOptions = {}): WorkerPlatform {
  const entry = new URL(`./worker-entry${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;
  const typescript = options.typescript ?? entry.endsWith('.ts');
  return {
    name: 'node-worker-threads',
    spawn(): SpawnedWorker {
      const { Worker } = workerThreads();
      const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), { workerData: { entry, typescript }, resourceLimits: options.resourceLimits });
      return {
        postMessage: (message, transfer) => worker.postMessage(message, transfer as never),
        listen(handlers) {
          worker.on('message', handlers.message);
          worker.on('error', handlers.error);
          worker.on('exit', (code) => handlers.exit(`exit code ${code}`));
        },
        async terminate() {
          await worker.terminate();
        },
        ref: () => worker.ref(),
        unref: () => worker.unref(),
      };
    },
    createChannel() {
      const { port1, port2 } = new (workerThreads().MessageChannel)();
      return { port1: port1 as unknown as MessagePortLike, port2: port2 as unknown as MessagePortLike };
    },
  };
}
