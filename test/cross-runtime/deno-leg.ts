/**
 * The Deno leg of `savepoint-portability.test.ts`: the job on the in-memory backend at
 * parallelism 1 from a savepoint in a directory, run to the end; prints the committed
 * records by transaction id as one JSON line. Run by the test as
 *
 *   deno run --allow-read --allow-write --allow-env test/cross-runtime/deno-leg.ts <dir> <savepoint>
 */
import { HashMapStateBackend } from '../../src/index.ts';
import { FileSystemCheckpointStorage } from '../../src/storages/fs.ts';
import { runLeg } from './job.ts';

const [directory, savepoint] = (globalThis as unknown as { Deno: { args: string[] } }).Deno.args;
const committed: Record<string, string[]> = {};
await runLeg({
  parallelism: 1,
  backend: new HashMapStateBackend(),
  storage: new FileSystemCheckpointStorage(directory),
  fromSavepoint: savepoint,
  onCommit: (id, records) => void (committed[id] = records),
});
console.log(JSON.stringify(committed));
