/**
 * The packed package, installed once into a fresh temporary project that every consumer
 * test shares: `npm pack` (its `prepack` runs the build), then `npm install <tarball>`
 * (offline but for the npm registry, for eddy's own dependencies). Consumers live in
 * subdirectories of that project, so Node, Deno, TypeScript, Vite and esbuild all find
 * the installed `node_modules/eddy` the way an app does.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root. */
export const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** A tool from the repository's node_modules/.bin. */
export const bin = (name: string) => join(REPO, 'node_modules', '.bin', name);

/** The installed package: the project directory and the tarball it came from. */
export interface Installed {
  readonly root: string;
  readonly tarball: string;
  /** The installed package directory (`<root>/node_modules/eddy`). */
  readonly packageDir: string;
  /** Seconds spent packing and installing. */
  readonly seconds: { pack: number; install: number };
}

/** Runs `cmd` in `cwd`; rejects with its output when it fails. */
export async function sh(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
  timeout = 120_000,
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(cmd, args, { cwd, env: { ...process.env, ...env }, timeout, maxBuffer: 16 << 20 });
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

/** Packs the repository and installs the tarball into a new temporary project. */
export async function packAndInstall(): Promise<Installed> {
  const root = await mkdtemp(join(tmpdir(), 'eddy-consumers-'));
  const packs = join(root, 'packs');
  await mkdir(packs);
  let t = performance.now();
  await sh('npm', ['pack', '--pack-destination', packs, '--silent'], REPO, {}, 300_000);
  const pack = (performance.now() - t) / 1000;
  const [name] = (await readdir(packs)).filter((f) => f.endsWith('.tgz'));
  if (!name) throw new Error('npm pack made no tarball');
  const tarball = join(packs, name);
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { eddy: `file:${tarball}` } }));
  t = performance.now();
  await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], root, {}, 300_000);
  const install = (performance.now() - t) / 1000;
  // What an app adds itself: Node's types (`npm i -D @types/node`) and, to use eddy/sqlite,
  // the optional peer dependency; linked from the repository instead of installed again.
  for (const dep of ['@types/node', '@sqlite.org/sqlite-wasm']) {
    await mkdir(join(root, 'node_modules', dirname(dep)), { recursive: true });
    await symlink(join(REPO, 'node_modules', dep), join(root, 'node_modules', dep));
  }
  return { root, tarball, packageDir: join(root, 'node_modules', 'eddy'), seconds: { pack, install } };
}

/** Every file under `dir` (relative paths). */
export async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else out.push(rel);
  }
  return out;
}
