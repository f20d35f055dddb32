// Bootstrap of an eddy worker thread (plain JavaScript, because Node cannot load a
// TypeScript entry before a loader is registered, and `execArgv: ['--import', 'tsx']`
// does not apply to a worker's main module on Node 20). When the entry is TypeScript,
// tsx's loader is registered in this thread first, then the entry is imported.
import { workerData } from 'node:worker_threads';

if (workerData.typescript) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.entry);
