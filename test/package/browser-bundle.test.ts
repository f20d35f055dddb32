/**
 * What a browser or Worker bundle of eddy contains: esbuild bundles each public entry
 * (from package.json `exports`, read through scripts/entries.mjs) for the browser, from
 * source. Only the entries made for Node and Deno may import `node:` modules.
 */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { publicEntries, ROOT } from '../../scripts/entries.mjs';

/** The entries whose purpose is Node (and Deno): the filesystem storage and worker_threads. */
const NODE_ONLY = new Set(['./fs', './runtimes/node-workers']);

describe('browser bundles of the public entries', () => {
  const entries = publicEntries().filter((e) => !NODE_ONLY.has(e.subpath));

  it('cover the root entry', () => {
    expect(entries.map((e) => e.subpath)).toContain('.');
  });

  for (const entry of entries) {
    it(`${entry.name} bundles for platform 'browser' without any node: import`, async () => {
      const out = await build({
        entryPoints: [ROOT + entry.source],
        bundle: true,
        write: false,
        format: 'esm',
        platform: 'browser',
        conditions: ['workerd', 'browser'],
        logLevel: 'silent',
        metafile: true,
        external: ['@sqlite.org/sqlite-wasm'],
      });
      const inputs = Object.keys(out.metafile.inputs);
      expect(inputs.filter((i) => i.startsWith('node:'))).toEqual([]);
      expect(out.outputFiles[0]!.text).not.toMatch(/["']node:[a-z_/]+["']/);
    });
  }

  it('a bundle of the old root entry (with FileSystemCheckpointStorage) would have failed this check', async () => {
    const out = await build({
      stdin: { contents: "export { FileSystemCheckpointStorage } from './src/storages/fs.ts';", resolveDir: ROOT, loader: 'ts' },
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      logLevel: 'silent',
      external: ['node:*'],
    });
    expect(out.outputFiles[0]!.text).toMatch(/["']node:fs\/promises["']/);
  });
});
