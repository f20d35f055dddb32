/**
 * Deno smoke test of `FileSystemCheckpointStorage` (DESIGN §4: one thin test per
 * runtime; the full conformance suite runs under vitest in Node). It imports `src/`
 * directly — `.ts` extensions and `node:` builtins are what make that work in Deno.
 *
 *   npm run test:deno
 *
 * `Deno` is reached through globalThis so that Node's tsc (which has no Deno types)
 * also type-checks this file.
 */
import assert from 'node:assert/strict';
import { EddyError } from '../../src/api/errors.ts';
import { FileSystemCheckpointStorage } from '../../src/storages/fs.ts';

interface DenoLike {
  test(name: string, fn: () => Promise<void>): void;
  makeTempDir(options?: { prefix?: string }): Promise<string>;
  remove(path: string, options?: { recursive?: boolean }): Promise<void>;
  writeTextFile(path: string, text: string, options?: { createNew?: boolean }): Promise<void>;
  readTextFile(path: string): Promise<string>;
  mkdir(path: string, options?: { recursive?: boolean }): Promise<void>;
  execPath(): string;
  hostname(): string;
  pid: number;
  Command: new (
    cmd: string,
    options: { args: string[]; stdout?: 'null'; stderr?: 'null' },
  ) => {
    spawn(): { pid: number; status: Promise<unknown> };
  };
}
const Deno = (globalThis as unknown as { Deno: DenoLike }).Deno;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: 'eddy-deno-fs-' });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test('put/get/list/delete round-trip binary data, atomically replaced, missing → undefined', () =>
  withDir(async (dir) => {
    const storage = new FileSystemCheckpointStorage(`${dir}/checkpoints`);
    const all = new Uint8Array(256).map((_, i) => i);
    await storage.put('job/chk-1/part-0', all);
    await storage.put('job/chk-1/_metadata', new Uint8Array([1]));
    await storage.put('job/chk-1/_metadata', new Uint8Array([2, 2]));
    await storage.put('job/chk-10/_metadata', new Uint8Array(0));
    assert.deepEqual(await storage.get('job/chk-1/part-0'), all);
    assert.deepEqual(await storage.get('job/chk-1/_metadata'), new Uint8Array([2, 2]));
    assert.equal((await storage.get('job/chk-10/_metadata'))?.byteLength, 0);
    assert.equal(await storage.get('job/chk-2/_metadata'), undefined);
    assert.deepEqual(await storage.list('job/chk-1'), ['job/chk-1/_metadata', 'job/chk-1/part-0', 'job/chk-10/_metadata']);
    assert.deepEqual(await storage.list('job/chk-1/'), ['job/chk-1/_metadata', 'job/chk-1/part-0']);
    await storage.delete('job/chk-1/part-0');
    await storage.delete('job/chk-1/part-0');
    assert.equal(await storage.get('job/chk-1/part-0'), undefined);
    assert.deepEqual(await storage.list(''), ['job/chk-1/_metadata', 'job/chk-10/_metadata']);
    await assert.rejects(storage.put('../escape', new Uint8Array(1)), (e: unknown) => e instanceof EddyError && e.code === 'INVALID_ARGUMENT');
  }));

Deno.test('lock: a held scope is refused with STORAGE_LOCKED, released it can be taken again', () =>
  withDir(async (dir) => {
    const storage = new FileSystemCheckpointStorage(dir);
    const lock = await storage.lock('job');
    const record = JSON.parse(await Deno.readTextFile(`${dir}/job/.~lock`));
    assert.equal(record.pid, Deno.pid);
    assert.equal(record.host, Deno.hostname());
    await assert.rejects(new FileSystemCheckpointStorage(dir).lock('job'), (e: unknown) => e instanceof EddyError && e.code === 'STORAGE_LOCKED');
    await lock.release();
    await (await storage.lock('job')).release();
  }));

Deno.test('lock: a stale lock of a dead process is taken over; a live one is refused naming its pid', () =>
  withDir(async (dir) => {
    const storage = new FileSystemCheckpointStorage(dir);
    const dead = new Deno.Command(Deno.execPath(), { args: ['eval', '0'], stdout: 'null', stderr: 'null' }).spawn();
    await dead.status;
    await Deno.mkdir(`${dir}/job`, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/job/.~lock`,
      JSON.stringify({ pid: dead.pid, host: Deno.hostname(), createdAt: '2020-01-01T00:00:00.000Z', token: 'old' }),
    );
    const warn = console.warn;
    const warnings: unknown[] = [];
    console.warn = (message: unknown) => void warnings.push(message);
    try {
      await (await storage.lock('job')).release();
    } finally {
      console.warn = warn;
    }
    assert.equal(warnings.length, 1);
    assert.match(String(warnings[0]), new RegExp(`stale lock of scope "job" left by pid ${dead.pid}`));

    const live = new Deno.Command(Deno.execPath(), { args: ['eval', 'setTimeout(() => {}, 10000)'], stdout: 'null', stderr: 'null' }).spawn();
    try {
      await Deno.mkdir(`${dir}/job`, { recursive: true });
      await Deno.writeTextFile(`${dir}/job/.~lock`, JSON.stringify({ pid: live.pid, host: Deno.hostname(), createdAt: new Date().toISOString(), token: 'x' }));
      await assert.rejects(storage.lock('job'), (e: unknown) => e instanceof EddyError && e.code === 'STORAGE_LOCKED' && e.message.includes(`pid ${live.pid}`));
    } finally {
      (live as unknown as { kill(signal: string): void }).kill('SIGKILL');
      await live.status;
    }
  }));
