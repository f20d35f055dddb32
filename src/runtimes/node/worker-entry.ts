/**
 * The entry of an eddy worker thread in Node: hands the thread's `parentPort` to the
 * worker host. Started by {@link nodeWorkerThreads} through worker-boot.mjs.
 */
import { parentPort } from 'node:worker_threads';
import { runWorkerHost } from '../../workers/worker-host.ts';
import type { HostEndpoint } from '../../workers/worker-host.ts';

if (!parentPort) throw new Error('[eddy] [runtime:node] worker-entry.ts must run in a worker thread');
// Node's MessagePort has the web `onmessage`/`postMessage` surface the host expects.
// setImmediate runs after the poll phase, where messages on ports (the peer links) are
// handled: a turn that lets them in first, for the cost of an immediate.
runWorkerHost(parentPort as unknown as HostEndpoint, { yieldToHost: () => new Promise<void>((resolve) => setImmediate(resolve)) });
