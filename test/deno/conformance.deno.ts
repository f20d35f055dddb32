/**
 * The conformance suites under `deno test`, unchanged: the state-backend and TTL suites on
 * the heap and SQLite-WASM backends, the checkpoint-storage suite on the memory and
 * filesystem storages. The suites import `vitest`; the import map in `npm run test:deno`
 * points that at the portable runner (test/portable/), which makes each case a Deno test.
 */
import { HashMapStateBackend } from '../../src/backends/memory.ts';
import { SqliteStateBackend } from '../../src/backends/sqlite/index.ts';
import { FileSystemCheckpointStorage } from '../../src/storages/fs.ts';
import { MemoryCheckpointStorage } from '../../src/storages/memory.ts';
import { checkpointStorageSuite } from '../conformance/checkpoint-storage.suite.ts';
import { runStateBackendSuite } from '../conformance/state-backend/index.ts';
import { runTtlSuite } from '../conformance/ttl/index.ts';
import { denoTests } from '../portable/deno.ts';

interface DenoLike {
  makeTempDirSync(options: { prefix: string }): string;
  removeSync(path: string, options: { recursive: boolean }): void;
}
const Deno = (globalThis as unknown as { Deno: DenoLike }).Deno;
// One directory per run (in the system's temp dir), removed when the run ends; every suite case works below its own prefix in it.
const dir = Deno.makeTempDirSync({ prefix: 'eddy-deno-conformance-' });
globalThis.addEventListener('unload', () => Deno.removeSync(dir, { recursive: true }));

denoTests(() => {
  runStateBackendSuite('hashmap', () => new HashMapStateBackend());
  runStateBackendSuite('sqlite', () => new SqliteStateBackend({ vfs: 'memory', cacheBytes: 64 << 10 }));
  runTtlSuite('hashmap', () => new HashMapStateBackend());
  runTtlSuite('sqlite', () => new SqliteStateBackend({ vfs: 'memory' }));
  checkpointStorageSuite('memory', () => new MemoryCheckpointStorage());
  checkpointStorageSuite('fs', () => new FileSystemCheckpointStorage(`${dir}/suite`), { sharedBetweenInstances: true });
});
