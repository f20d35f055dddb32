/**
 * The input-log-store conformance suite under `deno test`, unchanged, on the memory and
 * file stores (the file store's lock needs `--allow-sys=hostname`, as the fs storage's).
 */
import { FileInputLogStore } from '../../src/storages/fs-input-log.ts';
import { MemoryInputLogStore } from '../../src/storages/memory-input-log.ts';
import { inputLogStoreSuite } from '../conformance/input-log-store.suite.ts';
import { denoTests } from '../portable/deno.ts';

interface DenoLike {
  makeTempDirSync(options: { prefix: string }): string;
  removeSync(path: string, options: { recursive: boolean }): void;
}
const Deno = (globalThis as unknown as { Deno: DenoLike }).Deno;
const dir = Deno.makeTempDirSync({ prefix: 'eddy-deno-input-log-' });
globalThis.addEventListener('unload', () => Deno.removeSync(dir, { recursive: true }));

denoTests(() => {
  inputLogStoreSuite('memory', (name) => new MemoryInputLogStore(name));
  inputLogStoreSuite('file', (name) => new FileInputLogStore(`${dir}/${name}`));
});
