import { describe, expect, it } from 'vitest';
import { SnapshotError } from '../../src/api/errors.ts';
import { ByteReader, ByteWriter } from '../../src/format/bytes.ts';
import { cloneValue } from '../../src/format/value-clone.ts';
import { decodeValue, deserializeValue, encodeValue, serializeValue } from '../../src/format/value-codec.ts';
import { prng } from '../helpers/prng.ts';
import { hex, unhex, bytesOf, same, roundTrip, NUMBERS, STRINGS, randomValue } from './value-helpers.ts';

describe('round trips', () => {
  it.each(NUMBERS.map((n) => [n]))('keeps the number %s exactly', (n) => {
    same(n, roundTrip(n));
  });

  it.each(STRINGS.map((s) => [s.length > 40 ? `${JSON.stringify(s.slice(0, 20))}… (${s.length})` : JSON.stringify(s), s]))(
    'keeps the string %s exactly, lone surrogates included',
    (_name, s) => {
      expect(roundTrip(s)).toBe(s);
    },
  );

  it.each([[0n], [1n], [-1n], [255n], [-256n], [2n ** 53n - 1n], [2n ** 53n], [-(2n ** 64n)], [12345678901234567890123456789n], [-(7n ** 300n)]])(
    'keeps the bigint %s',
    (v) => {
      expect(roundTrip(v)).toBe(v);
    },
  );

  it('keeps undefined, null and booleans', () => {
    for (const v of [undefined, null, true, false]) expect(roundTrip(v)).toBe(v);
  });

  it('keeps nested plain objects, arrays, Map, Set and Date with their order', () => {
    const v = {
      z: 1,
      a: [1, 'two', [3, [4n]], { deep: new Map<unknown, unknown>([[{ k: 1 }, new Set([1, 'a', null])]]) }],
      10: 'integer-like keys come first',
      m: new Map<unknown, unknown>([
        ['b', 1],
        ['a', 2],
        [3, undefined],
        [NaN, -0],
      ]),
      s: new Set([3, 1, 2, 'x']),
      d: new Date(1_700_000_000_123),
      bad: new Date(NaN),
      u: undefined,
      n: null,
    };
    same(v, roundTrip(v));
  });

  it('keeps null-prototype objects and an own "__proto__" property', () => {
    const nullProto = Object.create(null) as Record<string, unknown>;
    nullProto.x = 1;
    nullProto['__proto__'] = 'data';
    const withProtoKey = JSON.parse('{"__proto__": {"polluted": true}, "b": 2}') as Record<string, unknown>;
    for (const v of [nullProto, withProtoKey]) {
      const back = roundTrip(v) as Record<string, unknown>;
      same(v, back);
      expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.enumerable).toBe(true);
      same(v, cloneValue(v));
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps object keys that contain lone surrogates', () => {
    const v = { ok: 1, ['bad\ud800']: [2], after: 'x' };
    same(v, roundTrip(v));
  });

  it('turns array holes into undefined', () => {
    // eslint-disable-next-line no-sparse-arrays
    const back = roundTrip([1, , 3]) as unknown[];
    expect(back).toHaveLength(3);
    expect(1 in back).toBe(true);
    expect(back[1]).toBeUndefined();
  });

  it('keeps binary data: ArrayBuffer, DataView and every typed array, including offset views', () => {
    const buf = new ArrayBuffer(64);
    new Uint8Array(buf).forEach((_, i, a) => (a[i] = (i * 29 + 3) & 0xff));
    const values: unknown[] = [
      new Uint8Array([0, 1, 255]),
      new Uint8Array(buf, 5, 9),
      new Uint8Array(0),
      new Int8Array([-128, 0, 127]),
      new Uint8ClampedArray([0, 200, 255]),
      new Int16Array([-32768, 1, 32767]),
      new Uint16Array(buf, 2, 5),
      new Int32Array([-(2 ** 31), 5]),
      new Uint32Array([2 ** 32 - 1]),
      new Float32Array([1.5, -0, NaN, Infinity]),
      new Float64Array([Math.PI, -0, -Infinity]),
      new Float64Array(buf, 8, 3),
      new BigInt64Array([-(2n ** 63n), 1n]),
      new BigUint64Array([2n ** 64n - 1n]),
      new DataView(buf, 3, 7),
      buf.slice(10, 20),
      new ArrayBuffer(0),
    ];
    for (const v of values) {
      const back = roundTrip(v);
      same(v, back);
      if (ArrayBuffer.isView(back)) expect(back.byteOffset).toBe(0);
    }
  });

  it('decodes Uint8Array subclasses (such as Node Buffer) as plain Uint8Array copies', () => {
    class Bytes extends Uint8Array {}
    const v = new Bytes([1, 2, 3]);
    const back = roundTrip(v);
    expect(Object.getPrototypeOf(back)).toBe(Uint8Array.prototype);
    expect(bytesOf(back as Uint8Array)).toBe('010203');
    expect(Object.getPrototypeOf(cloneValue(v))).toBe(Uint8Array.prototype);
  });

  it('copies decoded binary data instead of aliasing the snapshot bytes', () => {
    const bytes = serializeValue(new Uint8Array([7, 7]));
    const back = deserializeValue(bytes) as Uint8Array;
    bytes.fill(0);
    expect(bytesOf(back)).toBe('0707');
  });

  it('copies shared references separately rather than treating them as cycles', () => {
    const shared = { n: 1 };
    const v = { a: shared, b: [shared, shared] };
    const back = roundTrip(v) as { a: { n: number }; b: { n: number }[] };
    same(v, back);
    expect(back.a).not.toBe(back.b[0]);
  });
});

describe('format', () => {
  it.each([
    ['undefined', undefined, '00'],
    ['null', null, '01'],
    ['false', false, '02'],
    ['true', true, '03'],
    ['0', 0, '0400'],
    ['1', 1, '0402'],
    ['-1', -1, '0401'],
    ['64', 64, '048001'],
    ['2 ** 52 - 1', 2 ** 52 - 1, '04feffffffffffff0f'],
    ['2 ** 52', 2 ** 52, '054330000000000000'],
    ['-0', -0, '058000000000000000'],
    ['0.5', 0.5, '053fe0000000000000'],
    ['NaN', NaN, '057ff8000000000000'],
    ['0n', 0n, '060000'],
    ['1n', 1n, '06000101'],
    ['-256n', -256n, '0601020100'],
    ['""', '', '0700'],
    ['"hi"', 'hi', '07026869'],
    ['"é"', 'é', '0702c3a9'],
    ['"\\ud800"', '\ud800', '080100d8'],
    ['[]', [], '0900'],
    ['[1, "a"]', [1, 'a'], '09020402070161'],
    ['{ a: 1 }', { a: 1 }, '0a0201610402'],
    ['null-prototype {}', Object.create(null), '0b00'],
    ['{ "\\ud800": 1 }', { '\ud800': 1 }, '0a03080100d80402'],
    ['Map { 1 => 2 }', new Map([[1, 2]]), '0c0104020404'],
    ['Set { true }', new Set([true]), '0d0103'],
    ['Date(0)', new Date(0), '0e0000000000000000'],
    ['ArrayBuffer(2)', new ArrayBuffer(2), '0f020000'],
    ['Uint8Array [1, 2]', new Uint8Array([1, 2]), '10020102'],
    ['Int16Array [1, -2]', new Int16Array([1, -2]), '13040100feff'],
    ['Float32Array [1]', new Float32Array([1]), '17040000803f'],
    ['BigInt64Array [-1n]', new BigInt64Array([-1n]), '1908ffffffffffffffff'],
    ['DataView [9, 8, 7]', new DataView(new Uint8Array([9, 8, 7]).buffer), '1b03090807'],
  ])('encodes %s as %s', (_name, v, expected) => {
    expect(hex(serializeValue(v))).toBe(expected);
  });

  it('produces the same bytes for equal values built separately', () => {
    const make = (): unknown => ({ id: 7, tags: new Set(['a', 'b']), at: new Date(5), m: new Map([[1n, [0.25, 'x']]]) });
    expect(hex(serializeValue(make()))).toBe(hex(serializeValue(make())));
    const r = prng(1);
    for (let i = 0; i < 200; i++) {
      const v = randomValue(r);
      expect(hex(serializeValue(cloneValue(v)))).toBe(hex(serializeValue(v)));
      expect(hex(serializeValue(roundTrip(v)))).toBe(hex(serializeValue(v)));
    }
  });
});

describe('corrupt input', () => {
  function expectCorrupt(bytes: Uint8Array): void {
    let caught: unknown;
    try {
      deserializeValue(bytes);
    } catch (e) {
      caught = e;
    }
    expect(caught, `expected ${hex(bytes.subarray(0, 40))} to be rejected`).toBeInstanceOf(SnapshotError);
    expect((caught as SnapshotError).code).toBe('SNAPSHOT_CORRUPT');
    expect((caught as SnapshotError).context.component).toBe('codec');
  }

  it('rejects every truncation of an encoding', () => {
    const v = {
      n: [0, -1, 1.5, 2 ** 60, -0],
      s: ['', 'abc', 'é😀', '\ud800x', 'y'.repeat(300)],
      b: [5n, -(2n ** 80n)],
      m: new Map<unknown, unknown>([[{ k: 1 }, new Set([null, undefined, true])]]),
      d: new Date(3),
      bin: [new Uint8Array([1, 2]), new Float64Array([1]), new ArrayBuffer(3), new DataView(new ArrayBuffer(2))],
      o: Object.assign(Object.create(null), { '\udc00': 1 }),
    };
    const bytes = serializeValue(v);
    same(v, deserializeValue(bytes));
    for (let n = 0; n < bytes.length; n++) expectCorrupt(bytes.subarray(0, n));
  });

  it.each([
    ['trailing bytes', '0000'],
    ['an unknown tag', 'ff'],
    ['a bigint sign byte of 2', '060200'],
    ['invalid UTF-8', '0701ff'],
    ['an encoded surrogate', '0703eda080'],
    ['a non-minimal varint', '048000'],
    ['a varint over 8 bytes', '04ffffffffffffffff01'],
    ['a varint above 2^53-1', '0480808080808080ff'],
    ['an array count beyond the data', '09ffff03'],
    ['a Map count beyond the data', '0c0a0000'],
    ['a typed array with a partial element', '1303010000'],
    ['an object key that is not a string', '0a030402'],
    ['containers nested too deep', '0901'.repeat(257) + '00'],
  ])('rejects %s', (_name, bytes) => {
    expectCorrupt(unhex(bytes));
  });

  it('throws only SnapshotError on random bytes', () => {
    const r = prng(77);
    for (let i = 0; i < 20_000; i++) {
      const n = Math.floor(r() * 24);
      const bytes = Uint8Array.from({ length: n }, () => (r() < 0.6 ? Math.floor(r() * 0x1c) : Math.floor(r() * 256)));
      try {
        deserializeValue(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(SnapshotError);
      }
    }
  });
});

describe('fuzz', () => {
  it('round-trips random values exactly, alone and many in one writer', () => {
    const r = prng(12345);
    const w = new ByteWriter(8);
    const values: unknown[] = [];
    for (let i = 0; i < 2000; i++) {
      const v = randomValue(r);
      values.push(v);
      same(v, roundTrip(v));
      encodeValue(w, v);
    }
    const reader = new ByteReader(w.finish());
    for (const v of values) same(v, decodeValue(reader));
    expect(reader.done).toBe(true);
  });
});

describe('runtimes without String.prototype.isWellFormed', () => {
  it('still keeps long strings with lone surrogates exactly', () => {
    const proto = String.prototype as { isWellFormed?: unknown };
    const native = proto.isWellFormed;
    delete proto.isWellFormed;
    try {
      for (const s of ['z'.repeat(100) + '\ud800', '😀'.repeat(40) + '\udc00x', '\ud83d' + 'é'.repeat(70), '😀'.repeat(100)]) {
        expect(roundTrip(s)).toBe(s);
      }
    } finally {
      proto.isWellFormed = native;
    }
  });
});
