/**
 * SqliteStateBackend in a dedicated Web Worker on the persistent opfs-sahpool VFS, in
 * headless Chromium (no COOP/COEP). Vitest cannot run a suite inside a worker, so:
 *
 * - the state-backend conformance suite runs in the page, unchanged, against a proxy
 *   whose every table call is executed by the real backend in the worker (`sqlite-proxy.ts`);
 * - workloads that need the worker's own view run there whole and report back
 *   (writes, reads, snapshot, restore into a fresh backend, the file surviving the pool
 *   being closed and reopened, a second worker refused with STORAGE_LOCKED).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { EddyError } from '../../src/api/errors.ts';
import { runStateBackendSuite } from '../conformance/state-backend/index.ts';
import { WorkerRpc, WorkerSqliteBackend } from './sqlite-proxy.ts';

const spawn = () => new WorkerRpc(new Worker(new URL('./sqlite.worker.ts', import.meta.url), { type: 'module' }));
const suiteWorker = spawn();
afterAll(() => suiteWorker.worker.terminate());

runStateBackendSuite('sqlite (Chromium dedicated worker, opfs-sahpool, driven through a proxy)', () => new WorkerSqliteBackend(suiteWorker), {
  slow: true,
  noSyncAccess: true,
});

describe('SqliteStateBackend in a dedicated worker on opfs-sahpool', () => {
  it('picks opfs-sahpool, persists a real workload in OPFS (the file survives closing and reopening the pool), and its snapshot restores into a fresh backend', {
    timeout: 120_000,
  }, async () => {
    const rpc = spawn();
    try {
      const r = await rpc.call<any>('scenario.persistence', `.eddy-persist-${Date.now().toString(36)}`);
      expect(r.vfs).toBe('opfs-sahpool');
      // Key k42 was written by records 42, 1042 and 2042.
      const k42 = { count: { count: 3, last: 2042 }, events: [42, 1042, 2042], seen: { s0: 42, s6: 1042, s5: 2042 } };
      expect(r.read).toEqual(k42);
      expect(r.restored).toEqual({ ...k42, keys: 1000 });
      // 1000 values + 3000 list elements + 3000 map entries, one row each, in SQLite, with a 32 KiB JS cache.
      expect(r.stats.rows).toBe(7000);
      expect(r.stats.cachedBytes).toBeLessThanOrEqual(32 << 10);
      expect(r.paused).toBe(true);
      expect(r.files).toContain(r.fileName);
      expect(r.rowsOnDisk).toBe(7000);
      expect(r.statesOnDisk).toEqual(['count', 'events', 'seen']);
    } finally {
      rpc.worker.terminate();
    }
  });

  it('reuseLocalCopy: a restart at the checkpoint the file holds reuses it without loading; after a later write, or with another snapshot, the file is emptied and loaded', {
    timeout: 120_000,
  }, async () => {
    const rpc = spawn();
    try {
      const r = await rpc.call<any>('scenario.reuse', `.eddy-reuse-${Date.now().toString(36)}`);
      expect(r.reused.reusedLocalCopy).toBe(true);
      // Nothing was written to load the checkpoint: SQLite counts no changed rows since the file was opened.
      expect(r.reused.changes).toBe(0);
      expect(r.reused.values).toEqual({ k0: 0, k499: 499, extra: undefined });
      expect(r.reused.rows).toBe(500);
      expect(r.reloaded.reusedLocalCopy).toBe(false);
      expect(r.reloaded.changes).toBeGreaterThanOrEqual(500);
      expect(r.reloaded.values).toEqual({ k0: 0, k499: 499, extra: undefined });
      expect(r.reloaded.keys).toBe(500);
      expect(r.different.reusedLocalCopy).toBe(false);
      expect(r.different.rows).toBeLessThan(500);
    } finally {
      rpc.worker.terminate();
    }
  });

  it('a corrupted database file gives a typed error that names the file and says what to do', { timeout: 60_000 }, async () => {
    const rpc = spawn();
    try {
      const e = await rpc.call('scenario.corrupt', `.eddy-corrupt-${Date.now().toString(36)}`).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(EddyError);
      expect((e as EddyError).code).toBe('BACKEND_FAILURE');
      expect((e as Error).message).toContain('[backend:sqlite]');
      expect((e as Error).message).toContain('/corrupt.sqlite3');
      expect((e as Error).message).toContain('corrupted');
      expect((e as Error).message).toContain('restore the job from its latest checkpoint');
    } finally {
      rpc.worker.terminate();
    }
  });

  it('a second worker opening a pool another worker holds gets a typed STORAGE_LOCKED error that says what to do', { timeout: 60_000 }, async () => {
    const directory = `.eddy-lock-${Date.now().toString(36)}`;
    const holder = spawn();
    const other = spawn();
    try {
      expect(await holder.call('scenario.open', directory)).toBe('opfs-sahpool');
      const e = await other.call('scenario.open', directory).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(EddyError);
      expect((e as EddyError).code).toBe('STORAGE_LOCKED');
      expect((e as Error).message).toContain('[backend:sqlite]');
      expect((e as Error).message).toContain('poolDirectory');
    } finally {
      holder.worker.terminate();
      other.worker.terminate();
    }
  });
});
