/**
 * The README's code blocks as files. A block's first line `// name.ts` names its file;
 * the info string after the language says where it runs (`ts` Node, Deno and the
 * main example everywhere; `ts browser` the Vite app; `ts cloudflare` workerd).
 */
import { readFileSync } from 'node:fs';

/** One fenced block of the README. */
export interface ReadmeBlock {
  readonly lang: string;
  readonly tags: readonly string[];
  /** From the first line `// name.ext`, else undefined. */
  readonly file?: string;
  readonly code: string;
  readonly line: number;
}

/** Every fenced block of README.md, in order. */
export function readmeBlocks(readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  const lines = readme.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open || open[1] === '') continue;
    const start = i;
    const body: string[] = [];
    while (++i < lines.length && !lines[i]!.startsWith('```')) body.push(lines[i]!);
    const file = /^\/\/ ([\w.-]+\.(?:ts|mjs|js))\b/.exec(body[0] ?? '')?.[1];
    blocks.push({ lang: open[1]!, tags: open[2]!.split(/\s+/).filter(Boolean), file, code: `${body.join('\n')}\n`, line: start + 1 });
  }
  return blocks;
}

/** The README block that defines `file` (fails loudly when the README lost it). */
export function readmeFile(file: string, blocks = readmeBlocks()): ReadmeBlock {
  const found = blocks.filter((b) => b.file === file);
  if (found.length !== 1) throw new Error(`README.md has ${found.length} blocks for ${file}, expected 1`);
  return found[0]!;
}

/**
 * A top-level-await example as a module exporting `main(console)`: its imports hoisted,
 * the rest run inside the function with `console` bound to the caller's (workerd's global
 * scope forbids timers, and a page or a Worker reports the output to the test).
 */
export function asMainFunction(code: string): string {
  const lines = code.split('\n');
  const imports = lines.filter((l) => /^import .* from '[^']+';/.test(l));
  const body = lines.filter((l) => !imports.includes(l));
  return `${imports.join('\n')}\nexport async function main(console: { log(...args: unknown[]): void }): Promise<void> {\n${body.join('\n')}\n}\n`;
}
