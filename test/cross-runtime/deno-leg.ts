/**
 * The Deno leg of `savepoint-portability.test.ts`: the job on the in-memory backend at
 * parallelism 1 from a savepoint in S3, run to the end; prints the committed records by
 * transaction id as one JSON line. Run by the test as
 *
 *   deno run --allow-net=127.0.0.1 --allow-env test/cross-runtime/deno-leg.ts <endpoint> <prefix> <savepoint>
 */
import { HashMapStateBackend } from '../../src/index.ts';
import { runLeg } from './job.ts';
import { storageAt } from './s3.ts';

const [endpoint, prefix, savepoint] = (globalThis as unknown as { Deno: { args: string[] } }).Deno.args;
const committed: Record<string, string[]> = {};
await runLeg({
  parallelism: 1,
  backend: new HashMapStateBackend(),
  storage: storageAt({ endpoint, prefix }),
  fromSavepoint: savepoint,
  onCommit: (id, records) => void (committed[id] = records),
});
console.log(JSON.stringify(committed));
