/**
 * A dedicated module worker that hosts SqliteStateBackend on the opfs-sahpool VFS, for
 * test/browser/sqlite-worker.test.ts. It answers two kinds of requests:
 *
 * - `kb.*`: the state-backend contract, one keyed backend per handle, so that the
 *   conformance suite in the page drives a real backend here through a proxy
 *   (`sqlite-proxy.ts`);
 * - `scenario.*`: whole workloads that need the worker's own view (the pool's files,
 *   closing and reopening the pool).
 *
 * Errors travel back with their class name, code, context and message.
 */
import { EddyError } from '../../src/api/errors.ts';
import { SqliteStateBackend, type SqliteKeyedStateBackend } from '../../src/backends/sqlite/index.ts';
import { loadSqlite } from '../../src/backends/sqlite/loader.ts';
import { sahPool } from '../../src/backends/sqlite/open.ts';
import { KeyGroupRange, keyGroupForKey } from '../../src/format/key-groups.ts';
import type { Key } from '../../src/format/key-bytes.ts';
import type { KeyedStateBackend, KeyedStateBackendOptions, MapTable } from '../../src/state/backend.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import { ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor, type StateKind } from '../../src/api/descriptors.ts';
import type { KeyedStateSnapshot, TtlMetaInfo } from '../../src/format/snapshot-format.ts';

type Request = { id: number; op: string; args: any[] };

const backends = new Map<number, KeyedStateBackend>();
let factory: SqliteStateBackend | undefined;

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** The keyed backend of a handle, with the caller's current key set (the page keeps the current key; every call carries it). */
function at(handle: number, key: Key | undefined, kg: number): KeyedStateBackend {
  const kb = backends.get(handle)!;
  if (key === undefined) kb.clearCurrentKey();
  else kb.setCurrentKey(key, kg);
  return kb;
}

const ops: Record<string, (...args: any[]) => unknown> = {
  async 'kb.create'(handle: number, o: Omit<KeyedStateBackendOptions, 'keyGroupRange'> & { range: [number, number] }) {
    factory ??= new SqliteStateBackend({ vfs: 'opfs-sahpool', poolDirectory: '.eddy-conformance', removeOnDispose: true });
    const kb = await factory.createKeyedStateBackend({ ...o, keyGroupRange: KeyGroupRange.of(o.range[0], o.range[1]) });
    backends.set(handle, kb);
    return { vfs: factory.vfs, fileName: (kb as SqliteKeyedStateBackend).fileName };
  },
  'kb.register'(handle: number, name: string, kind: StateKind, ttl?: TtlMetaInfo) {
    const kb = backends.get(handle)!;
    const options = ttl === undefined ? undefined : { ttl };
    if (kind === 'list') kb.listTable(name, options);
    else if (kind === 'map') kb.mapTable(name, options);
    else kb.valueTable(name, kind, options);
  },
  'kb.value'(
    handle: number,
    key: Key | undefined,
    kg: number,
    name: string,
    kind: 'value' | 'reducing' | 'aggregating',
    method: 'get' | 'put' | 'remove',
    args: unknown[],
  ) {
    const t = at(handle, key, kg).valueTable<unknown>(name, kind) as unknown as Record<string, (...a: unknown[]) => unknown>;
    return t[method]!(...args);
  },
  'kb.list'(handle: number, key: Key | undefined, kg: number, name: string, method: string, args: unknown[]) {
    const t = at(handle, key, kg).listTable<unknown>(name) as unknown as Record<string, (...a: unknown[]) => unknown>;
    return t[method]!(...args);
  },
  'kb.map'(handle: number, key: Key | undefined, kg: number, name: string, method: string, args: unknown[]) {
    const t = at(handle, key, kg).mapTable<unknown>(name);
    if (method === 'entries') return collect((t as MapTable<unknown>).entries(args[0] as string));
    return (t as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(...args);
  },
  'kb.snapshot': (handle: number, options) => backends.get(handle)!.snapshot(options),
  'kb.notify': (handle: number, id: number) => backends.get(handle)!.notifyCheckpointComplete?.(id),
  async 'kb.restore'(handle: number, snapshots) {
    const kb = backends.get(handle)!;
    await kb.restore(snapshots);
    return kb.states();
  },
  'kb.keys': (handle: number, name: string, ns: string) => collect(backends.get(handle)!.keys(name, ns)),
  'kb.prefetch': (handle: number, keys: Key[], kgs: number[]) => backends.get(handle)!.prefetch?.(keys, kgs),
  'kb.flush': (handle: number) => backends.get(handle)!.flush?.(),
  async 'kb.dispose'(handle: number) {
    const kb = backends.get(handle);
    backends.delete(handle);
    await kb?.dispose();
  },

  /**
   * A workload on a persistent database: writes, reads, a snapshot restored into a fresh
   * backend, then the pool closed and reopened and the file read back with plain SQL.
   */
  async 'scenario.persistence'(directory: string) {
    const backend = new SqliteStateBackend({ vfs: 'opfs-sahpool', poolDirectory: directory, cacheBytes: 32 << 10 });
    const options = (operatorId: string): KeyedStateBackendOptions => ({
      jobId: 'persist',
      operatorId,
      operatorName: 'Persist (1/1)',
      subtaskIndex: 0,
      parallelism: 1,
      maxParallelism: 128,
      keyGroupRange: KeyGroupRange.of(0, 127),
    });
    const kb = (await backend.createKeyedStateBackend(options('writer'))) as SqliteKeyedStateBackend;
    const store = new KeyedStateStore(kb, 'Persist (1/1)');
    const count = store.getState(new ValueStateDescriptor<{ count: number; last: number }>('count'));
    const events = store.getListState(new ListStateDescriptor<number>('events'));
    const seen = store.getMapState(new MapStateDescriptor<string, number>('seen'));
    const key = (k: string) => kb.setCurrentKey(k, keyGroupForKey(k, 128));
    for (let i = 0; i < 3000; i++) {
      key(`k${i % 1000}`);
      const c = (await count.value()) ?? { count: 0, last: -1 };
      await count.update({ count: c.count + 1, last: i });
      await events.add(i);
      await seen.put(`s${i % 7}`, i);
    }
    key('k42');
    const read = { count: await count.value(), events: await events.get(), seen: Object.fromEntries(await collect(seen.entries())) };
    const snapshot = await kb.snapshot();
    await kb.flush();
    const stats = kb.stats();
    await kb.dispose();

    const fresh = (await backend.createKeyedStateBackend(options('restored'))) as SqliteKeyedStateBackend;
    await fresh.restore([snapshot]);
    const rs = new KeyedStateStore(fresh, 'Persist (1/1)');
    fresh.setCurrentKey('k42', keyGroupForKey('k42', 128));
    const restored = {
      count: await rs.getState(new ValueStateDescriptor<unknown>('count')).value(),
      events: await rs.getListState(new ListStateDescriptor<number>('events')).get(),
      seen: Object.fromEntries(await collect(rs.getMapState(new MapStateDescriptor<string, number>('seen')).entries())),
      keys: (await collect(fresh.keys('count', ''))).length,
    };
    await fresh.dispose();

    // Close the pool (releasing every OPFS handle) and reopen it: the writer's file is still there.
    const sqlite3 = await loadSqlite();
    const pool = await sahPool(sqlite3, directory);
    pool.pauseVfs();
    const paused = pool.isPaused();
    await pool.unpauseVfs();
    const files = pool.getFileNames();
    const db = new pool.OpfsSAHPoolDb(kb.fileName);
    const rowsOnDisk = db.selectValue('SELECT count(*) FROM kv');
    const statesOnDisk = db.selectValues('SELECT name FROM states ORDER BY name');
    db.close();
    return { vfs: backend.vfs, fileName: kb.fileName, stats, read, restored, paused, files, rowsOnDisk, statesOnDisk };
  },

  /**
   * Restarts on a kept file: a restore of the snapshot the file is at reuses it; after a
   * write following the snapshot, or with another snapshot, the file is emptied and loaded.
   */
  async 'scenario.reuse'(directory: string) {
    const backend = () => new SqliteStateBackend({ vfs: 'opfs-sahpool', poolDirectory: directory, reuseLocalCopy: true });
    const options: KeyedStateBackendOptions = {
      jobId: 'reuse',
      operatorId: 'op',
      operatorName: 'Reuse (1/1)',
      subtaskIndex: 0,
      parallelism: 1,
      maxParallelism: 128,
      keyGroupRange: KeyGroupRange.of(0, 127),
    };
    // As an operator does: create, restore, then register states.
    const open = async (restore?: KeyedStateSnapshot) => {
      const kb = (await backend().createKeyedStateBackend(options)) as SqliteKeyedStateBackend;
      if (restore !== undefined) await kb.restore([restore]);
      const state = new KeyedStateStore(kb, 'Reuse (1/1)').getState(new ValueStateDescriptor<number>('v'));
      const key = (k: string) => kb.setCurrentKey(k, keyGroupForKey(k, 128));
      return { kb, state, key };
    };
    const read = async (r: Awaited<ReturnType<typeof open>>) => {
      const out: Record<string, unknown> = {};
      for (const k of ['k0', 'k499', 'extra']) {
        r.key(k);
        out[k] = await r.state.value();
      }
      return { values: out, keys: (await collect(r.kb.keys('v', ''))).length, ...r.kb.stats() };
    };

    const first = await open();
    for (let i = 0; i < 500; i++) {
      first.key(`k${i}`);
      await first.state.update(i);
    }
    const checkpoint = await first.kb.snapshot({ checkpointId: 7 });
    await first.kb.dispose();

    // 1. Restart at that checkpoint: reused, nothing loaded.
    const second = await open(checkpoint);
    const reused = await read(second);
    // A write after the checkpoint: the file is no longer at it.
    second.key('extra');
    await second.state.update(-1);
    await second.kb.flush();
    await second.kb.dispose();

    // 2. Restart at the same checkpoint again: not reusable any more, loaded from the snapshot.
    const third = await open(checkpoint);
    const reloaded = await read(third);
    const other = await third.kb.snapshot({ checkpointId: 8 });
    await third.kb.dispose();

    // 3. The file is at checkpoint 8 now; restoring checkpoint 7's snapshot with one key dropped is refused reuse.
    const trimmed = { ...other, keyGroups: new Map([...other.keyGroups].slice(1)) };
    const fourth = await open(trimmed);
    const different = await read(fourth);
    await fourth.kb.dispose();
    return { reused, reloaded, different };
  },

  /** Plants a file with a valid SQLite header and garbage pages in the pool, then opens a backend on it. */
  async 'scenario.corrupt'(directory: string) {
    const sqlite3 = await loadSqlite();
    const pool = await sahPool(sqlite3, directory);
    const bytes = new Uint8Array(4096 * 4);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) & 0xff;
    bytes.set(new TextEncoder().encode('SQLite format 3\0'), 0);
    // Page size 4096, file format 1/1 (no WAL), the fixed payload fractions 64/32/32: a header importDb accepts.
    bytes.set([0x10, 0x00, 1, 1, 0, 64, 32, 32], 16);
    await pool.importDb('/corrupt.sqlite3', bytes);
    const backend = new SqliteStateBackend({ vfs: 'opfs-sahpool', poolDirectory: directory, fileName: () => '/corrupt.sqlite3' });
    await backend.createKeyedStateBackend({
      jobId: 'corrupt',
      operatorId: 'op',
      operatorName: 'Corrupt (1/1)',
      subtaskIndex: 0,
      parallelism: 1,
      maxParallelism: 128,
      keyGroupRange: KeyGroupRange.of(0, 127),
    });
    return 'opened';
  },

  /** Opens a backend on a pool directory and reports the error, if any (another worker may hold the pool). */
  async 'scenario.open'(directory: string) {
    const backend = new SqliteStateBackend({ vfs: 'opfs-sahpool', poolDirectory: directory });
    const kb = await backend.createKeyedStateBackend({
      jobId: 'lock',
      operatorId: 'op',
      operatorName: 'Lock (1/1)',
      subtaskIndex: 0,
      parallelism: 1,
      maxParallelism: 128,
      keyGroupRange: KeyGroupRange.of(0, 127),
    });
    backends.set(-1, kb);
    return backend.vfs;
  },
};

function serializeError(e: unknown) {
  if (e instanceof EddyError) return { eddy: true, name: e.name, code: e.code, message: e.message, context: { ...e.context } };
  return { eddy: false, name: (e as Error)?.name ?? 'Error', message: String((e as Error)?.message ?? e), stack: (e as Error)?.stack };
}

self.onmessage = async (event: MessageEvent<Request>) => {
  const { id, op, args } = event.data;
  try {
    const value = await ops[op]!(...args);
    (self as unknown as Worker).postMessage({ id, ok: true, value });
  } catch (e) {
    (self as unknown as Worker).postMessage({ id, ok: false, error: serializeError(e) });
  }
};
