import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor } from '../../src/api/descriptors.ts';
import { ManualClock } from '../../src/api/clock.ts';
import { StateTtlConfig, StateVisibility } from '../../src/api/ttl.ts';
import { type EddyError, StateBackendError } from '../../src/api/errors.ts';
import { SqliteStateBackend, type SqliteStateBackendOptions } from '../../src/backends/sqlite/index.ts';
import { mergeKeyedChain } from '../../src/format/checkpoint-chain.ts';
import { keyGroupForKey } from '../../src/format/key-groups.ts';
import type { Key } from '../../src/format/key-bytes.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import { readKeyGroup, type KeyedStateSnapshot } from '../../src/format/snapshot-format.ts';
import { openSqliteKeyed } from '../helpers/sqlite.ts';

/** A SQLite keyed backend owning every key group, with a store on top. */
async function open(options: SqliteStateBackendOptions = {}) {
  const { backend, kb } = await openSqliteKeyed('sqlite-specific', options);
  return { backend, kb, store: new KeyedStateStore(kb, 'Op (1/1)'), key: (k: Key) => kb.setCurrentKey(k, keyGroupForKey(k, 128)) };
}

/** Every entry of a snapshot as sorted JSON lines, to compare contents regardless of order. */
function contents(s: KeyedStateSnapshot): string[] {
  const lines: string[] = [];
  for (const [, bytes] of s.keyGroups)
    for (const e of readKeyGroup(bytes, s.states))
      lines.push(
        JSON.stringify({ ...e, state: s.states[e.stateIndex]!.name, stateIndex: undefined }, (_, v) =>
          typeof v === 'bigint' ? `${v}n` : v instanceof Map ? [...v] : v,
        ),
      );
  return lines.sort();
}

describe('SqliteStateBackend (Node, in-memory database)', () => {
  it('says which VFS it chose: memory in Node; asking for OPFS outside a worker is an INVALID_CONFIG error, not a silent fallback', async () => {
    const chosen: string[] = [];
    const auto = new SqliteStateBackend({ onVfsChosen: (v) => chosen.push(v) });
    expect(auto.vfs).toBeUndefined();
    expect(await auto.init()).toBe('memory');
    expect(auto.vfs).toBe('memory');
    expect(chosen).toEqual(['memory']);
    const e = await new SqliteStateBackend({ vfs: 'opfs-sahpool' }).init().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StateBackendError);
    expect((e as EddyError).code).toBe('INVALID_CONFIG');
    expect((e as Error).message).toContain('[backend:sqlite]');
  });

  it('keeps working state in SQLite: 20,000 values go through a 64 KiB cache that never exceeds its budget, and every value is a row', async () => {
    const { kb, store, key } = await open({ cacheBytes: 64 << 10 });
    const v = store.getState(new ValueStateDescriptor<{ count: number; last: string }>('v'));
    let maxCached = 0;
    for (let i = 0; i < 20_000; i++) {
      key(`key-${i}`);
      await v.update({ count: i, last: `at ${i}` });
      if (i % 500 === 0) maxCached = Math.max(maxCached, kb.stats().cachedBytes);
    }
    const stats = kb.stats();
    expect(Math.max(maxCached, stats.cachedBytes)).toBeLessThanOrEqual(64 << 10);
    expect(stats.rows).toBe(20_000);
    key('key-7');
    expect(await v.value()).toEqual({ count: 7, last: 'at 7' });
  });

  it('TTL pairs and primitives cached decoded (encoded only at write-back) still count against the budget and are stored as their canonical encoding', async () => {
    const { kb, store, key } = await open({ cacheBytes: 64 << 10 });
    const ttl = StateTtlConfig.newBuilder(3_600_000).build();
    const t = store.getState(new ValueStateDescriptor<number>('t').enableTimeToLive(ttl));
    const p = store.getState(new ValueStateDescriptor<string>('p'));
    let maxCached = 0;
    for (let i = 0; i < 10_000; i++) {
      key(`key-${i}`);
      await t.update(i);
      await t.update(i + 1);
      await p.update(`v${i}`);
      if (i % 500 === 0) maxCached = Math.max(maxCached, kb.stats().cachedBytes);
    }
    expect(Math.max(maxCached, kb.stats().cachedBytes)).toBeLessThanOrEqual(64 << 10);
    expect(kb.stats().rows).toBe(20_000);
    key('key-3');
    expect(await t.value()).toBe(4);
    expect(await p.value()).toBe('v3');
    // The rows written back decode to the pair core wrote: [value, lastAccess].
    const snap = await kb.snapshot();
    const entries = [...snap.keyGroups].flatMap(([, bytes]) => [...readKeyGroup(bytes, snap.states)]);
    const ti = snap.states.findIndex((s) => s.name === 't');
    const stored = entries.filter((e) => e.stateIndex === ti).map((e) => (e as { value: unknown }).value as [number, number]);
    expect(stored).toHaveLength(10_000);
    expect(stored.every(([v, ts]) => Number.isInteger(v) && v >= 1 && v <= 10_000 && ts > 0)).toBe(true);
  });

  it('native TTL cleanup at flush evicts exactly the cached values it deleted: an expired one is gone even under ReturnExpiredIfNotCleanedUp, a live one stays', async () => {
    const clock = new ManualClock(1_000);
    const { kb, key } = await open();
    const store = new KeyedStateStore(kb, 'Op (1/1)', clock);
    const ttl = StateTtlConfig.newBuilder(1_000).setStateVisibility(StateVisibility.ReturnExpiredIfNotCleanedUp).build();
    const v = store.getState(new ValueStateDescriptor<string>('v').enableTimeToLive(ttl));
    key('old');
    await v.update('old value');
    clock.set(1_900);
    key('young');
    await v.update('young value');
    await kb.flush();
    clock.set(2_500);
    key('old');
    // Not cleaned up yet: the expired value is still visible.
    expect(await v.value()).toBe('old value');
    await kb.flush();
    expect(await v.value()).toBeUndefined();
    key('young');
    expect(await v.value()).toBe('young value');
    expect(kb.stats().rows).toBe(1);
  });

  it('ListState.add appends one row, whatever the length of the list (no rewrite)', async () => {
    const { kb, store, key } = await open();
    const l = store.getListState(new ListStateDescriptor<number>('l'));
    key('k');
    await l.addAll(Array.from({ length: 10_000 }, (_, i) => i));
    const before = kb.stats();
    expect(before.rows).toBe(10_000);
    await l.add(10_000);
    const after = kb.stats();
    expect(after.changes - before.changes).toBe(1);
    expect(after.rows).toBe(10_001);
    expect((await l.get()).slice(-2)).toEqual([9_999, 10_000]);
  });

  it('MapState keeps one row per entry: put and remove change one row each', async () => {
    const { kb, store, key } = await open();
    const m = store.getMapState(new MapStateDescriptor<string, number>('m'));
    key('k');
    await m.putAll(new Map(Array.from({ length: 1000 }, (_, i) => [`u${i}`, i] as [string, number])));
    const before = kb.stats();
    await m.put('u5', -5);
    await m.remove('u6');
    const after = kb.stats();
    expect(after.changes - before.changes).toBe(2);
    expect(after.rows).toBe(999);
    expect(await m.get('u5')).toBe(-5);
  });

  it('an incremental snapshot holds only the entries changed since the completed checkpoint; base + delta equals a full snapshot', async () => {
    const { kb, store, key } = await open({ cacheBytes: 32 << 10 });
    const count = store.getState(new ValueStateDescriptor<number>('count'));
    const tags = store.getMapState(new MapStateDescriptor<string, number>('tags'));
    const list = store.getListState(new ListStateDescriptor<string>('list'));
    for (let i = 0; i < 2000; i++) {
      key(`k${i}`);
      await count.update(i);
      if (i % 10 === 0) await tags.put('t', i);
      if (i % 100 === 0) await list.add(`e${i}`);
    }
    const base = await kb.snapshot({ checkpointId: 1, incremental: true });
    expect(base.incremental).toBeUndefined();
    kb.notifyCheckpointComplete(1);
    for (let i = 0; i < 20; i++) {
      key(`k${i}`);
      await count.update(-i);
    }
    key('k30');
    await count.clear();
    await tags.clear();
    key('k100');
    await list.add('more');
    key('new');
    await count.update(7);
    const delta = await kb.snapshot({ checkpointId: 2, incremental: true });
    expect(delta.incremental?.baseCheckpointId).toBe(1);
    // 20 updated counts, the new key's count, and k100's list.
    expect(contents(delta).length).toBe(22);
    expect(delta.incremental!.removed.size).toBeGreaterThan(0);
    const full = await kb.snapshot({ checkpointId: 3 });
    expect(contents(mergeKeyedChain([base, delta]))).toEqual(contents(full));
  });

  it('a write the database cannot take (SQLITE_FULL) rejects with a typed STORAGE_FULL error that names the backend and the state; and the backend refuses every later call instead of dropping state silently', async () => {
    const { kb, store, key } = await open();
    // Cap the database at a few pages: the next writes cannot fit.
    kb.stmts.db.exec('PRAGMA max_page_count=8');
    const l = store.getListState(new ListStateDescriptor<string>('big-list'));
    key('k');
    let error: unknown;
    for (let i = 0; i < 1000 && error === undefined; i++) await l.add('x'.repeat(1000)).catch((e: unknown) => (error = e));
    expect(error).toBeInstanceOf(StateBackendError);
    expect((error as EddyError).code).toBe('STORAGE_FULL');
    expect((error as Error).message).toContain('[backend:sqlite]');
    expect((error as Error).message).toContain('[state:big-list]');
    // SQLite may have rolled back the batch: the backend refuses to go on rather than serve state that lost writes.
    const next = await l.get().catch((e: unknown) => e);
    expect(next).toBeInstanceOf(StateBackendError);
    expect((next as EddyError).code).toBe('STORAGE_FULL');
  });

  it('the core never imports sqlite-wasm: only src/backends/sqlite mentions it (it is loaded lazily, from an optional subpath)', () => {
    const root = join(import.meta.dirname, '../../src');
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) {
          if (path !== join(root, 'backends/sqlite')) walk(path);
        } else if (readFileSync(path, 'utf8').includes('@sqlite.org/sqlite-wasm')) offenders.push(path);
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { exports: Record<string, unknown> };
    expect(pkg.exports['./sqlite']).toEqual({ types: './dist/src/backends/sqlite/index.d.ts', import: './dist/src/backends/sqlite/index.js' });
  });
});
