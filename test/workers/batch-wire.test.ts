import { describe, expect, it } from 'vitest';
import type { Key } from '../../src/format/key-bytes.ts';
import type { RecordBatch } from '../../src/engine/operators/operator.ts';
import { InputGate } from '../../src/engine/input-gate.ts';
import { BufferPool, decodeBatch, encodeBatch, MIN_BINARY_RECORDS } from '../../src/workers/batch-wire.ts';
import { peerLinks } from '../helpers/peer-links.ts';

const N = MIN_BINARY_RECORDS;

/** Every kind the value codec knows, one of each (as record values and as nested fields). */
const KINDS: Array<[string, unknown]> = [
  ['undefined', undefined],
  ['null', null],
  ['false', false],
  ['true', true],
  ['int', -42],
  ['-0', -0],
  ['NaN', Number.NaN],
  ['float', 1.5e300],
  ['big int number', 2 ** 60],
  ['bigint', -(2n ** 80n)],
  ['string', 'hé 😀'],
  ['lone surrogate', 'a\ud800b'],
  ['long string (not joined)', `${'x'.repeat(20)}é😀`],
  ['long string with a lone surrogate', `${'y'.repeat(20)}\udc00`],
  ['array', [1, 'two', [3]]],
  ['object', { a: 1, b: { c: 'd' } }],
  ['__proto__ key', JSON.parse('{"__proto__": 1, "x": 2}')],
  ['null-prototype object', Object.assign(Object.create(null), { z: 1 })],
  [
    'Map',
    new Map<unknown, unknown>([
      [1, 'a'],
      ['b', { c: 2 }],
    ]),
  ],
  ['Set', new Set([1, 'x', 3n])],
  ['Date', new Date(1_700_000_000_000)],
  ['ArrayBuffer', new Uint8Array([1, 2, 3]).buffer],
  ['Uint8Array', new Uint8Array([4, 5])],
  ['Int8Array', new Int8Array([-1, 2])],
  ['Uint8ClampedArray', new Uint8ClampedArray([255])],
  ['Int16Array', new Int16Array([-300])],
  ['Uint16Array', new Uint16Array([65535])],
  ['Int32Array', new Int32Array([-1 << 30])],
  ['Uint32Array', new Uint32Array([2 ** 32 - 1])],
  ['Float32Array', new Float32Array([0.5, Number.NaN])],
  ['Float64Array', new Float64Array([-0, 1e-300])],
  ['BigInt64Array', new BigInt64Array([-5n])],
  ['BigUint64Array', new BigUint64Array([2n ** 64n - 1n])],
  ['DataView', new DataView(new Uint8Array([9, 8, 7]).buffer)],
];

function roundTrip(batch: RecordBatch): RecordBatch {
  const bytes = encodeBatch(batch);
  expect(bytes).toBeInstanceOf(Uint8Array);
  return decodeBatch(bytes!);
}

/** Deep equality that also tells -0 from 0, prototypes and typed-array classes apart. */
function expectSame(actual: unknown, expected: unknown): void {
  expect(actual).toStrictEqual(expected);
  expect(Object.is(actual, expected) || typeof expected === 'object').toBe(true);
  if (typeof expected === 'object' && expected !== null) {
    expect(Object.getPrototypeOf(actual)).toBe(Object.getPrototypeOf(expected));
    if (!(expected instanceof Map || expected instanceof Set || ArrayBuffer.isView(expected) || expected instanceof ArrayBuffer)) {
      for (const k of Object.keys(expected)) expectSame((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k]);
    }
  }
}

describe('record batches as bytes between workers', () => {
  for (const [name, value] of KINDS) {
    it(`${name}: arrives as the same value, as a record and as a field of shaped records`, () => {
      const values = Array.from({ length: N }, () => value);
      // Objects repeated by reference go by structured clone (it keeps them one object); give each record its own.
      const own = typeof value === 'object' && value !== null ? values.map(() => structuredClone(value)) : values;
      // structuredClone turns a null-prototype object into a plain one; the codec keeps the prototype.
      if (name === 'null-prototype object') own.forEach((_, i) => (own[i] = Object.assign(Object.create(null), { z: 1 })));
      const asRecords = roundTrip({ values: own, timestamps: undefined });
      asRecords.values.forEach((v, i) => expectSame(v, own[i]));
      const shaped = own.map((v, i) => ({ id: i, v, s: `k${i}` }));
      const asFields = roundTrip({ values: shaped, timestamps: undefined });
      asFields.values.forEach((v, i) => expectSame(v, shaped[i]));
    });
  }

  it('mixed records, timestamps (NaN kept), keys taken from a column and key groups arrive unchanged', () => {
    const values = Array.from({ length: N * 2 }, (_, i) => ({ k: `k${i % 7}`, v: i % 3 === 0 ? -0 : i / 3, ok: i % 2 === 0 }));
    const batch: RecordBatch = {
      values,
      timestamps: values.map((_, i) => (i === 5 ? Number.NaN : 1000 + i)),
      keys: values.map((v) => v.k),
      keyGroups: values.map((_, i) => (i * 31) % 128),
    };
    const back = roundTrip(batch);
    expectSame(back.values, batch.values);
    back.values.forEach((v, i) => expectSame((v as { v: number }).v, values[i]!.v));
    expect(back.timestamps).toStrictEqual(batch.timestamps);
    expect(back.keys).toStrictEqual(batch.keys);
    expect(back.keyGroups).toStrictEqual(batch.keyGroups);
    // Keys that are not a column (tuples, numbers) are written as their own column.
    const tupleKeys: Key[] = values.map((v, i) => [v.k, i]);
    expect(roundTrip({ ...batch, keys: tupleKeys }).keys).toStrictEqual(tupleKeys);
  });

  it('drops symbol-keyed properties exactly as structured clone does', () => {
    const tag = Symbol('tag');
    const values = Array.from({ length: N }, (_, i) => ({ i, [tag]: 'hidden' }));
    const back = roundTrip({ values, timestamps: undefined });
    expect(back.values).toStrictEqual(structuredClone(values));
    expect(Object.getOwnPropertySymbols(back.values[0])).toEqual([]);
  });

  it('leaves to structured clone: small batches, a repeated record object, values the codec refuses', () => {
    const shared = { a: 1 };
    expect(encodeBatch({ values: [1, 2, 3], timestamps: undefined })).toBeUndefined();
    expect(encodeBatch({ values: Array.from({ length: N }, () => shared), timestamps: undefined })).toBeUndefined();
    class Point {
      constructor(readonly x: number) {}
    }
    expect(encodeBatch({ values: Array.from({ length: N }, (_, i) => new Point(i)), timestamps: undefined })).toBeUndefined();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(encodeBatch({ values: Array.from({ length: N }, (_, i) => (i === 3 ? cyclic : { self: i })), timestamps: undefined })).toBeUndefined();
    // The shared writer is left clean: the next batch still encodes exactly.
    const next = Array.from({ length: N }, (_, i) => i);
    expect(decodeBatch(encodeBatch({ values: next, timestamps: undefined })!).values).toStrictEqual(next);
  });

  it('records of one to six property names (and "__proto__" among them) arrive with their names in order', () => {
    const names = ['alpha', 'b', 'gamma_long_name', 'd', '__proto__', 'f'];
    for (let m = 1; m <= names.length; m++) {
      const values = Array.from({ length: N }, (_, i) => JSON.parse(JSON.stringify(Object.fromEntries(names.slice(0, m).map((k, j) => [k, i * 10 + j])))));
      const back = roundTrip({ values, timestamps: undefined });
      back.values.forEach((v, i) => {
        expect(Object.keys(v as object)).toEqual(names.slice(0, m));
        expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
        expectSame(v, values[i]);
      });
    }
  });

  it('repeated strings in runs (first, middle, last, a whole column) arrive as the same strings', () => {
    const runs = ['a', 'a', 'a', 'bc', 'bc', '', '', 'é', 'é', '😀', '😀', 'x'];
    const values = Array.from({ length: N * 2 }, (_, i) => ({ s: runs[i % runs.length]!, same: 'k0', i }));
    const back = roundTrip({ values, timestamps: undefined, keys: values.map((v) => v.same) });
    expect(back.values).toStrictEqual(values);
    expect(back.keys).toStrictEqual(values.map((v) => v.same));
    const all = Array.from({ length: N }, () => 'zz');
    expect(roundTrip({ values: all, timestamps: undefined }).values).toStrictEqual(all);
  });

  it('a repeated record object is refused whether or not a number column proves the others distinct', () => {
    const records = Array.from({ length: N }, (_, i) => ({ v: N - i }));
    // Strictly decreasing: all distinct, no Set needed, and the batch goes as bytes.
    expect(roundTrip({ values: records, timestamps: undefined }).values).toStrictEqual(records);
    // The same object twice: its number repeats, so the column proves nothing and the Set finds it.
    const withRepeat = [...records.slice(0, N - 1), records[5]!];
    expect(encodeBatch({ values: withRepeat, timestamps: undefined })).toBeUndefined();
    // A NaN proves nothing either (NaN is neither above nor below anything).
    const withNaN = records.map((r, i) => (i === 7 ? { v: Number.NaN } : r));
    withNaN[N - 1] = withNaN[3]!;
    expect(encodeBatch({ values: withNaN, timestamps: undefined })).toBeUndefined();
  });

  it('keys taken from a column: never the values array itself, and a column index out of range is corrupt', () => {
    const words = Array.from({ length: N }, (_, i) => `w${i % 9}`);
    const back = roundTrip({ values: words, timestamps: undefined, keys: words.slice() });
    expect(back.keys).toStrictEqual(words);
    expect(back.keys).not.toBe(back.values);
    const shaped = words.map((w, i) => ({ w, i }));
    const bytes = encodeBatch({ values: shaped, timestamps: undefined, keys: words })!;
    expect(decodeBatch(bytes).keys).toStrictEqual(words);
    // The batch ends with the keys' form and the column index (0, the `w` column).
    expect(bytes[bytes.length - 1]).toBe(0);
    bytes[bytes.length - 1] = 9;
    expect(() => decodeBatch(bytes)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_CORRUPT', message: expect.stringMatching(/keys from column 9 of 2/) }));
  });

  it('key groups outside 0…65535 leave the batch to structured clone; a batch of another wire version is corrupt', () => {
    const values = Array.from({ length: N }, (_, i) => i);
    expect(encodeBatch({ values, timestamps: undefined, keyGroups: values.map((i) => (i === 9 ? 70_000 : i)) })).toBeUndefined();
    expect(encodeBatch({ values, timestamps: undefined, keyGroups: values.map((i) => (i === 9 ? 1.5 : i)) })).toBeUndefined();
    const bytes = encodeBatch({ values, timestamps: undefined, keyGroups: values.map((i) => 32_767 - i) })!;
    expect(decodeBatch(bytes).keyGroups).toStrictEqual(values.map((i) => 32_767 - i));
    bytes[0] = bytes[0]! + 1;
    expect(() => decodeBatch(bytes)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_CORRUPT', message: expect.stringMatching(/wire version/) }));
  });

  it('encodes into a buffer it is given, larger and dirty, and decodes only the bytes written', () => {
    const values = Array.from({ length: N * 2 }, (_, i) => ({ k: `k${i % 7}`, v: i * 0.5 }));
    const keys = values.map((v) => v.k);
    const keyGroups = values.map((_, i) => i % 128);
    const given = new Uint8Array(1 << 16).fill(0xee).buffer;
    const bytes = encodeBatch({ values, timestamps: undefined, keys, keyGroups }, () => given)!;
    expect(bytes.buffer).toBe(given);
    expect(bytes.byteLength).toBeLessThan(given.byteLength);
    const back = decodeBatch(bytes);
    expect(back.values).toStrictEqual(values);
    expect(back.keys).toStrictEqual(keys);
    expect(back.keyGroups).toStrictEqual(keyGroups);
  });

  it("BufferPool: a given-back buffer serves the next request it fits, a new one has room to spare, and it keeps at most 'max'", () => {
    const pool = new BufferPool(2);
    const fresh = pool.take(1000);
    expect(fresh.byteLength).toBeGreaterThan(1000);
    expect(pool.allocated).toBe(1);
    pool.give(fresh);
    expect(pool.take(1000)).toBe(fresh);
    expect(pool.reused).toBe(1);
    const a = new ArrayBuffer(10);
    const b = new ArrayBuffer(30);
    pool.give(a);
    pool.give(b);
    pool.give(new ArrayBuffer(50)); // over max: dropped
    expect(pool.take(20)).toBe(b);
    expect(pool.reused).toBe(2);
    pool.give(b);
    // Nothing fits 40 bytes and the pool is full: the smallest goes, the request gets a new buffer.
    expect(pool.take(40).byteLength).toBeGreaterThan(40);
    expect(pool.take(5)).toBe(b);
    expect(pool.allocated).toBe(2);
  });

  it('goes over a real MessagePort as a transferred buffer and arrives decoded, in order with clone-sent batches', async () => {
    const gate = new InputGate(1, 16);
    const { sender, receiver, errors } = peerLinks(8, gate);
    try {
      const big = Array.from({ length: N * 4 }, (_, i) => ({ k: `k${i}`, v: i }));
      const sink = sender.sink('c');
      await sink.put(0, { kind: 'records', batch: { values: [1, 2], timestamps: undefined } });
      await sink.put(0, { kind: 'records', batch: { values: big, timestamps: undefined } });
      await new Promise((r) => setTimeout(r, 50));
      expect(sender.binaryBatchesSent).toBe(1);
      const got = [];
      for (let i = 0; i < 2; i++) {
        const item = await gate.take();
        got.push(item);
      }
      expect(got.map((g) => ('element' in g && g.element.kind === 'records' ? g.element.batch.values : undefined))).toStrictEqual([[1, 2], big]);
      expect(errors).toEqual([]);
      expect(sender.buffers.allocated).toBe(1);
    } finally {
      sender.close();
      receiver.close();
    }
  });

  it('gets each decoded buffer back with the next credits, and encodes later batches into it', async () => {
    const gate = new InputGate(1, 64);
    // Credits go back every 2 elements (half the window of 4), and the buffers with them.
    const { sender, receiver, errors } = peerLinks(4, gate);
    try {
      const sink = sender.sink('c');
      const batches = Array.from({ length: 10 }, (_, b) => Array.from({ length: N * 2 }, (_, i) => ({ k: `k${i % 5}`, v: b * 1000 + i })));
      for (const values of batches) await sink.put(0, { kind: 'records', batch: { values, timestamps: undefined } });
      const got = [];
      for (let i = 0; i < batches.length; i++) {
        const item = await gate.take();
        got.push('element' in item && item.element.kind === 'records' ? item.element.batch.values : undefined);
      }
      expect(got).toStrictEqual(batches);
      expect(errors).toEqual([]);
      expect(sender.binaryBatchesSent).toBe(10);
      // The first window's buffers are new; after that the sender mostly writes into returned ones.
      expect(sender.buffers.reused).toBeGreaterThanOrEqual(4);
      expect(sender.buffers.allocated + sender.buffers.reused).toBe(10);
    } finally {
      sender.close();
      receiver.close();
    }
  });
});
