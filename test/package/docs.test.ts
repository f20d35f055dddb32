/**
 * The docs check (scripts/docs.mjs, run by `npm test` as `npm run docs -- --check`) finds
 * each exported name's declaration through re-exports, imports and `export *`, and tells
 * documented from undocumented ones.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportsOf } from '../../scripts/dts-exports.mjs';

const dir = mkdtempSync(join(tmpdir(), 'eddy-dts-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const files: Record<string, string> = {
  'index.d.ts': "export { A, B as Renamed, type E } from './a.ts';\nexport * from './b.js';\nimport { F } from './b.js';\nexport { F as G };\n",
  'a.d.ts': "import type { E } from './e.js';\n/** A is documented. */\nexport declare class A {\n}\nexport declare function B(): void;\nexport type { E };\n",
  'b.d.ts': '/**\n * @internal\n */\nexport interface C {\n}\n/** D, documented. */\nexport type D = 1;\n/** F, documented. */\nexport declare const F = 2;\n',
  'e.d.ts': '/** E, documented. */\nexport interface E {\n}\n',
};
for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);

describe('exportsOf (the docs check)', () => {
  const exported = exportsOf(join(dir, 'index.d.ts'));
  const docs = Object.fromEntries([...exported].map(([name, d]) => [name, d?.doc ?? null]));

  it('follows named re-exports (also renamed and through an import), export * and local re-exports', () => {
    expect(Object.keys(docs).sort()).toEqual(['A', 'C', 'D', 'E', 'F', 'G', 'Renamed']);
  });

  it('reports an export without JSDoc, or with only @internal, as undocumented', () => {
    expect(docs).toEqual({ A: 'A is documented.', Renamed: null, C: null, D: 'D, documented.', E: 'E, documented.', F: 'F, documented.', G: 'F, documented.' });
  });
});
