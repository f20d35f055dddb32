/**
 * Deno smoke test of `SqliteStateBackend` on an in-memory database (DESIGN §4: one thin
 * test per runtime; the conformance suites run under vitest in Node and Chromium). It
 * imports `src/` directly; sqlite-wasm resolves from node_modules as a bare specifier.
 *
 *   npm run test:deno
 */
import assert from 'node:assert/strict';
import { ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor } from '../../src/api/descriptors.ts';
import { HashMapStateBackend } from '../../src/backends/memory.ts';
import { SqliteStateBackend } from '../../src/backends/sqlite/index.ts';
import { keyGroupForKey } from '../../src/format/key-groups.ts';
import type { KeyedStateBackend, StateBackend } from '../../src/state/backend.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import { keyedOptions } from '../helpers/keyed-options.ts';

const Deno = (globalThis as unknown as { Deno: { test(name: string, fn: () => Promise<void>): void } }).Deno;

async function keyed(backend: StateBackend, operatorId: string): Promise<KeyedStateBackend> {
  return backend.createKeyedStateBackend(keyedOptions('deno', { operatorId, operatorName: 'Deno (1/1)' }));
}

Deno.test('SqliteStateBackend in Deno: in-memory database, every shape, snapshot restores into the hashmap backend', async () => {
  const backend = new SqliteStateBackend();
  const kb = await keyed(backend, 'writer');
  assert.equal(backend.vfs, 'memory');
  const store = new KeyedStateStore(kb, 'Deno (1/1)');
  const v = store.getState(new ValueStateDescriptor<{ n: number }>('v'));
  const l = store.getListState(new ListStateDescriptor<string>('l'));
  const m = store.getMapState(new MapStateDescriptor<string, bigint>('m'));
  for (let i = 0; i < 1000; i++) {
    kb.setCurrentKey(`k${i}`, keyGroupForKey(`k${i}`, 128));
    await v.update({ n: i });
    await l.add(`e${i}`);
    await m.put('big', BigInt(i) << 70n);
  }
  const snapshot = await kb.snapshot();
  await kb.dispose();
  const heap = await keyed(new HashMapStateBackend(), 'reader');
  await heap.restore([snapshot]);
  const rs = new KeyedStateStore(heap, 'Deno (1/1)');
  heap.setCurrentKey('k777', keyGroupForKey('k777', 128));
  assert.deepEqual(await rs.getState(new ValueStateDescriptor<unknown>('v')).value(), { n: 777 });
  assert.deepEqual(await rs.getListState(new ListStateDescriptor<string>('l')).get(), ['e777']);
  assert.equal(await rs.getMapState(new MapStateDescriptor<string, bigint>('m')).get('big'), 777n << 70n);
  await heap.dispose();
});
