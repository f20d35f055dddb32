import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { EddyError } from '../../src/api/errors.ts';
import { FileSystemCheckpointStorage, fsStorageError } from '../../src/storages/fs.ts';
import { checkpointStorageSuite } from '../conformance/checkpoint-storage.suite.ts';

// One fresh directory per test run; every suite test works below its own prefix in it.
const base = await mkdtemp(join(tmpdir(), 'eddy-fs-storage-'));
afterAll(() => rm(base, { recursive: true, force: true }));

checkpointStorageSuite('fs', () => new FileSystemCheckpointStorage(join(base, 'suite')), { sharedBetweenInstances: true });

const SOURCE = fileURLToPath(new URL('../../src/storages/fs.ts', import.meta.url));
let dirCounter = 0;
/** A storage over a directory of its own, for tests that look at the files. */
async function fresh(): Promise<{ storage: FileSystemCheckpointStorage; dir: string }> {
  const dir = join(base, `own-${++dirCounter}`);
  return { storage: new FileSystemCheckpointStorage(dir), dir };
}

/** Every file and directory below `dir`, relative, sorted (directories end with '/'). */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.map((e) => `${join(e.parentPath, e.name).slice(dir.length + 1)}${e.isDirectory() ? '/' : ''}`).sort();
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  vi.restoreAllMocks();
});

/** A node process that lives for 10 s and does nothing: a live lock holder. */
async function liveProcess(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { stdio: 'ignore' });
  children.push(child);
  await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  return child.pid!;
}

/** A pid that is certainly dead: a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

async function writeLock(dir: string, scope: string, record: object | string): Promise<string> {
  const lockPath = join(dir, ...scope.split('/'), '.~lock');
  await mkdir(dirname(lockPath), { recursive: true });
  await writeFile(lockPath, typeof record === 'string' ? record : JSON.stringify(record));
  return lockPath;
}

describe('FileSystemCheckpointStorage: files on disk', () => {
  it('an object path maps to the same relative file path, and no temporary file remains after a put', async () => {
    const { storage, dir } = await fresh();
    await storage.put('job/chk-1/_metadata', new Uint8Array([1, 2, 3]));
    expect(await tree(dir)).toEqual(['job/', 'job/chk-1/', 'job/chk-1/_metadata']);
    expect([...(await readFile(join(dir, 'job', 'chk-1', '_metadata')))]).toEqual([1, 2, 3]);
  });

  it('get returns a plain Uint8Array, not a Buffer', async () => {
    const { storage } = await fresh();
    await storage.put('x', new Uint8Array([9]));
    expect((await storage.get('x'))!.constructor).toBe(Uint8Array);
  });

  it('delete prunes the parent directories it emptied, up to but not including the root', async () => {
    const { storage, dir } = await fresh();
    await storage.put('a/b/c/x', new Uint8Array(1));
    await storage.put('a/keep', new Uint8Array(1));
    await storage.delete('a/b/c/x');
    expect(await tree(dir)).toEqual(['a/', 'a/keep']);
    await storage.delete('a/keep');
    expect(await tree(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(true);
  });

  it('a path cannot be both an object and a directory of objects: refused with INVALID_ARGUMENT naming the path', async () => {
    const { storage } = await fresh();
    await storage.put('a/b', new Uint8Array(1));
    await expect(storage.put('a/b/c', new Uint8Array(1))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('"a/b/c"') });
    await expect(storage.put('a', new Uint8Array(1))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('"a"') });
    expect(await storage.list('')).toEqual(['a/b']);
  });

  it('a put that crashed before its rename leaves the previous object intact, and its temporary file is never listed', async () => {
    const { storage, dir } = await fresh();
    await storage.put('job/chk-1/_metadata', new Uint8Array([1, 1, 1]));
    // What a crash between write and rename leaves behind: a half-written temporary file.
    await writeFile(join(dir, 'job', 'chk-1', '.~tmp-0123456789abcdef'), new Uint8Array([2, 2]));
    await writeFile(join(dir, 'job', '.~tmp-fedcba9876543210'), new Uint8Array([3]));
    expect([...(await storage.get('job/chk-1/_metadata'))!]).toEqual([1, 1, 1]);
    expect(await storage.list('')).toEqual(['job/chk-1/_metadata']);
    expect(await storage.list('job/')).toEqual(['job/chk-1/_metadata']);
    await storage.put('job/chk-1/_metadata', new Uint8Array([4]));
    expect([...(await storage.get('job/chk-1/_metadata'))!]).toEqual([4]);
    expect(await storage.list('job')).toEqual(['job/chk-1/_metadata']);
  });

  it('a process SIGKILLed in the middle of a stream of 8 MiB puts leaves one whole version at the target, never a partial one', async () => {
    const { storage, dir } = await fresh();
    const script = join(base, `writer-${dirCounter}.mts`); // .mts: top-level await, wherever the file is
    await writeFile(
      script,
      `import { FileSystemCheckpointStorage } from ${JSON.stringify(SOURCE)};
const storage = new FileSystemCheckpointStorage(${JSON.stringify(dir)});
const versions = [1, 2, 3].map((v) => new Uint8Array(8 * 1024 * 1024).fill(v));
for (let i = 0; ; i++) {
  await storage.put('job/chk/_metadata', versions[i % 3]);
  if (i === 2) process.stdout.write('ready\\n');
}
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
    });
    await new Promise((resolve) => setTimeout(resolve, 150)); // let it get into the middle of a write
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const got = (await storage.get('job/chk/_metadata'))!;
    expect(got.byteLength).toBe(8 * 1024 * 1024);
    expect(got.every((b) => b === got[0]) && [1, 2, 3].includes(got[0]!)).toBe(true);
    expect(await storage.list('')).toEqual(['job/chk/_metadata']);
  });

  it('importing the module loads no node: builtin (they are imported lazily), so a browser bundle of the index does not break', async () => {
    const files = ['fs.ts', 'fs-files.ts', 'fs-lock.ts'].map((f) => fileURLToPath(new URL(`../../src/storages/${f}`, import.meta.url)));
    const sources = await Promise.all(files.map((f) => readFile(f, 'utf8')));
    for (const source of sources) {
      const staticImports = source.match(/^import\s+(?!type\b)[^;]*?from\s+'node:[^']+'/gm) ?? [];
      expect(staticImports).toEqual([]);
    }
    expect(sources.join('\n')).toContain("import('node:fs/promises')");
  });
});

describe('FileSystemCheckpointStorage: locks', () => {
  it('the lock file <dir>/<scope>/.~lock holds {pid, host, createdAt}; release removes it and prunes the scope directory', async () => {
    const { storage, dir } = await fresh();
    const lock = await storage.lock('jobs/job-1');
    const record = JSON.parse(await readFile(join(dir, 'jobs', 'job-1', '.~lock'), 'utf8'));
    expect(record).toMatchObject({ pid: process.pid, host: hostname() });
    expect(Date.parse(record.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    await lock.release();
    expect(await tree(dir)).toEqual([]);
  });

  it('a lock held by a live process on this host is refused with STORAGE_LOCKED naming its pid', async () => {
    const { storage, dir } = await fresh();
    const pid = await liveProcess();
    await writeLock(dir, 'job', { pid, host: hostname(), createdAt: new Date().toISOString(), token: 'x' });
    const error = await storage.lock('job').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EddyError);
    expect(error).toMatchObject({ code: 'STORAGE_LOCKED', message: expect.stringContaining(`pid ${pid}`) });
    expect((error as Error).message).toContain('[storage:fs]');
  });

  it('a stale lock of a dead pid is taken over with one console.warn, and the dead writer’s temporary files under the scope are removed', async () => {
    const { storage, dir } = await fresh();
    const pid = await deadPid();
    await writeLock(dir, 'job', { pid, host: hostname(), createdAt: '2020-01-01T00:00:00.000Z', token: 'old' });
    await storage.put('job/chk-1/part', new Uint8Array([1]));
    await writeFile(join(dir, 'job', 'chk-1', '.~tmp-00000000deadbeef'), new Uint8Array(5));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const lock = await storage.lock('job');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(new RegExp(`\\[storage:fs\\] took over the stale lock of scope "job" left by pid ${pid}`));
    expect(JSON.parse(await readFile(join(dir, 'job', '.~lock'), 'utf8')).pid).toBe(process.pid);
    expect(await tree(join(dir, 'job'))).toEqual(['.~lock', 'chk-1/', 'chk-1/part']);
    await expect(storage.lock('job')).rejects.toMatchObject({ code: 'STORAGE_LOCKED' });
    await lock.release();
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('a stale lock whose previous taker was killed mid-takeover (its guard left behind) is taken over once the guard goes stale', async () => {
    const { storage, dir } = await fresh();
    await writeLock(dir, 'job', { pid: await deadPid(), host: hostname(), createdAt: '2020-01-01T00:00:00.000Z', token: 'old' });
    // The guard of a taker killed between creating and removing it, 9.5 s old (it goes stale at 10 s).
    const guard = join(dir, 'job', '.~takeover');
    await writeFile(guard, '');
    const aged = new Date(Date.now() - 9_500);
    await utimes(guard, aged, aged);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const lock = await storage.lock('job');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(JSON.parse(await readFile(join(dir, 'job', '.~lock'), 'utf8')).pid).toBe(process.pid);
    expect(existsSync(guard)).toBe(false);
    await lock.release();
  });

  /** A guard `.~takeover` as a taker writes it: `{pid, host, createdAt, token}`, its mtime now. */
  async function writeGuard(dir: string, taker: { pid: number; host: string; token?: string }): Promise<string> {
    const guard = join(dir, 'job', '.~takeover');
    await writeFile(guard, `${JSON.stringify({ createdAt: new Date().toISOString(), token: 'taker', ...taker })}\n`);
    return guard;
  }

  it('a guard left mid-takeover by a taker whose pid is dead on this host is cleared at once, not after its 10-s expiry', async () => {
    const { storage, dir } = await fresh();
    await writeLock(dir, 'job', { pid: await deadPid(), host: hostname(), createdAt: '2020-01-01T00:00:00.000Z', token: 'old' });
    const guard = await writeGuard(dir, { pid: await deadPid(), host: hostname() });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const started = performance.now();
    const lock = await storage.lock('job');
    // The guard is fresh: before, lock() waited for it to expire (10 s). 5 s leaves room for a loaded machine.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(JSON.parse(await readFile(join(dir, 'job', '.~lock'), 'utf8')).pid).toBe(process.pid);
    expect(existsSync(guard)).toBe(false);
    await lock.release();
  });

  it('a guard with this process’s pid that this process does not hold (an earlier life of the pid) is cleared at once', async () => {
    const { storage, dir } = await fresh();
    await writeLock(dir, 'job', { pid: await deadPid(), host: hostname(), createdAt: '2020-01-01T00:00:00.000Z', token: 'old' });
    await writeGuard(dir, { pid: process.pid, host: hostname(), token: 'previous-life' });
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const started = performance.now();
    const lock = await storage.lock('job');
    expect(performance.now() - started).toBeLessThan(5_000);
    await lock.release();
  });

  it('a guard whose taker is a live pid, or on another host, holds a takeover off until it expires or its taker dies', async () => {
    const { storage, dir } = await fresh();
    await writeLock(dir, 'job', { pid: await deadPid(), host: hostname(), createdAt: '2020-01-01T00:00:00.000Z', token: 'old' });
    const taker = await liveProcess();
    const guard = await writeGuard(dir, { pid: taker, host: hostname() });
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    let settled = false;
    const locking = storage.lock('job').finally(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(settled).toBe(false);
    expect(existsSync(guard)).toBe(true);
    // Its taker dies (and is reaped: a zombie still answers kill(pid, 0)): the guard is now clearable at once.
    const child = children.find((c) => c.pid === taker)!;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const diedAt = performance.now();
    const lock = await locking;
    expect(performance.now() - diedAt).toBeLessThan(5_000);
    await lock.release();

    // Another host's taker cannot be checked: its guard waits for the expiry too.
    await writeLock(dir, 'job', { pid: await deadPid(), host: hostname(), createdAt: '2020-01-01T00:00:00.000Z', token: 'old' });
    await writeGuard(dir, { pid: await deadPid(), host: `not-${hostname()}` });
    const aged = new Date(Date.now() - 9_000);
    await utimes(guard, aged, aged);
    const started = performance.now();
    const again = await storage.lock('job');
    expect(performance.now() - started).toBeGreaterThan(800); // it waited for the guard's tenth second
    await again.release();
  });

  it('a lock with this process’s pid that this process does not hold (pid reused after a restart) is stale and taken over', async () => {
    const { storage, dir } = await fresh();
    await writeLock(dir, 'job', { pid: process.pid, host: hostname(), createdAt: '2020-01-01T00:00:00.000Z', token: 'previous-life' });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const lock = await storage.lock('job');
    expect(warn).toHaveBeenCalledTimes(1);
    await lock.release();
  });

  it('six processes racing to take over one stale lock: exactly one wins, the others get STORAGE_LOCKED', async () => {
    const { dir } = await fresh();
    await writeLock(dir, 'job', { pid: await deadPid(), host: hostname(), createdAt: '2020-01-01T00:00:00.000Z', token: 'old' });
    const script = join(base, `locker-${dirCounter}.mts`);
    // Each child says "ready" once loaded, races on "go", and a winner holds the lock until
    // its stdin closes — so that no loser can come late and take over a winner that exited.
    await writeFile(
      script,
      `import { FileSystemCheckpointStorage } from ${JSON.stringify(SOURCE)};
console.warn = () => {};
const storage = new FileSystemCheckpointStorage(${JSON.stringify(dir)});
process.stdout.write('ready\\n');
process.stdin.once('data', async () => {
  try {
    await storage.lock('job');
    process.stdout.write('won\\n');
    process.stdin.once('end', () => process.exit(0));
  } catch (e) {
    process.stdout.write(e.code + '\\n');
    process.exit(0);
  }
});
`,
    );
    const racers = Array.from({ length: 6 }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
      children.push(child);
      const lines: string[] = [];
      const waiters: Array<() => void> = [];
      child.stdout!.on('data', (chunk: Buffer) => {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        waiters.splice(0).forEach((w) => w());
      });
      const line = async (n: number) => {
        while (lines.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
        return lines[n - 1]!;
      };
      return { child, line };
    });
    await Promise.all(racers.map((r) => r.line(1))); // all loaded
    racers.forEach((r) => r.child.stdin!.write('go\n'));
    const outcomes = await Promise.all(racers.map((r) => r.line(2)));
    racers.forEach((r) => r.child.stdin!.end());
    expect(outcomes.sort()).toEqual(['STORAGE_LOCKED', 'STORAGE_LOCKED', 'STORAGE_LOCKED', 'STORAGE_LOCKED', 'STORAGE_LOCKED', 'won']);
  });

  it('a lock written on another host is refused (its process cannot be checked), naming that host', async () => {
    const { storage, dir } = await fresh();
    await writeLock(dir, 'job', { pid: 1234, host: 'elsewhere.example', createdAt: new Date().toISOString(), token: 'x' });
    await expect(storage.lock('job')).rejects.toMatchObject({
      code: 'STORAGE_LOCKED',
      message: expect.stringMatching(/pid 1234 on host "elsewhere\.example".*another host/),
    });
  });

  it('an empty or unreadable lock file is refused rather than guessed at, naming the file to delete', async () => {
    const { storage, dir } = await fresh();
    const lockPath = await writeLock(dir, 'job', '');
    await expect(storage.lock('job')).rejects.toMatchObject({ code: 'STORAGE_LOCKED', message: expect.stringContaining(lockPath) });
  });

  it('a lock is held across storage instances in one process (the same directory means the same lock)', async () => {
    const { storage, dir } = await fresh();
    const lock = await storage.lock('job');
    await expect(new FileSystemCheckpointStorage(dir).lock('job')).rejects.toMatchObject({
      code: 'STORAGE_LOCKED',
      message: expect.stringContaining('this process'),
    });
    await lock.release();
  });
});

describe('FileSystemCheckpointStorage: error mapping', () => {
  it.skipIf(!existsSync('/dev/full'))(
    `a real ENOSPC (a write to /dev/full) maps to STORAGE_FULL naming the path, with the original error as cause${existsSync('/dev/full') ? '' : ' (skipped: this system has no /dev/full to fill)'}`,
    async () => {
      const handle = await open('/dev/full', 'w');
      const enospc = await handle.write(new Uint8Array(1)).then(
        () => undefined,
        (e: unknown) => e,
      );
      await handle.close();
      expect((enospc as { code?: string }).code).toBe('ENOSPC');
      const error = fsStorageError(enospc, 'put', 'job/chk-1/_metadata');
      expect(error).toBeInstanceOf(EddyError);
      expect(error.code).toBe('STORAGE_FULL');
      expect(error.message).toMatch(/^\[eddy\] \[storage:fs\] put "job\/chk-1\/_metadata" failed: no space left/);
      expect(error.cause).toBe(enospc);
    },
  );

  it('EDQUOT maps to STORAGE_FULL; other I/O errors to STORAGE_FAILURE with path and cause; EddyErrors pass through', async () => {
    const quota = Object.assign(new Error('quota'), { code: 'EDQUOT' });
    expect(fsStorageError(quota, 'put', 'p').code).toBe('STORAGE_FULL');
    const eio = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    const failure = fsStorageError(eio, 'get', 'job/x');
    expect(failure).toMatchObject({ code: 'STORAGE_FAILURE', cause: eio, message: expect.stringContaining('get "job/x" failed: EIO') });
    const own = new EddyError('STORAGE_LOCKED', 'held');
    expect(fsStorageError(own, 'lock', 'j')).toBe(own);
  });

  it('a real I/O failure surfaces as STORAGE_FAILURE: the root directory is a file', async () => {
    const file = join(base, 'not-a-directory');
    await writeFile(file, 'x');
    const storage = new FileSystemCheckpointStorage(join(file, 'sub'));
    await expect(storage.list('')).resolves.toEqual([]);
    await expect(storage.get('a')).resolves.toBeUndefined();
    await expect(storage.put('a/b', new Uint8Array(1))).rejects.toMatchObject({
      code: 'STORAGE_FAILURE',
      message: expect.stringContaining('"a/b"'),
      cause: expect.objectContaining({ code: 'ENOTDIR' }),
    });
  });
});
