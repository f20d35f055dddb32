/**
 * `DurableObjectStateBackend` and `DurableObjectTimers` in real workerd (miniflare, pinned):
 * esbuild bundles test/cloudflare/worker/do-worker.ts, a Durable Object runs each scenario,
 * and this file checks what it answers, against the reference `HashMapStateBackend` in
 * Node where state moves between the two. (The conformance suites run on the backend in
 * workerd too: test/cloudflare/conformance.test.ts.)
 */
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListStateDescriptor } from '../../src/api/descriptors.ts';
import { HashMapStateBackend } from '../../src/backends/memory.ts';
import { keyGroupForKey, keyGroupRangeForSubtask } from '../../src/format/key-groups.ts';
import { readKeyGroup } from '../../src/format/snapshot-format.ts';
import { InternalTimerService } from '../../src/engine/timers.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import { FIXTURE_KEYS, MAX_P, readFixture, writeFixture } from './fixture.ts';
import { groupsToWire, snapshotFromWire, snapshotToWire, type WireSnapshot } from './wire.ts';
import { keyedOptions } from '../helpers/keyed-options.ts';

const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
let mf: Miniflare | undefined;

beforeAll(async () => {
  const out = await build({
    entryPoints: [path('./worker/do-worker.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    logLevel: 'silent',
  });
  mf = new Miniflare({
    modules: true,
    script: out.outputFiles[0]!.text,
    compatibilityDate: '2026-07-01',
    durableObjects: { OBJECT: { className: 'TestObject', useSQLite: true } },
  });
  await mf.ready;
}, 120_000);

afterAll(() => mf?.dispose());

async function call<T>(scenario: string, body?: unknown, object = scenario): Promise<T> {
  const response = await mf!.dispatchFetch(`http://localhost/${scenario}?object=${object}`, {
    method: 'POST',
    body: JSON.stringify(body ?? {}),
  });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as T;
}

/** A HashMap keyed backend of subtask `index` of `parallelism`. */
function heap(parallelism = 1, index = 0) {
  return new HashMapStateBackend().createKeyedStateBackend(keyedOptions('node', { subtaskIndex: index, parallelism, maxParallelism: MAX_P }));
}

/** A snapshot's entries per key group, decoded and sorted (entry order within a group is not part of the format's contract). */
function contents(w: WireSnapshot): Array<[number, string[]]> {
  const s = snapshotFromWire(w);
  return [...s.keyGroups].map(([kg, bytes]): [number, string[]] => [
    kg,
    [...readKeyGroup(bytes, s.states)].map((e) => JSON.stringify({ ...e, state: s.states[e.stateIndex]!.name, stateIndex: undefined })).sort(),
  ]);
}

describe('DurableObjectStateBackend in workerd', () => {
  it('stores every state kind one row per value, list element and map entry, streams a 600-entry map in pages, and a reopened backend finds it all', async () => {
    const r = await call<Record<string, unknown>>('kinds');
    const expected = await (async () => {
      const kb = heap();
      await writeFixture(kb, ['a', 'b']);
      return readFixture(kb, ['a', 'b']);
    })();
    expect(r.fixture).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(r.reopened).toEqual(r.fixture);
    expect(r.reopenedStates).toEqual(['value:value', 'list:list', 'map:map', 'reducing:reducing', 'aggregating:aggregating', 'big:map', 'list2:list']);
    // Per key: value 1 + list 3 + map 2 + reducing 1 + aggregating 1 + windowed list 1.
    expect(r.rowsPerFixture).toBe(2 * 9);
    expect(r).toMatchObject({ mapCount: 599, mapSum: (599 * 600) / 2 - 17, mapContains17: false, mapEmptyForB: true });
    expect(r.listBefore).toEqual(['x', 'y', 'z']);
    expect(r.listAfter).toEqual(['only']);
    expect([...(r.keys as string[])].sort()).toEqual(['a', 'b']);
    expect(r.rowCount).toBe(2 * 9 + 599 + 1);
  });

  it('restore() replaces the state a reopened backend found in storage, also a state of another kind under the same name', async () => {
    const source = heap();
    source.setCurrentKey('k', keyGroupForKey('k', MAX_P));
    await new KeyedStateStore(source, 'Op (1/1)').getListState(new ListStateDescriptor<string>('x')).addAll(['from', 'snapshot']);
    const r = await call<Record<string, unknown>>('replace', { snapshot: snapshotToWire(await source.snapshot()) });
    expect(r.adopted).toEqual(['x:value', 'y:list']);
    expect(r.states).toEqual(['x:list']);
    expect(r.x).toEqual(['from', 'snapshot']);
    expect(r.rows).toBe(2);
  });

  it("rolls back every write (values, list elements, map entries, timers) made in the platform's async storage.transaction() that throws", async () => {
    const r = await call<Record<string, unknown>>('rollback');
    expect(r).toEqual({
      error: 'the batch fails',
      v: 1,
      l: [1],
      mEmpty: true,
      timers: 0,
      rows: 2,
      // afterRollback() saved the state registered inside the transaction again: a reopened backend finds it.
      lateBefore: null,
      lateAgain: 'kept',
      adopted: ['v', 'l', 'm', 'late'],
    });
  });

  it('valueCache: writes reach SQLite at flush, once; a too-large value is refused at the write; eviction writes back; a rollback needs afterRollback()', async () => {
    const r = await call<Record<string, unknown>>('cache');
    expect(r).toEqual({
      beforeFlush: 0,
      afterFlush: 1,
      tooBig: 'VALUE_TOO_LARGE',
      kept: 5,
      // Each time an 11th row is cached, the dirty rows are written back and the oldest evicted down to 7:
      // after other-9, -13 and -17 (18 rows written), other-18 and -19 still dirty; 9 rows cached.
      afterOverflow: { sql: 1 + 18, cached: 9 },
      staleRead: 99,
      afterDiscard: 5,
    });
  });

  it('TTL: expired rows are deleted natively by flush(), the rest stay; expired state reads as absent', async () => {
    const r = await call<Record<string, unknown>>('ttl');
    // 3 keys × (value 1 + list 2 + map 1) rows.
    expect(r.rowsWritten).toBe(12);
    expect(r.rowsBeforeFlush).toBe(12);
    expect(r.rowsAfterFlush).toBe(1);
    expect(r.a).toEqual({ v: null, l: [], m: null });
    expect(r.c).toEqual({ v: 2, l: [] });
  });

  it('refuses a row over the platform limit with VALUE_TOO_LARGE naming backend, state and size, and writes nothing of it', async () => {
    const r = await call<Record<string, { code: string; name: string; message: string } | undefined | unknown>>('too-big');
    const value = r.value as { code: string; name: string; message: string };
    expect(value).toMatchObject({ name: 'StateBackendError', code: 'VALUE_TOO_LARGE' });
    expect(value.message).toMatch(/\[backend:durable-object\].*\[state:blob\].*a row of 3000\d+ bytes.*row limit/);
    expect(r.list).toMatchObject({ code: 'VALUE_TOO_LARGE', message: expect.stringContaining('[state:items]') });
    expect(r.map).toMatchObject({ code: 'VALUE_TOO_LARGE', message: expect.stringContaining('[state:parts]') });
    expect(r.listAfter).toEqual(['first']);
    expect(r.mapEmpty).toBe(true);
    expect(r.nearLimit).toBeUndefined();
    expect(r.nearLength).toBe(2_000_000);
  });

  it('a snapshot taken in workerd restores into HashMapStateBackend in Node with the same key groups and contents, and back', async () => {
    const fromDo = await call<WireSnapshot>('snapshot');
    const kb = heap();
    await kb.restore([snapshotFromWire(fromDo)]);
    const expected = heap();
    await writeFixture(expected);
    expect(await readFixture(kb)).toEqual(await readFixture(expected));
    const fromNode = snapshotToWire(await expected.snapshot());
    expect(fromDo.keyGroups.map(([g]) => g)).toEqual(fromNode.keyGroups.map(([g]) => g));
    expect(contents(fromDo)).toEqual(contents(fromNode));

    const back = await call<{ read: unknown; snapshot: WireSnapshot }>('restore', { snapshots: [fromNode], parallelism: 1, index: 0 });
    expect(back.read).toEqual(JSON.parse(JSON.stringify(await readFixture(expected))));
    expect(contents(back.snapshot)).toEqual(contents(fromNode));
  });

  it('restores a Node snapshot into half the key-group range (subtask 1 of 2): exactly the keys of its key groups', async () => {
    const full = heap();
    await writeFixture(full);
    const r = await call<{ range: [number, number]; read: Array<[string, unknown]>; snapshot: WireSnapshot }>('restore', {
      snapshots: [snapshotToWire(await full.snapshot())],
      parallelism: 2,
      index: 1,
    });
    expect(r.range).toEqual([64, 127]);
    const mine = FIXTURE_KEYS.filter((k) => keyGroupForKey(k, MAX_P) >= 64);
    expect(mine.length).toBeGreaterThan(10);
    expect(mine.length).toBeLessThan(FIXTURE_KEYS.length);
    expect(r.read.map(([k]) => k)).toEqual(mine.map((k) => JSON.stringify(k)));
    expect(r.read).toEqual(JSON.parse(JSON.stringify(await readFixture(full, mine))));
    expect(r.snapshot.keyGroups.every(([kg]) => kg >= 64 && kg <= 127)).toBe(true);
    // Restored back into Node at parallelism 2, the half holds the same state.
    const half = heap(2, 1);
    await half.restore([snapshotFromWire(r.snapshot)]);
    expect(await readFixture(half)).toEqual(await readFixture(full, mine));
  });
});

describe('DurableObjectTimers on the alarm, in workerd', () => {
  it('deduplicates timers, keeps the alarm at the earliest processing-time timer, and snapshots in the engine layout', async () => {
    const r = await call<{
      now: number;
      added: boolean[];
      alarms: Array<number | null>;
      sizes: number[];
      ofK3: { eventTime: number[]; processingTime: number[] };
      snapshot: Array<[number, number[]]>;
      event: { key: string; timestamp: number; domain: string } | null;
      eventAgain: unknown;
      next: number | null;
    }>('timers');
    expect(r.added).toEqual([true, true, false, true, true]);
    expect(r.alarms).toEqual([r.now + 30_000, r.now + 30_000, r.now + 45_000, r.now + 45_000, null, null]);
    expect(r.sizes).toEqual([2, 1]);
    // A state query lists a key's timers of both domains, namespaces included.
    expect(r.ofK3).toEqual({ eventTime: [5], processingTime: [r.now + 45_000] });
    expect(r.event).toMatchObject({ key: 'k3', timestamp: 5, domain: 'EVENT_TIME', namespace: '' });
    expect(r.eventAgain).toBeNull();
    expect(r.next).toBeNull();
    // The engine's timer service reads the snapshot: the same timers, with their domains and namespaces.
    const service = new InternalTimerService(keyGroupRangeForSubtask(MAX_P, 1, 0));
    service.restore(new Map(r.snapshot.map(([kg, bytes]) => [kg, Uint8Array.from(bytes)])));
    expect([service.size('PROCESSING_TIME'), service.size('EVENT_TIME')]).toEqual([2, 1]);
    const due = [];
    for (let t = service.pollDue('PROCESSING_TIME', Infinity); t !== undefined; t = service.pollDue('PROCESSING_TIME', Infinity))
      due.push([t.key, t.timestamp - r.now, t.namespace]);
    expect(due).toEqual([
      ['k3', 45_000, 'window-1'],
      ['k1', 60_000, ''],
    ]);
    expect(service.pollDue('EVENT_TIME', 5)).toMatchObject({ key: 'k3', timestamp: 5 });
  });

  it("restores the engine's timer snapshot into half the key-group range, with domains, namespaces and order", async () => {
    const engine = new InternalTimerService(keyGroupRangeForSubtask(MAX_P, 1, 0));
    const keys = Array.from({ length: 30 }, (_, i) => `t${i}`);
    keys.forEach((k, i) => {
      engine.register('PROCESSING_TIME', k, keyGroupForKey(k, MAX_P), 1000 - i, i % 3 === 0 ? 'window' : '');
      engine.register('EVENT_TIME', k, keyGroupForKey(k, MAX_P), i);
    });
    const r = await call<{ polled: Array<{ domain: string; key: string; keyGroup: number; timestamp: number; namespace: string }> }>('restore-timers', {
      snapshot: groupsToWire(await engine.snapshot()),
    });
    const mine = keys.map((k, i) => ({ k, i, kg: keyGroupForKey(k, MAX_P) })).filter((x) => x.kg >= 64);
    expect(mine.length).toBeGreaterThan(5);
    expect(mine.length).toBeLessThan(keys.length);
    const expected = [
      ...mine.map(({ k, i, kg }) => ({ domain: 'EVENT_TIME', key: k, keyGroup: kg, timestamp: i, namespace: '' })),
      ...mine
        .map(({ k, i, kg }) => ({ domain: 'PROCESSING_TIME', key: k, keyGroup: kg, timestamp: 1000 - i, namespace: i % 3 === 0 ? 'window' : '' }))
        .reverse(),
    ];
    expect(r.polled).toEqual(expected);
  });

  it('the alarm fires due timers; a retried alarm never fires a timer whose effects committed, and a rolled-back timer fires on the retry', async () => {
    const armed = await call<{ alarm: number }>('arm', {}, 'alarm');
    expect(armed.alarm).toBeGreaterThan(Date.now() - 1000);
    let status: { alarms: Array<{ retryCount: number }>; calls: string[]; fired: Record<string, number | null>; pending: number; alarm: number | null };
    const deadline = Date.now() + 40_000;
    do {
      await new Promise((r) => setTimeout(r, 250));
      status = await call('status', {}, 'alarm');
    } while (status.alarms.length < 3 && Date.now() < deadline);
    expect(status.alarms.map((a) => a.retryCount)).toEqual([0, 1, 2]);
    // b's first call wrote its effect and threw: rolled back with its timer, it ran again on the retry; a never ran twice.
    expect(status.calls).toEqual(['0:a', '0:b', '1:b', '1:c']);
    expect(status.fired).toEqual({ a: 1, b: 1, c: 1 });
    expect(status.pending).toBe(0);
    expect(status.alarm).toBeNull();
  }, 60_000);
});
