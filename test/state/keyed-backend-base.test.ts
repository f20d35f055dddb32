/**
 * The rules every keyed backend shares live once, in `KeyedBackendBase`, and what a
 * backend knows of the values it stores comes from core (`StoredValues`): pinned here for
 * each backend, beside the conformance suites (which pin the behaviour itself).
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { type EddyError, SnapshotError, StateBackendError, StateError } from '../../src/api/errors.ts';
import type { StateKind } from '../../src/api/descriptors.ts';
import { HashMapStateBackend } from '../../src/backends/memory.ts';
import { IndexedDbStateBackend } from '../../src/backends/indexeddb/index.ts';
import { SqliteStateBackend } from '../../src/backends/sqlite/index.ts';
import { keyGroupForKey } from '../../src/format/key-groups.ts';
import type { Key } from '../../src/format/key-bytes.ts';
import type { KeyedStateBackend, ListTable, MapTable, StateBackend, StoredValues, ValueTable } from '../../src/state/backend.ts';
import { KeyedBackendBase, type TableConfig } from '../../src/state/keyed-backend-base.ts';
import { KEYED_SNAPSHOT_FORMAT_VERSION, type KeyedStateSnapshot } from '../../src/format/snapshot-format.ts';
import { PLAIN_VALUES } from '../../src/state/stored-values.ts';
import { TTL_PAIR_VALUES } from '../../src/state/ttl-context.ts';
import { keyedOptions } from '../helpers/keyed-options.ts';

const MAX_P = 128;
let seq = 0;

/** Subtask 1 of 2: it owns key groups 64..127 only. */
async function half(backend: StateBackend): Promise<KeyedStateBackend> {
  return backend.createKeyedStateBackend(keyedOptions('base-test', { operatorId: `op-${++seq}`, subtaskIndex: 1, parallelism: 2, maxParallelism: MAX_P }));
}

const backends: Array<[string, () => StateBackend]> = [
  ['hashmap', () => new HashMapStateBackend()],
  ['sqlite', () => new SqliteStateBackend({ vfs: 'memory' })],
  ['indexeddb', () => new IndexedDbStateBackend()],
];

/** A key of this subtask's range (64..127). */
function ownKey(): Key {
  for (let i = 0; ; i++) if (keyGroupForKey(`k${i}`, MAX_P) >= 64) return `k${i}`;
}

describe.each(backends)('%s goes through KeyedBackendBase', (name, factory) => {
  it('is a KeyedBackendBase and refuses a foreign key group with a StateBackendError naming backend:<name>', async () => {
    const kb = await half(factory());
    try {
      expect(kb).toBeInstanceOf(KeyedBackendBase);
      const e = (() => {
        try {
          kb.setCurrentKey('x', 3);
        } catch (x) {
          return x;
        }
      })();
      expect(e).toBeInstanceOf(StateBackendError);
      expect((e as EddyError).code).toBe('BACKEND_FAILURE');
      expect((e as Error).message).toContain(`[backend:${name}]`);
      expect((e as Error).message).toContain('key group 3');
      expect(kb.getCurrentKey()).toBeUndefined();
    } finally {
      await kb.dispose();
    }
  });

  it('refuses a name reused with another kind with STATE_KIND_MISMATCH naming backend:<name>', async () => {
    const kb = await half(factory());
    try {
      kb.valueTable('s', 'value');
      let e: unknown;
      try {
        kb.mapTable('s');
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(StateError);
      expect((e as EddyError).code).toBe('STATE_KIND_MISMATCH');
      expect((e as Error).message).toContain(`[backend:${name}]`);
    } finally {
      await kb.dispose();
    }
  });

  it('hands a value written through a table with core-supplied StoredValues back equal, with TTL pairs or plain values', async () => {
    const kb = await half(factory());
    try {
      kb.setCurrentKey(ownKey(), keyGroupForKey(ownKey(), MAX_P));
      const pairs = kb.valueTable<[unknown, number]>('pairs', 'value', { ttl: { ttlMs: 1000 }, values: TTL_PAIR_VALUES });
      const objectPair: [unknown, number] = [{ n: 1 }, 5];
      await pairs.put('', objectPair);
      (objectPair[0] as { n: number }).n = 2;
      expect(await pairs.get('')).toEqual([{ n: 1 }, 5]);
      expect(kb.states()).toEqual([{ name: 'pairs', kind: 'value', ttl: { ttlMs: 1000 } }]);
    } finally {
      await kb.dispose();
    }
  });
});

describe('StoredValues drive the live-value backends', () => {
  it("the heap backend stores what core's copy returns, and nothing else: a pair around a primitive is kept as is", async () => {
    const kb = await half(new HashMapStateBackend());
    kb.setCurrentKey(ownKey(), keyGroupForKey(ownKey(), MAX_P));
    const copies: unknown[] = [];
    const spy: StoredValues = { copy: (v) => (copies.push(v), v), shareable: () => false };
    const t = kb.valueTable<{ n: number }>('spied', 'value', { values: spy });
    const mine = { n: 1 };
    t.put('', mine);
    expect(copies).toEqual([mine]);
    // The backend did not copy on its own: core said the value needs no copy.
    expect(t.get('')).toBe(mine);
    const pairs = kb.valueTable<[number, number]>('pairs', 'value', { values: TTL_PAIR_VALUES });
    const pair: [number, number] = [7, 100];
    pairs.put('', pair);
    expect(pairs.get('')).toBe(pair);
    // Without StoredValues a value is plain: an object is copied.
    const plain = kb.valueTable<{ n: number }>('plain', 'value');
    plain.put('', mine);
    expect(plain.get('')).not.toBe(mine);
    expect(plain.get('')).toEqual(mine);
    await kb.dispose();
  });

  it('the SQLite value cache keeps decoded exactly what core calls shareable: a TTL pair of primitives, not a plain array', async () => {
    const kb = await half(new SqliteStateBackend({ vfs: 'memory' }));
    kb.setCurrentKey(ownKey(), keyGroupForKey(ownKey(), MAX_P));
    const pairs = kb.valueTable<[number, number]>('pairs', 'value', { values: TTL_PAIR_VALUES });
    const pair: [number, number] = [7, 100];
    pairs.put('', pair);
    // Kept decoded: every reader gets the same (never changed) pair, no decode.
    expect(pairs.get('')).toBe(pair);
    const plain = kb.valueTable<number[]>('plain', 'value');
    const list = [7, 100];
    plain.put('', list);
    expect(plain.get('')).not.toBe(list);
    expect(plain.get('')).toEqual(list);
    await kb.dispose();
  });

  it('TTL_PAIR_VALUES copies only an object user value and shares only pairs of encodable primitives; PLAIN_VALUES shares only primitives', () => {
    const p: [number, number] = [1, 2];
    expect(TTL_PAIR_VALUES.copy(p)).toBe(p);
    const o: [{ a: number[] }, number] = [{ a: [1] }, 2];
    const c = TTL_PAIR_VALUES.copy(o);
    expect(c).not.toBe(o);
    expect(c[0]).not.toBe(o[0]);
    expect(c).toEqual(o);
    expect(TTL_PAIR_VALUES.shareable(p)).toBe(true);
    expect(TTL_PAIR_VALUES.shareable(o)).toBe(false);
    expect(TTL_PAIR_VALUES.shareable([undefined, 2])).toBe(false);
    expect(PLAIN_VALUES.shareable(3)).toBe(true);
    expect(PLAIN_VALUES.shareable(p)).toBe(false);
    expect(PLAIN_VALUES.shareable(10n)).toBe(false);
  });
});

/** The smallest backend on the base: it records what the base asks of it. */
class Recording extends KeyedBackendBase<{ name: string; config?: TableConfig }> {
  readonly calls: string[] = [];
  constructor() {
    super('recording', keyedOptions('j', { operatorId: 'o', operatorName: 'Rec (1/1)', maxParallelism: MAX_P }));
  }
  protected enterKey(key: Key, keyGroup: number, index: number): void {
    this.calls.push(`enter ${String(key)} ${keyGroup} ${index}`);
  }
  protected createState(name: string, kind: StateKind) {
    this.calls.push(`create ${name} ${kind}`);
    return { name };
  }
  protected configureState(state: { name: string; config?: TableConfig }, config: TableConfig): void {
    state.config = config;
  }
  protected openValueTable<T>(): ValueTable<T> {
    return { get: () => undefined, put: () => undefined, remove: () => undefined };
  }
  protected openListTable<T>(): ListTable<T> {
    throw new Error('not used');
  }
  protected openMapTable<V>(): MapTable<V> {
    throw new Error('not used');
  }
  protected async load(snapshots: readonly KeyedStateSnapshot[], states: ReadonlyArray<readonly { name: string }[]>): Promise<void> {
    this.calls.push(`load ${snapshots.length} [${states.map((s) => s.map((x) => x.name).join(',')).join('|')}]`);
  }
  snapshot(): Promise<KeyedStateSnapshot> {
    const { head } = this.captureStates();
    return Promise.resolve({ ...head, keyGroups: new Map() });
  }
  async *keys(): AsyncIterable<Key> {}
  async dispose(): Promise<void> {}
}

const snapshotOf = (states: KeyedStateSnapshot['states'], maxParallelism = MAX_P): KeyedStateSnapshot => ({
  formatVersion: KEYED_SNAPSHOT_FORMAT_VERSION,
  maxParallelism,
  states,
  keyGroups: new Map(),
});

describe('KeyedBackendBase', () => {
  it('passes a key in range to the backend with its index, and gives every table PLAIN_VALUES unless core says otherwise', () => {
    const b = new Recording();
    b.setCurrentKey('a', 5);
    expect(b.calls).toEqual(['enter a 5 5']);
    expect(b.getCurrentKey()).toBe('a');
    b.clearCurrentKey();
    expect(b.getCurrentKey()).toBeUndefined();
    b.valueTable('v', 'value');
    expect(b.stateOf('v')!.config!.values).toBe(PLAIN_VALUES);
    b.valueTable('v', 'value', { ttl: { ttlMs: 5 }, values: TTL_PAIR_VALUES });
    expect(b.stateOf('v')!.config!.values).toBe(TTL_PAIR_VALUES);
    expect(b.calls.filter((c) => c.startsWith('create'))).toEqual(['create v value']);
  });

  it('refuses every snapshot it cannot read before loading any, and loads the rest with their states registered in order', async () => {
    const b = new Recording();
    await expect(b.restore([snapshotOf([{ name: 'a', kind: 'value' }]), snapshotOf([], 256)])).rejects.toBeInstanceOf(SnapshotError);
    expect(b.calls).toEqual([]);
    expect(b.states()).toEqual([]);
    await b.restore([
      snapshotOf([{ name: 'a', kind: 'value' }]),
      snapshotOf([
        { name: 'b', kind: 'list' },
        { name: 'a', kind: 'value' },
      ]),
    ]);
    expect(b.calls).toEqual(['create a value', 'create b list', 'load 2 [a|b,a]']);
  });

  it('a restored state keeps reporting its TTL (also in snapshots) until it is registered anew with options', async () => {
    const b = new Recording();
    await b.restore([snapshotOf([{ name: 't', kind: 'value', ttl: { ttlMs: 60 } }])]);
    expect(b.states()).toEqual([{ name: 't', kind: 'value', ttl: { ttlMs: 60 } }]);
    // Asking for the table without options (a raw access) keeps it.
    b.valueTable('t', 'value');
    expect((await b.snapshot()).states).toEqual([{ name: 't', kind: 'value', ttl: { ttlMs: 60 } }]);
    b.valueTable('t', 'value', { ttl: { ttlMs: 90 }, values: TTL_PAIR_VALUES });
    expect(b.states()).toEqual([{ name: 't', kind: 'value', ttl: { ttlMs: 90 } }]);
  });
});
