/**
 * The Durable Object backend's write-behind value cache (`valueCache`), in Node: the cache
 * over a stand-in for its `Tables` (what it reads, writes and in how many transactions),
 * and the cached write's row-size check over a stand-in `ctx.storage`. What SQLite in
 * workerd does with the rows is pinned by test/cloudflare/durable-object.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ValueStateDescriptor } from '../../src/api/descriptors.ts';
import { DurableObjectStateBackend, type DurableObjectStorageLike } from '../../src/backends/durable-object/index.ts';
import type { FullRow, Tables } from '../../src/backends/durable-object/schema.ts';
import { CACHED_ROW_LIMIT } from '../../src/backends/durable-object/tables.ts';
import { ValueRowCache } from '../../src/backends/durable-object/value-cache.ts';
import { canonicalKeyBytes, type Key } from '../../src/format/key-bytes.ts';
import { keyGroupForKey } from '../../src/format/key-groups.ts';
import { keyId } from '../../src/format/key-ids.ts';
import { deserializeValue, serializeValue } from '../../src/format/value-codec.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import type { InternalKvState } from '../../src/state/keyed-states.ts';
import { keyedOptions } from '../helpers/keyed-options.ts';

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const rowId = (st: number, ns: string, k: Uint8Array): string => `${st}|${ns}|${hex(k)}`;

/** The value rows of `Tables` in a Map, counting reads, transactions and what was written. */
function standIn(seed: Array<[st: number, ns: string, key: Key, value: unknown]> = []) {
  const rows = new Map<string, Uint8Array>();
  for (const [st, ns, key, value] of seed) rows.set(rowId(st, ns, canonicalKeyBytes(key)), serializeValue(value));
  const log = { reads: 0, transactions: 0, written: [] as string[] };
  const tables = {
    getValue: (st: number, _kg: number, k: Uint8Array, ns: string) => {
      log.reads++;
      return rows.get(rowId(st, ns, k));
    },
    putRows: (puts: FullRow[]) => {
      for (const [st, , k, ns, , v] of puts) {
        // SQLite keeps a copy of what it binds.
        rows.set(rowId(st, ns, k), v.slice());
        log.written.push(`${rowId(st, ns, k)}=${JSON.stringify(deserializeValue(v))}`);
      }
    },
    deleteRow: (st: number, _kg: number, k: Uint8Array, ns: string) => {
      rows.delete(rowId(st, ns, k));
      log.written.push(`${rowId(st, ns, k)} deleted`);
    },
  } as unknown as Tables;
  const atomically = <T>(f: () => T): T => {
    log.transactions++;
    return f();
  };
  return { tables, atomically, log, stored: (st: number, ns: string, key: Key) => rows.get(rowId(st, ns, canonicalKeyBytes(key))) };
}

const always = (): boolean => true;

/** The cache over a stand-in, with reads and writes by state, namespace and key. */
function cacheOf(maxRows: number, seed?: Array<[number, string, Key, unknown]>) {
  const s = standIn(seed);
  const cache = new ValueRowCache(maxRows, s.tables, s.atomically);
  const get = (st: number, ns: string, key: Key) => cache.get(st, 0, keyId(key), () => canonicalKeyBytes(key), ns, always);
  const put = (st: number, ns: string, key: Key, value: unknown) =>
    cache.put(st, 0, keyId(key), () => canonicalKeyBytes(key), ns, serializeValue(value), value, true, null);
  /** Whether the row is cached: a read of it that costs no read of the tables. */
  const cached = (st: number, ns: string, key: Key): boolean => {
    const before = s.log.reads;
    get(st, ns, key);
    return s.log.reads === before;
  };
  return { ...s, cache, get, put, cached };
}

describe('Durable Object value cache', () => {
  it('evicts by load order across states and namespaces (a row rewritten in place keeps its place), after writing the dirty rows back', () => {
    const c = cacheOf(4, [[1, '', 'b', 7]]);
    c.put(1, '', 'a', 1);
    c.put(2, '', 'a', 2);
    c.put(1, 'w', 'a', 3);
    expect(c.get(1, '', 'b'), 'a miss loads the stored row').toBe(7);
    c.put(1, '', 'a', 11);
    c.put(2, 'w', 'a', 4);
    // The fifth row: everything dirty went back in one transaction, then the two oldest went.
    expect(c.log.transactions).toBe(1);
    expect(c.log.written).toHaveLength(4);
    expect(c.cache.size).toBe(3);
    expect(c.cached(1, 'w', 'a')).toBe(true);
    expect(c.cached(1, '', 'b')).toBe(true);
    expect(c.cached(2, 'w', 'a')).toBe(true);
    expect(c.cached(2, '', 'a'), 'second oldest: evicted').toBe(false);
    expect(c.get(1, '', 'a'), 'the oldest, evicted although rewritten last but one; read back as written').toBe(11);
  });

  it('keeps a number key, the same digits as a string and a bigint apart', () => {
    const c = cacheOf(10);
    c.put(1, '', 1, 'number');
    c.put(1, '', '1', 'string');
    c.put(1, '', 1n, 'bigint');
    expect([c.get(1, '', 1), c.get(1, '', '1'), c.get(1, '', 1n)]).toEqual(['number', 'string', 'bigint']);
    c.cache.writeBack();
    expect([1, '1', 1n].map((k) => deserializeValue(c.stored(1, '', k)!))).toEqual(['number', 'string', 'bigint']);
  });

  it('keeps a namespace apart from a state: state 1 namespace "2" is not state 12 namespace ""', () => {
    const c = cacheOf(10);
    c.put(1, '2', 'k', 'st 1 ns 2');
    c.put(12, '', 'k', 'st 12');
    c.put(1, '', '2k', 'st 1 key 2k');
    expect([c.get(1, '2', 'k'), c.get(12, '', 'k'), c.get(1, '', '2k')]).toEqual(['st 1 ns 2', 'st 12', 'st 1 key 2k']);
  });

  it('clear() (what afterRollback() does) forgets every row of every state and namespace, dirty ones too', () => {
    const seed: Array<[number, string, Key, unknown]> = [
      [1, '', 'a', 'stored 1'],
      [1, 'w', 'a', 'stored 2'],
      [2, '', 'a', 'stored 3'],
      [2, 'w', 7, 'stored 4'],
    ];
    const c = cacheOf(100, seed);
    expect(c.get(2, 'w', 7), 'loaded clean').toBe('stored 4');
    for (const [st, ns, key] of seed.slice(0, 3)) c.put(st, ns, key, 'rolled back');
    c.cache.clear();
    expect(c.cache.size).toBe(0);
    c.cache.writeBack();
    expect(c.log.transactions, 'nothing left to write back').toBe(0);
    const reads = c.log.reads;
    expect(seed.map(([st, ns, key]) => c.get(st, ns, key))).toEqual(['stored 1', 'stored 2', 'stored 3', 'stored 4']);
    expect(c.log.reads - reads, 'every row read again from the tables').toBe(4);
  });

  it('dropState() forgets one state in every namespace, and rows cached afterwards are found and dropped again', () => {
    const c = cacheOf(100, [[1, '', 'a', 'stored']]);
    c.put(1, '', 'a', 'cached');
    c.put(1, 'w', 'a', 'cached');
    c.put(2, '', 'a', 'other state');
    c.cache.writeBack();
    c.cache.dropState(1);
    expect(c.cache.size).toBe(1);
    expect(c.cached(2, '', 'a')).toBe(true);
    c.put(1, '', 'b', 'after the drop');
    expect(c.cache.keyBytesOf(1, 'b', ''), 'found by state, namespace and key').toEqual(canonicalKeyBytes('b'));
    c.cache.writeBack();
    c.cache.dropState(1);
    expect(c.cached(1, '', 'b')).toBe(false);
    expect(c.cached(1, 'w', 'a')).toBe(false);
  });

  it('a bucket emptied by eviction goes; the next row of that state and namespace is found again', () => {
    const c = cacheOf(1);
    c.put(1, 'w', 'a', 1);
    c.put(1, 'w', 'b', 2);
    // maxRows 1: both written back, then evicted down to 0 rows.
    expect(c.cache.size).toBe(0);
    expect(c.log.written.sort()).toEqual([`${rowId(1, 'w', canonicalKeyBytes('a'))}=1`, `${rowId(1, 'w', canonicalKeyBytes('b'))}=2`]);
    c.put(1, 'w', 'c', 3);
    expect(c.cache.keyBytesOf(1, 'c', 'w')).toEqual(canonicalKeyBytes('c'));
    c.cache.clear();
    expect(c.cached(1, 'w', 'c'), 'cleared with the rest').toBe(false);
  });

  it('a row rewritten many times (same encoded length) reads back its last value and writes back what it held at each write-back', () => {
    const c = cacheOf(100, [[1, '', 'a', { n: 10 }]]);
    // Not shareable: every read decodes the row's bytes.
    const put = (n: number) => c.cache.put(1, 0, 'a', () => canonicalKeyBytes('a'), '', serializeValue({ n }), { n }, false, null);
    const read = () =>
      c.cache.get(
        1,
        0,
        'a',
        () => canonicalKeyBytes('a'),
        '',
        () => false,
      );
    expect(read()).toEqual({ n: 10 });
    put(12);
    c.cache.clear();
    expect(read(), 'the bytes read from the tables were not written into: a rollback finds them as stored').toEqual({ n: 10 });
    const before = read();
    for (let n = 11; n <= 40; n++) {
      put(n);
      expect(read()).toEqual({ n });
      if (n % 10 === 0) c.cache.writeBack();
    }
    expect(before, "a value read earlier is its reader's own").toEqual({ n: 10 });
    expect(c.log.written.map((w) => w.split('=')[1])).toEqual(['{"n":20}', '{"n":30}', '{"n":40}']);
    expect(deserializeValue(c.stored(1, '', 'a')!)).toEqual({ n: 40 });
    c.cache.clear();
    expect(read(), 'read again from the tables').toEqual({ n: 40 });
  });

  it('writes back only the rows written since the last write-back, a removal as a delete, in one transaction', () => {
    const c = cacheOf(100, [[1, '', 'gone', 'stored']]);
    c.put(1, '', 'a', 1);
    c.put(1, '', 'b', 2);
    c.put(1, '', 'a', 3);
    c.cache.writeBack();
    expect(c.log.transactions).toBe(1);
    expect(c.log.written.sort()).toEqual([`${rowId(1, '', canonicalKeyBytes('a'))}=3`, `${rowId(1, '', canonicalKeyBytes('b'))}=2`]);
    c.log.written.length = 0;
    c.put(1, '', 'b', 4);
    c.cache.put(1, 0, 'gone', () => canonicalKeyBytes('gone'), '', null, undefined, false, null);
    expect(c.get(1, '', 'gone')).toBeUndefined();
    c.cache.writeBack();
    c.cache.writeBack();
    expect(c.log.transactions).toBe(2);
    expect(c.log.written.sort()).toEqual([`${rowId(1, '', canonicalKeyBytes('b'))}=4`, `${rowId(1, '', canonicalKeyBytes('gone'))} deleted`]);
    expect(c.stored(1, '', 'gone')).toBeUndefined();
  });
});

let savedStates = 0;
/** `ctx.storage` answering every query with no rows (the cache holds what a test writes); each state saved gets a new number. */
const emptyStorage: DurableObjectStorageLike = {
  sql: {
    exec: (q: string) => ({ raw: () => (q.startsWith('INSERT INTO eddy_states') ? [[++savedStates]] : [])[Symbol.iterator](), rowsWritten: 0 }) as never,
  } as DurableObjectStorageLike['sql'],
  transactionSync: (f) => f(),
  getAlarm: async () => null,
  setAlarm: async () => {},
  deleteAlarm: async () => {},
};

describe('Durable Object cached value write: the row-size check', () => {
  function open() {
    const kb = new DurableObjectStateBackend(emptyStorage, { valueCache: { maxRows: 100 } }).createKeyedStateBackend(keyedOptions('do-cache'));
    const v = new KeyedStateStore(kb, 'Op (1/1)').getSyncState(new ValueStateDescriptor<string>('v'));
    const enter = (k: Key) => kb.setCurrentKey(k, keyGroupForKey(k, 128));
    /** The refusal's code, or 'stored' with what is read back. */
    const write = (key: Key, value: string) => {
      enter(key);
      try {
        v.update(value);
      } catch (e) {
        return (e as { code?: string }).code;
      }
      return v.value() === value ? 'stored' : 'lost';
    };
    return { kb, v, enter, write };
  }
  /** A string value whose encoding is `bytes` long. */
  const valueOfSize = (bytes: number): string => {
    const overhead = serializeValue('').length;
    let s = 'y'.repeat(bytes - overhead);
    while (serializeValue(s).length > bytes) s = s.slice(1);
    expect(serializeValue(s).length).toBe(bytes);
    return s;
  };

  // Keys whose canonical bytes a bound from the key id cannot prove small: ASCII (3x over), 2- and 3-byte UTF-8, an array.
  const keys: Array<[string, Key]> = [
    ['ASCII key', 'k'.repeat(700_000)],
    ['2-byte UTF-8 key', 'é'.repeat(400_000)],
    ['3-byte UTF-8 key (the bound is exact)', '€'.repeat(400_000)],
    ['astral key', '😀'.repeat(200_000)],
    ['array key', ['a'.repeat(700_000), 1]],
  ];
  for (const [name, key] of keys) {
    it(`${name}: a row of exactly the limit is cached, one byte more is refused and the value before stays`, () => {
      const t = open();
      const keySize = canonicalKeyBytes(key).length;
      expect(t.write(key, valueOfSize(CACHED_ROW_LIMIT - keySize))).toBe('stored');
      expect(t.write(key, valueOfSize(CACHED_ROW_LIMIT - keySize + 1))).toBe('VALUE_TOO_LARGE');
      t.enter(key);
      expect(t.v.value()?.length, 'the row at the limit').toBe(valueOfSize(CACHED_ROW_LIMIT - keySize).length);
    });
  }

  it('a key not cached yet (first write) is checked exactly too', () => {
    const t = open();
    const key = '€'.repeat(300_000);
    expect(t.write(key, valueOfSize(CACHED_ROW_LIMIT - canonicalKeyBytes(key).length + 1))).toBe('VALUE_TOO_LARGE');
    expect(t.kb.cachedRows()).toBe(0);
    expect(t.write(key, 'small')).toBe('stored');
  });

  it('a removal of a cached row of a long key, and short keys of every kind with values near the limit, are exact', () => {
    const t = open();
    const long = 'k'.repeat(700_000);
    expect(t.write(long, 'x')).toBe('stored');
    t.enter(long);
    t.v.clear();
    expect(t.v.value()).toBeUndefined();
    for (const key of ['s', 7, 7n, true, ['a', 1]] as Key[]) {
      const keySize = canonicalKeyBytes(key).length;
      expect(t.write(key, valueOfSize(CACHED_ROW_LIMIT - keySize)), `${String(key)} at the limit`).toBe('stored');
      expect(t.write(key, valueOfSize(CACHED_ROW_LIMIT - keySize + 1)), `${String(key)} over it`).toBe('VALUE_TOO_LARGE');
    }
  });

  it('afterRollback() drops the cached rows of every state and namespace', () => {
    const t = open();
    const w = new KeyedStateStore(t.kb, 'Op (1/1)').getSyncState(new ValueStateDescriptor<number>('w'));
    t.enter('a');
    t.v.update('x');
    (t.v as unknown as InternalKvState).setCurrentNamespace('window-1');
    t.v.update('y');
    w.update(1);
    expect(t.kb.cachedRows()).toBe(3);
    t.kb.afterRollback();
    expect(t.kb.cachedRows()).toBe(0);
    // The stand-in storage holds nothing: every value reads as absent again.
    expect([t.v.value(), w.value()]).toEqual([undefined, undefined]);
    (t.v as unknown as InternalKvState).setCurrentNamespace('');
    expect(t.v.value()).toBeUndefined();
  });
});
