/**
 * What test/cloudflare/durable-object.test.ts asks the Durable Object to do with
 * `DurableObjectStateBackend`, inside workerd. Each scenario answers plain JSON that the
 * test in Node checks; nothing is asserted here.
 */
import { ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor } from '../../../src/api/descriptors.ts';
import { ManualClock } from '../../../src/api/clock.ts';
import { StateTtlConfig } from '../../../src/api/ttl.ts';
import {
  DurableObjectStateBackend,
  DurableObjectTimers,
  type DurableObjectKeyedStateBackend,
  type DurableObjectStorageLike,
} from '../../../src/backends/durable-object/index.ts';
import { KeyedStateStore } from '../../../src/state/keyed-state-store.ts';
import { enter, MAX_P, readFixture, writeFixture } from '../fixture.ts';
import { snapshotFromWire, snapshotToWire, type WireSnapshot } from '../wire.ts';
import { keyedOptions } from '../../helpers/keyed-options.ts';

let seq = 0;

/** A keyed backend of a fresh operator (or the given one), subtask `index` of `parallelism`. */
export function open(storage: DurableObjectStorageLike, operatorId = `op-${++seq}`, parallelism = 1, index = 0): DurableObjectKeyedStateBackend {
  return new DurableObjectStateBackend(storage).createKeyedStateBackend(
    keyedOptions('do-test', { operatorId, subtaskIndex: index, parallelism, maxParallelism: MAX_P }),
  );
}

/** Rows of the backend's tables, counted by SQL (one per value, list element and map entry). */
function sqlRows(storage: DurableObjectStorageLike): number {
  return storage.sql.exec('SELECT count(*) FROM eddy_kv').raw().next().value![0] as number;
}

/** Every state kind, map iteration across pages, and what the object stores for them. */
export async function kinds(storage: DurableObjectStorageLike): Promise<unknown> {
  const kb = open(storage);
  const store = new KeyedStateStore(kb, 'Op (1/1)');
  const before = sqlRows(storage);
  await writeFixture(kb, ['a', 'b']);
  const afterFixture = sqlRows(storage) - before;
  const big = store.getMapState(new MapStateDescriptor<number, string>('big'));
  enter(kb, 'a');
  await big.putAll(Array.from({ length: 600 }, (_, i): [number, string] => [i, `v${i}`]));
  await big.remove(17);
  let count = 0;
  let sum = 0;
  for await (const [k, v] of big.entries()) {
    count++;
    sum += k;
    if (v !== `v${k}`) return { wrongEntry: [k, v] };
  }
  const list = store.getListState(new ListStateDescriptor<string>('list2'));
  await list.add('x');
  await list.addAll(['y', 'z']);
  const listBefore = await list.get();
  await list.update(['only']);
  const listAfter = await list.get();
  enter(kb, 'b');
  const mapEmpty = await big.isEmpty();
  const keys = [];
  for await (const k of kb.keys('value', '')) keys.push(k);
  // A second backend of the same operator finds everything (the object's storage is durable).
  const again = open(storage, kb.scope.split('/')[1]);
  const reopened = await readFixture(again, ['a', 'b']);
  enter(kb, 'a');
  const mapContains17 = await big.contains(17);
  return {
    fixture: await readFixture(kb, ['a', 'b']),
    reopened,
    reopenedStates: again.states().map((s) => `${s.name}:${s.kind}`),
    rowsPerFixture: afterFixture,
    mapCount: count,
    mapSum: sum,
    mapContains17,
    mapEmptyForB: mapEmpty,
    listBefore,
    listAfter,
    keys,
    rowCount: kb.rowCount(),
  };
}

/** TTL with native cleanup: rows stay until expired, and flush() deletes them by the index. */
export async function ttl(storage: DurableObjectStorageLike): Promise<unknown> {
  const clock = new ManualClock(1_000_000);
  const kb = open(storage);
  const store = new KeyedStateStore(kb, 'Op (1/1)', clock);
  const config = StateTtlConfig.newBuilder(1000).build();
  const v = store.getState(new ValueStateDescriptor<number>('v').enableTimeToLive(config));
  const l = store.getListState(new ListStateDescriptor<number>('l').enableTimeToLive(config));
  const m = store.getMapState(new MapStateDescriptor<string, number>('m').enableTimeToLive(config));
  for (const key of ['a', 'b', 'c']) {
    enter(kb, key);
    await v.update(1);
    await l.addAll([1, 2]);
    await m.put('x', 1);
  }
  clock.advance(500);
  enter(kb, 'c');
  await v.update(2); // c's value lives on: written later
  const rowsWritten = kb.rowCount();
  clock.advance(600);
  const rowsBeforeFlush = kb.rowCount();
  await kb.flush();
  const rowsAfterFlush = kb.rowCount();
  enter(kb, 'a');
  const a = { v: (await v.value()) ?? null, l: (await l.get()) ?? null, m: (await m.get('x')) ?? null };
  enter(kb, 'c');
  const c = { v: (await v.value()) ?? null, l: (await l.get()) ?? null };
  return { rowsWritten, rowsBeforeFlush, rowsAfterFlush, a, c };
}

/** Rows over the platform's limit: refused, typed, and nothing of the write is stored. */
export async function tooBig(storage: DurableObjectStorageLike): Promise<unknown> {
  const kb = open(storage);
  const store = new KeyedStateStore(kb, 'Op (1/1)');
  const v = store.getState(new ValueStateDescriptor<string>('blob'));
  const l = store.getListState(new ListStateDescriptor<string>('items'));
  const m = store.getMapState(new MapStateDescriptor<string, string>('parts'));
  enter(kb, 'k');
  await v.update('small');
  await l.add('first');
  const huge = 'x'.repeat(3_000_000);
  const failure = async (f: () => Promise<unknown>) => {
    try {
      await f();
      return undefined;
    } catch (e) {
      return { name: (e as Error).name, code: (e as { code?: string }).code, message: (e as Error).message };
    }
  };
  const value = await failure(() => v.update(huge));
  const list = await failure(() => l.addAll(['second', huge]));
  const map = await failure(() =>
    m.putAll([
      ['a', 'fine'],
      ['b', huge],
    ]),
  );
  // Just under the limit fits in one row.
  const nearLimit = await failure(() => v.update('y'.repeat(2_000_000)));
  const nearLength = (await v.value())?.length;
  return { value, list, map, nearLimit, nearLength, listAfter: await l.get(), mapEmpty: await m.isEmpty() };
}

/**
 * A restore replaces what the scope holds: a backend reopened over stored state (a value
 * state "x", a list "y") restores a snapshot in which "x" is a list, and ends up with
 * exactly the snapshot's states and rows.
 */
export async function replace(storage: DurableObjectStorageLike, body: { snapshot: WireSnapshot }): Promise<unknown> {
  const first = open(storage);
  const store = new KeyedStateStore(first, 'Op (1/1)');
  enter(first, 'k');
  await store.getState(new ValueStateDescriptor<string>('x')).update('stored before');
  await store.getListState(new ListStateDescriptor<number>('y')).add(1);
  await first.dispose();
  const again = open(storage, first.scope.split('/')[1]);
  const adopted = again.states().map((s) => `${s.name}:${s.kind}`);
  await again.restore([snapshotFromWire(body.snapshot)]);
  enter(again, 'k');
  const x = await new KeyedStateStore(again, 'Op (1/1)').getListState(new ListStateDescriptor<string>('x')).get();
  return { adopted, states: again.states().map((s) => `${s.name}:${s.kind}`), x, rows: again.rowCount() };
}

/**
 * What a job host can build exactly-once batches on: every write of the backend (values,
 * list elements, map entries, timers) made inside the platform's async
 * `storage.transaction()` rolls back when it throws, also across real I/O waits.
 */
export async function rollback(storage: DurableObjectStorageLike & { transaction<T>(f: () => Promise<T>): Promise<T> }): Promise<unknown> {
  const kb = open(storage);
  const store = new KeyedStateStore(kb, 'Op (1/1)');
  const v = store.getState(new ValueStateDescriptor<number>('v'));
  const l = store.getListState(new ListStateDescriptor<number>('l'));
  const m = store.getMapState(new MapStateDescriptor<string, number>('m'));
  const timers = new DurableObjectTimers(storage, { scope: `rollback-${seq}` });
  enter(kb, 'k');
  await v.update(1);
  await l.add(1);
  const error = await storage
    .transaction(async () => {
      await v.update(2);
      await l.addAll([2, 3]);
      await m.put('x', 1);
      timers.register('PROCESSING_TIME', 'k', 0, 123);
      // A state first registered inside the transaction: its saved name rolls back too.
      await store.getState(new ValueStateDescriptor<string>('late')).update('rolled back');
      await new Promise((r) => setTimeout(r, 5));
      throw new Error('the batch fails');
    })
    .catch((e: Error) => e.message);
  const after = { error, v: await v.value(), l: await l.get(), mEmpty: await m.isEmpty(), timers: timers.size('PROCESSING_TIME'), rows: kb.rowCount() };
  kb.afterRollback();
  const late = store.getState(new ValueStateDescriptor<string>('late'));
  const lateBefore = (await late.value()) ?? null;
  await late.update('kept');
  // A backend opened again (the object restarted) finds the late state under its name.
  const again = open(storage, kb.scope.split('/')[1]);
  const adopted = again.states().map((s) => s.name);
  enter(again, 'k');
  const lateAgain = await new KeyedStateStore(again, 'Op (1/1)').getState(new ValueStateDescriptor<string>('late')).value();
  return { ...after, lateBefore, lateAgain, adopted };
}

/**
 * The write-behind value cache: writes reach SQLite at flush (once per row, however often
 * written), a row over the limit is refused at the write, eviction writes back, and a
 * rolled-back transaction needs `afterRollback()`.
 */
export async function cache(storage: DurableObjectStorageLike & { transaction<T>(f: () => Promise<T>): Promise<T> }): Promise<unknown> {
  const kb = new DurableObjectStateBackend(storage, { valueCache: { maxRows: 10 } }).createKeyedStateBackend(
    keyedOptions('do-test', { operatorId: `cached-${++seq}`, maxParallelism: MAX_P }),
  );
  const store = new KeyedStateStore(kb, 'Op (1/1)');
  const v = store.getState(new ValueStateDescriptor<number>('v'));
  const written = () => sqlRowsOf(storage, kb.scope);
  enter(kb, 'k');
  for (let i = 1; i <= 5; i++) await v.update(i);
  const beforeFlush = written();
  await kb.flush();
  const afterFlush = written();
  const tooBig = await v.update('x'.repeat(2_100_000) as never).then(
    () => undefined,
    (e: { code?: string }) => e.code,
  );
  const kept = await v.value();
  // 20 more keys overflow the 10-row cache: eviction writes the dirty rows back.
  for (let i = 0; i < 20; i++) {
    enter(kb, `other-${i}`);
    await v.update(i);
  }
  const afterOverflow = { sql: written(), cached: kb.cachedRows() };
  await kb.flush();
  enter(kb, 'k');
  await storage
    .transaction(async () => {
      await v.update(99);
      await kb.flush();
      throw new Error('rolled back');
    })
    .catch(() => undefined);
  const staleRead = await v.value();
  kb.afterRollback();
  const afterDiscard = await v.value();
  return { beforeFlush, afterFlush, tooBig, kept, afterOverflow, staleRead, afterDiscard };
}

/** Rows a scope holds in SQLite. */
function sqlRowsOf(storage: DurableObjectStorageLike, scope: string): number {
  return storage.sql.exec('SELECT count(*) FROM eddy_kv WHERE st IN (SELECT id FROM eddy_states WHERE scope=?)', scope).raw().next().value![0] as number;
}

/** Writes the fixture and answers its full snapshot. */
export async function snapshotOfFixture(storage: DurableObjectStorageLike): Promise<WireSnapshot> {
  const kb = open(storage);
  await writeFixture(kb);
  return snapshotToWire(await kb.snapshot());
}

/** Restores snapshots into subtask `index` of `parallelism`; answers what it reads and its own snapshot. */
export async function restoreInto(
  storage: DurableObjectStorageLike,
  body: { snapshots: WireSnapshot[]; parallelism: number; index: number },
): Promise<unknown> {
  const kb = open(storage, undefined, body.parallelism, body.index);
  await kb.restore(body.snapshots.map(snapshotFromWire));
  return { range: [kb.keyGroupRange.start, kb.keyGroupRange.end], read: await readFixture(kb), snapshot: snapshotToWire(await kb.snapshot()) };
}
