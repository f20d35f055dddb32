/**
 * The entry of an eddy Web Worker (dedicated, module type): hands the worker's global
 * scope to the worker host. Started by `webWorkers()` (`./web-workers.ts`).
 *
 * The control protocol is eddy's own small message set rather than comlink: the main
 * thread needs acknowledgements, commits and completion in exactly the order the worker
 * sent them, on the same stream as the replies, and checkpoint bytes transferred — which
 * plain `postMessage` gives directly.
 */
import { keptChannelYield } from '../../engine/yield.ts';
import { runWorkerHost, type HostEndpoint } from '../../workers/worker-host.ts';

runWorkerHost(globalThis as unknown as HostEndpoint, { yieldToHost: keptChannelYield() });
