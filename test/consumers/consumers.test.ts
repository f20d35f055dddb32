/**
 * The package as users get it: packed, installed from the tarball into a fresh project,
 * and used the way README.md says, in each environment — plain Node ESM (no tsx), a
 * strict NodeNext TypeScript project, Deno, workerd (an esbuild bundle in miniflare) and
 * a Vite app in headless Chromium (browser.ts). One pack and one install serve them all.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asMainFunction, readmeBlocks, readmeFile } from './readme.ts';
import { bin, type Installed, listFiles, packAndInstall, REPO, sh } from './pack.ts';
import { runInWorkerd } from './workerd.ts';
import { runViteApps } from './browser.ts';

const MAIN_OUTPUT = "[ { accountId: 'a', amount: 900, ts: 2 } ]";
let pkg: Installed;
const started = performance.now();

beforeAll(async () => {
  pkg = await packAndInstall();
}, 600_000);
afterAll(async () => {
  if (pkg) await rm(pkg.root, { recursive: true, force: true });
  console.log(
    `[consumers] pack ${pkg?.seconds.pack.toFixed(1)} s, install ${pkg?.seconds.install.toFixed(1)} s, total ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
});

/** Writes `files` into a new subdirectory of the consumer project. */
async function project(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(pkg.root, name);
  await mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
  return dir;
}

/** TypeScript → JavaScript by stripping types only (what `node` needs, nothing else changed). */
const stripTypes = async (code: string) => (await transform(code, { loader: 'ts', format: 'esm', target: 'es2022' })).code;

/** The README files each consumer below runs (a README block outside this list fails the first test). */
const RUN_BLOCKS = [
  'main.ts',
  'checkpoints.ts',
  's3.ts',
  'r2-worker.ts',
  'resume.ts',
  'durable-log.ts',
  'ttl.ts',
  'inspect.ts',
  'sync-state.ts',
  'windows.ts',
  'deno.ts',
  'joins.ts',
  'live.ts',
  'streams.ts',
  'connected.ts',
  'word-count.ts',
  'count-words.ts',
  'worker.ts',
  'eddy-worker.ts',
  'app.ts',
];

describe('the packed package', () => {
  it('every code block of the README is run by a consumer below (sh blocks are the commands the tests perform)', () => {
    const blocks = readmeBlocks();
    expect(blocks.filter((b) => !['ts', 'html', 'sh'].includes(b.lang)).map((b) => `${b.lang} at README.md:${b.line}`)).toEqual([]);
    expect(
      blocks
        .filter((b) => b.lang === 'ts')
        .map((b) => b.file)
        .sort(),
    ).toEqual([...RUN_BLOCKS].sort());
    expect(blocks.filter((b) => b.lang === 'html')).toHaveLength(1);
  });

  it('ships the build and no sources, and no shipped file contains eval or new Function', async () => {
    const files = await listFiles(pkg.packageDir);
    expect(files).toContain('dist/src/index.js');
    expect(files).toContain('dist/src/index.d.ts');
    expect(files).toContain('dist/src/index.js.map');
    expect(files.filter((f) => !f.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    const offenders: string[] = [];
    for (const file of files) {
      // Source maps hold the sources (with comments) as strings; the code is what runs.
      if (file.endsWith('.map')) continue;
      const text = await readFile(join(pkg.packageDir, file), 'utf8');
      for (const pattern of [/\beval\s*\(/, /\bnew\s+Function\b/, /(?<![\w.])Function\s*\(/]) {
        const hit = pattern.exec(text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ''));
        if (hit) offenders.push(`${file}: ${hit[0]}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('plain Node ESM runs the README example with `node index.mjs` (no tsx), and workers start from plain JS', async () => {
    const dir = await project('node', {
      'index.mjs': await stripTypes(readmeFile('main.ts').code),
      'word-count.js': await stripTypes(readmeFile('word-count.ts').code),
      'count-words.mjs': await stripTypes(readmeFile('count-words.ts').code),
    });
    const { stdout } = await sh(process.execPath, ['index.mjs'], dir);
    expect(stdout.trim()).toBe(MAIN_OUTPUT);
    const workers = await sh(process.execPath, ['count-words.mjs'], dir);
    expect(workers.stdout.replace(/\s+/g, ' ')).toMatch(/\[ '(red|green|blue): 333', '(red|green|blue): 333', '(red|green|blue): 333' \]/);
  });

  it('a strict NodeNext TypeScript project type-checks against the shipped .d.ts and runs every README `ts` block', async () => {
    const blocks = readmeBlocks().filter((b) => b.lang === 'ts' && !b.tags.includes('browser'));
    const files: Record<string, string> = {
      'tsconfig.json': JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          types: ['node'],
          outDir: 'out',
          skipLibCheck: false,
        },
        include: ['*.ts'],
      }),
      // Every public entry, so that every shipped .d.ts is checked.
      'entries.ts': (await import('../../scripts/entries.mjs'))
        .publicEntries()
        .map((e, i) => `export * as e${i} from '${e.name}';`)
        .join('\n'),
    };
    for (const b of blocks) {
      expect(b.file, `README.md:${b.line}: a ts block starts with // name.ts`).toBeDefined();
      files[b.file!] = b.code;
    }
    const dir = await project('typescript', files);
    await sh(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], dir);
    const runs: Record<string, RegExp> = {
      'main.js': /amount: 900/,
      'checkpoints.js': /^$/,
      's3.js': /^$/,
      'ttl.js': /^$/,
      'inspect.js': /^value true\ntrue$/,
      'sync-state.js': /^ann: 2 clicks on \/a\+\/b; bob: 1 clicks on \/a$/,
      'windows.js': /^ann@0: 2, ann@60000: 1, bob@0: 1$/,
      'joins.js': /^o1=o1$/,
      'connected.js': /^ann paid after 3000 ms, bob is over the limit$/,
      'durable-log.js': /^u0=14850 u1=14950 u2=15050 retained=0$/,
      'count-words.js': /: 333/,
      'live.js': /^ann clicked 3 times$/,
      'streams.js': /^total> \{"k":"a","v":1\}\ntotal> \{"k":"b","v":2\}\ntotal> \{"k":"a","v":4\}\na=1 b=2 a=4$/,
    };
    for (const [file, expected] of Object.entries(runs)) {
      const { stdout } = await sh(process.execPath, [join('out', file)], dir);
      expect(stdout.trim(), file).toMatch(expected);
    }
    // resume.js twice: the first run's cancel keeps its checkpoints, the second resumes from them.
    const kept = async () =>
      (await listFiles(join(dir, 'checkpoints', 'clicks'))).filter((f) => f.endsWith('/_metadata')).map((f) => Number(/chk-(\d+)\//.exec(f)?.[1]));
    await sh(process.execPath, [join('out', 'resume.js')], dir);
    const first = await kept();
    expect(first.length).toBeGreaterThan(0);
    const second = await sh(process.execPath, [join('out', 'resume.js')], dir);
    expect(second.stderr).not.toMatch(/starts from scratch/);
    expect(Math.max(...(await kept()))).toBeGreaterThan(Math.max(...first));
  });

  it('Deno runs the README example against the installed package', async () => {
    const dir = await project('deno', { 'main.ts': readmeFile('main.ts').code });
    const { stdout } = await sh(bin('deno'), ['run', '--check', '--allow-read', '--allow-env', 'main.ts'], dir, { NO_COLOR: '1' });
    expect(stdout.trim()).toBe(MAIN_OUTPUT.replaceAll("'", '"'));
    // The Deno example with checkpoints, with exactly the permissions the README lists.
    await writeFile(join(dir, 'deno.ts'), readmeFile('deno.ts').code);
    const visits = await sh(bin('deno'), ['run', '--check', '--allow-read', '--allow-write', '--allow-env', '--allow-sys=hostname', 'deno.ts'], dir, {
      NO_COLOR: '1',
    });
    expect(visits.stdout.trim()).toBe('{ path: "/a", n: 3 }');
  });

  it('workerd runs an esbuild bundle of the README Workers (one with a savepoint in R2) and the README example', async () => {
    const dir = await project('workerd', {
      'worker.ts': readmeFile('worker.ts').code,
      'r2-worker.ts': readmeFile('r2-worker.ts').code,
      'main.ts': asMainFunction(readmeFile('main.ts').code),
      'entry.ts': [
        "import readme from './worker.ts';",
        "import r2 from './r2-worker.ts';",
        "import { main } from './main.ts';",
        'export default {',
        '  async fetch(request: Request, env: Parameters<typeof r2.fetch>[1]): Promise<Response> {',
        "    if (new URL(request.url).pathname === '/r2') return r2.fetch(request, env);",
        "    if (new URL(request.url).pathname !== '/main') return readme.fetch(request);",
        '    const lines: string[] = [];',
        '    await main({ log: (...args: unknown[]) => lines.push(JSON.stringify(args)) });',
        '    return new Response(lines.join("\\n"));',
        '  },',
        '};',
      ].join('\n'),
    });
    const { words, main, r2, bundle } = await runInWorkerd(join(dir, 'entry.ts'));
    expect(bundle).not.toMatch(/["']node:/);
    const { savepoint, objects } = JSON.parse(r2) as { savepoint: string; objects: string[] };
    expect(savepoint).toMatch(/^counts\/savepoint-\d+$/);
    expect(objects).toContain(`${savepoint}/_metadata`);
    expect(JSON.parse(words)).toEqual([{ word: 'a', n: 2 }]);
    expect(JSON.parse(main)).toEqual([[{ accountId: 'a', amount: 900, ts: 2 }]]);
  });

  it('a Vite app, built and run in headless Chromium: the README example, Web Workers with IndexedDB, a page-chunk job failing with a message that says so', async () => {
    const result = await runViteApps(pkg.root, {
      main: asMainFunction(readmeFile('main.ts').code),
      wordCount: readmeFile('word-count.ts').code,
      workerEntry: readmeFile('eddy-worker.ts').code,
      app: readmeFile('app.ts').code,
      staticHtml: readmeBlocks().find((b) => b.lang === 'html')!.code,
    });
    expect(result.warnings).toEqual([]);
    expect(result.main).toEqual([[[{ accountId: 'a', amount: 900, ts: 2 }]]]); // one console.log call, one argument
    expect(result.app).toBe('blue: 333, green: 333, red: 333');
    expect(result.pageChunk).toMatch(
      /^error: .*the module of job "doubled" \(http:.*\/assets\/chunk-.*\.js\) is a page chunk: importing it in a worker ran the page's code \(document is not defined\).*serveWebWorker/,
    );
    expect(result.staticPage).toBe('"3000"'); // 3000 records collected from two workers started from the static files
  });
});
