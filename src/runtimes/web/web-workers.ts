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
 */
import type { MessagePortLike, SpawnedWorker, WorkerPlatform } from '../../workers/worker-protocol.ts';

/** Options of {@link webWorkers}. */
export interface WebWorkersOptions {
  /** The worker entry module (default: `./worker-entry.ts` beside this file). */
  readonly entry?: string | URL;
}

/** Dedicated Web Workers as the platform of a {@link WorkerExecutor}. */
export function webWorkers(options: WebWorkersOptions = {}): WorkerPlatform {
  return {
    name: 'web-workers',
    spawn(): SpawnedWorker {
      // Written out literally so that Vite (dev server and build) recognises and bundles the worker.
      const worker = options.entry ? new Worker(options.entry, { type: 'module' }) : new Worker(new URL('./worker-entry.ts', import.meta.url), { type: 'module' });
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
