/**
 * A worker platform whose workers are terminated from outside, for the worker executor's
 * failure tests. Imports only types, so both the Node tests and the Chromium ones use it.
 */
import type { SpawnedWorker, WorkerPlatform } from '../../src/index.ts';

/**
 * `base` under another `name`, where after each message a worker sends (once its handler
 * ran) `killNow()` is asked; `true` terminates that worker.
 */
export function killingPlatform(base: WorkerPlatform, name: string, killNow: () => boolean): WorkerPlatform {
  return {
    name,
    createChannel: () => base.createChannel(),
    spawn(index): SpawnedWorker {
      const handle = base.spawn(index);
      return {
        ...handle,
        listen: (handlers) =>
          handle.listen({
            ...handlers,
            message: (data) => {
              handlers.message(data);
              if (killNow()) void handle.terminate();
            },
          }),
      };
    },
  };
}
