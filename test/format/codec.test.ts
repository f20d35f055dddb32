import { describe, it, expect } from 'vitest';
import { EddyError, SnapshotError, StateError } from '../../src/api/errors.ts';
import { ByteReader, ByteWriter } from '../../src/format/bytes.ts';
import { unserializableProblem } from '../../src/format/value-check.ts';
import { cloneValue } from '../../src/format/value-clone.ts';
import { decodeValue, deserializeValue, encodeValue, serializeValue } from '../../src/format/value-codec.ts';
import { prng } from '../helpers/prng.ts';

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const unhex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s/g, '').match(/../g) ?? [], (x) => parseInt(x, 16));

function bytesOf(v: ArrayBufferView | ArrayBuffer): string {
  return hex(v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
}

/**
 * Strict structural equality: same prototypes, Object.is for primitives (so -0 and NaN
 * count), same property and entry order, same bytes for binary data.
 */
function same(a: unknown, b: unknown, path = '$'): void {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
    expect(Object.is(a, b), `${path}: ${String(a)} vs ${String(b)}`).toBe(true);
    return;
  }
  expect(Object.getPrototypeOf(b), `${path}: prototype`).toBe(Object.getPrototypeOf(a));
  if (a instanceof Date) {
    expect(Object.is(a.getTime(), (b as Date).getTime()), `${path}: date`).toBe(true);
  } else if (a instanceof ArrayBuffer || ArrayBuffer.isView(a)) {
    expect(bytesOf(b as ArrayBuffer), `${path}: bytes`).toBe(bytesOf(a));
  } else if (a instanceof Map) {
    const ea = [...a];
    const eb = [...(b as Map<unknown, unknown>)];
    expect(eb.length, `${path}: size`).toBe(ea.length);
    ea.forEach(([k, v], i) => {
      same(k, eb[i]![0], `${path}.keys()[${i}]`);
      same(v, eb[i]![1], `${path}.values()[${i}]`);
    });
  } else if (a instanceof Set) {
    const ea = [...a];
    const eb = [...(b as Set<unknown>)];
    expect(eb.length, `${path}: size`).toBe(ea.length);
    ea.forEach((v, i) => same(v, eb[i], `${path}.values()[${i}]`));
  } else if (Array.isArray(a)) {
    expect((b as unknown[]).length, `${path}: length`).toBe(a.length);
    for (let i = 0; i < a.length; i++) same(a[i], (b as unknown[])[i], `${path}[${i}]`);
  } else {
    expect(Object.keys(b), `${path}: keys`).toEqual(Object.keys(a));
    for (const k of Object.keys(a)) same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
  }
}

function roundTrip(v: unknown): unknown {
  return deserializeValue(serializeValue(v));
}

const NUMBERS = [
  0, -0, 1, -1, 63, 64, -64, -65, 127, 128, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32, 1.7e12, 2 ** 52 - 1, -(2 ** 52 - 1),
  2 ** 52, -(2 ** 52), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 53, 1e21, 0.1, -0.5, Math.PI, NaN, Infinity,
  -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, Number.EPSILON,
];

const STRINGS = [
  '', 'a', 'hello world', 'é', '日本語', '😀', 'a😀b€c', '\u0000', '\ufeffleading BOM', '\uffff', 'x'.repeat(42), 'é'.repeat(42),
  '€'.repeat(43), 'x'.repeat(127), 'x'.repeat(128), '日'.repeat(64), '日'.repeat(65), 'x'.repeat(100_000), '😀'.repeat(30_000),
  '\ud800', 'a\udc00b', 'end\ud83d', '\ude00\ud83d', 'long\ud800' + 'z'.repeat(100), '😀'.repeat(50) + '\ud800',
];

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

const RULE = 'state values must be structured data (plain objects, arrays, Map, Set, Date, primitives, bigint, Uint8Array)';

describe('unsupported values', () => {
  class Account {
    balance = 1;
  }
  class MyArray extends Array {}
  const cases: Array<[string, () => unknown, string]> = [
    ['a function in an array', () => ({ handlers: [1, 2, () => 3] }), '$.handlers[2] is a function'],
    ['a top-level function', () => () => 1, '$ is a function'],
    ['a symbol', () => ({ s: Symbol('x') }), '$.s is a symbol'],
    ['a class instance', () => ({ acct: new Account() }), '$.acct is an instance of Account'],
    ['a WeakMap', () => [new WeakMap()], '$[0] is an instance of WeakMap'],
    ['a Promise', () => ({ p: Promise.resolve(1) }), '$.p is an instance of Promise'],
    ['an Array subclass', () => ({ list: new MyArray() }), '$.list is an instance of MyArray'],
    ['symbol keys', () => ({ nested: { [Symbol('k')]: 1 } }), '$.nested is an object with symbol keys'],
    ['an odd property name', () => ({ 'a b': { 'c-d': [() => 0] } }), '$["a b"]["c-d"][0] is a function'],
    ['a Map value', () => new Map([['k', new Account()]]), '$.get("k") is an instance of Account'],
    ['a Map value under a number key', () => new Map([[5, () => 0]]), '$.get(5) is a function'],
    ['a Map value under an object key', () => new Map([[{}, () => 0]]), '$.values()[0] is a function'],
    ['a Map key', () => new Map<unknown, unknown>([[1, 1], [Symbol('k'), 2]]), '$.keys()[1] is a symbol'],
    ['a Set element', () => new Set([1, 2, new WeakSet()]), '$.values()[2] is an instance of WeakSet'],
  ];

  it.each(cases)('names the path of %s', (_name, make, expected) => {
    const message = `value at ${expected}; ${RULE}`;
    expect(unserializableProblem(make())).toBe(message);
    for (const f of [serializeValue, cloneValue, (v: unknown) => encodeValue(new ByteWriter(), v)]) {
      let caught: unknown;
      try {
        f(make());
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(StateError);
      expect((caught as StateError).code).toBe('UNSERIALIZABLE_VALUE');
      expect((caught as StateError).message).toBe(`[eddy] [codec] ${message}`);
    }
  });

  it('accepts every supported value in unserializableProblem', () => {
    const r = prng(2);
    for (let i = 0; i < 300; i++) expect(unserializableProblem(randomValue(r))).toBeUndefined();
    for (const v of [undefined, null, 0, 'x', 1n, true]) expect(unserializableProblem(v)).toBeUndefined();
  });

  it('ignores non-enumerable symbol properties, as it ignores non-enumerable strings', () => {
    const v = { a: 1 };
    Object.defineProperty(v, Symbol('meta'), { value: 1, enumerable: false });
    Object.defineProperty(v, 'hidden', { value: 2, enumerable: false });
    expect(unserializableProblem(v)).toBeUndefined();
    same({ a: 1 }, roundTrip(v));
  });

  it('detects cycles through objects, arrays, Map values, Map keys and Sets', () => {
    const self: Record<string, unknown> = {};
    self.me = self;
    const deep: { a: { b: Record<string, unknown> } } = { a: { b: {} } };
    deep.a.b.c = deep.a;
    const arr: unknown[] = [1];
    arr.push([arr]);
    const map = new Map<unknown, unknown>();
    map.set('loop', { m: map });
    const keyCycle = new Map<unknown, unknown>();
    keyCycle.set([keyCycle], 1);
    const set = new Set<unknown>();
    set.add({ s: set });
    const cases: Array<[unknown, string]> = [
      [self, '$.me is a cyclic reference to $'],
      [deep, '$.a.b.c is a cyclic reference to $.a'],
      [arr, '$[1][0] is a cyclic reference to $'],
      [map, '$.get("loop").m is a cyclic reference to $'],
      [keyCycle, '$.keys()[0][0] is a cyclic reference to $'],
      [set, '$.values()[0].s is a cyclic reference to $'],
    ];
    for (const [v, expected] of cases) {
      expect(unserializableProblem(v)).toBe(`value at ${expected}; ${RULE}`);
      expect(() => serializeValue(v)).toThrow(expected);
      expect(() => cloneValue(v)).toThrow(expected);
    }
  });

  it('tracks cycles per walk, so a getter that serialises, clones or checks another value does not disturb it', () => {
    // Each walk reads the getter, which runs a walk of its own (one that succeeds, one that fails).
    const inner: Array<(v: unknown) => void> = [
      (v) => serializeValue(v),
      (v) => cloneValue(v),
      (v) => unserializableProblem(v),
      (v) => encodeValue(new ByteWriter(), v),
    ];
    for (const walk of inner) {
      const self: Record<string, unknown> = {
        get g(): number {
          walk({ other: [1, { deeper: 2 }] });
          try {
            walk({ bad: [() => 0] });
          } catch {
            // the failure is the inner walk's own business
          }
          return 1;
        },
      };
      self.me = self;
      const nested = { a: { get g(): number {
        walk([{ x: 1 }]);
        return 2;
      }, b: {} as Record<string, unknown> } };
      nested.a.b.back = nested.a;
      const cases: Array<[unknown, string]> = [
        [self, '$.me is a cyclic reference to $'],
        [nested, '$.a.b.back is a cyclic reference to $.a'],
      ];
      for (const [v, expected] of cases) {
        expect(unserializableProblem(v)).toBe(`value at ${expected}; ${RULE}`);
        expect(() => serializeValue(v)).toThrow(`[eddy] [codec] value at ${expected}; ${RULE}`);
        expect(() => cloneValue(v)).toThrow(`[eddy] [codec] value at ${expected}; ${RULE}`);
      }
    }
  });

  it('leaves the writer as it was when a value fails', () => {
    const w = new ByteWriter();
    encodeValue(w, 'before');
    const length = w.length;
    expect(() => encodeValue(w, { ok: 'x'.repeat(1000), bad: () => 0 })).toThrow(StateError);
    expect(w.length).toBe(length);
    encodeValue(w, 1);
    const r = new ByteReader(w.finish());
    expect(decodeValue(r)).toBe('before');
    expect(decodeValue(r)).toBe(1);
    expect(r.done).toBe(true);
  });

  it('handles nesting up to 256 levels and refuses deeper values with a clear error', () => {
    const nest = (levels: number): unknown => {
      let v: unknown = 'leaf';
      for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { v };
      return v;
    };
    const ok = nest(256);
    same(ok, roundTrip(ok));
    same(ok, cloneValue(ok));
    expect(unserializableProblem(ok)).toBeUndefined();
    const tooDeep = nest(257);
    expect(unserializableProblem(tooDeep)).toMatch(/^value at \$\.v\[0\].*….* is nested more than 256 levels deep;/u);
    expect(() => serializeValue(tooDeep)).toThrow(StateError);
    expect(() => cloneValue(tooDeep)).toThrow(StateError);
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

describe('ByteWriter and ByteReader', () => {
  it('round-trip varints at every size boundary', () => {
    const values = [0, 1, 127, 128, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 49, 2 ** 53 - 1];
    const w = new ByteWriter(16);
    for (const v of values) w.varint(v);
    const r = new ByteReader(w.finish());
    for (const v of values) expect(r.varint()).toBe(v);
    expect(r.done).toBe(true);
  });

  it('rejects varints that are negative, fractional or beyond 2^53-1', () => {
    const w = new ByteWriter();
    for (const bad of [-1, 1.5, 2 ** 53, NaN, Infinity]) expect(() => w.varint(bad)).toThrow(EddyError);
  });

  it('writes and reads every primitive in order', () => {
    const w = new ByteWriter(16);
    w.u8(7);
    w.f64(-0);
    w.f64(Math.PI);
    w.bytes(new Uint8Array([1, 2]));
    w.lenBytes(new Uint8Array([3, 4, 5]));
    w.string('héllo 😀');
    w.string('\ud800');
    w.string('x'.repeat(1000));
    expect(w.length).toBe(1 + 8 + 8 + 2 + 4 + 1 + 11 + 1 + 3 + 2 + 1000);
    const r = new ByteReader(w.finish());
    expect(r.u8()).toBe(7);
    expect(Object.is(r.f64(), -0)).toBe(true);
    expect(r.f64()).toBe(Math.PI);
    expect(hex(r.bytes(2))).toBe('0102');
    expect(hex(r.lenBytes())).toBe('030405');
    expect(r.string()).toBe('héllo 😀');
    // A lone surrogate becomes U+FFFD in plain string(), as with TextEncoder.
    expect(r.string()).toBe('\ufffd');
    expect(r.offset).toBe(1 + 8 + 8 + 2 + 4 + 1 + 11 + 1 + 3);
    expect(r.string()).toBe('x'.repeat(1000));
    expect(r.done).toBe(true);
    expect(() => r.u8()).toThrow(SnapshotError);
  });

  it('encodes strings like TextEncoder, whichever path is taken', () => {
    const r = prng(9);
    const alphabet = ['a', 'é', '€', '😀', '\u0000', '\uffff', '\ud800', '\udc00'];
    for (let i = 0; i < 500; i++) {
      const n = Math.floor(r() * (r() < 0.2 ? 400 : 70));
      let s = '';
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(r() * alphabet.length)];
      const w = new ByteWriter(8);
      w.string(s);
      const expected = new TextEncoder().encode(s);
      const out = w.finish();
      const reader = new ByteReader(out);
      expect(hex(reader.lenBytes())).toBe(hex(expected));
    }
  });

  it('tryString writes nothing and returns false for a lone surrogate', () => {
    const w = new ByteWriter();
    expect(w.tryString('ok')).toBe(true);
    expect(w.tryString('bad\ud800')).toBe(false);
    expect(w.tryString('bad\ud800' + 'x'.repeat(100))).toBe(false);
    expect(hex(w.finish())).toBe('026f6b');
  });

  it('finish returns an exact copy the writer never touches again, and resets it', () => {
    const w = new ByteWriter(16);
    w.string('first');
    const a = w.finish();
    expect(w.length).toBe(0);
    w.string('second!');
    const b = w.finish();
    expect(hex(a)).toBe('056669727374');
    expect(a.byteLength).toBe(a.buffer.byteLength);
    expect(hex(b)).toBe('077365636f6e6421');
    // Exactly full: the buffer itself is handed over, and the writer starts afresh.
    const full = new ByteWriter(16);
    for (let i = 0; i < 16; i++) full.u8(i);
    const c = full.finish();
    full.u8(0xff);
    expect(c[0]).toBe(0);
  });

  it('truncate discards the tail and rejects lengths it cannot have', () => {
    const w = new ByteWriter();
    w.bytes(new Uint8Array([1, 2, 3]));
    w.truncate(1);
    expect(hex(w.finish())).toBe('01');
    expect(() => w.truncate(5)).toThrow(EddyError);
  });

  it('reads past the end as SNAPSHOT_CORRUPT with the offset', () => {
    const r = new ByteReader(new Uint8Array([1, 2, 3]));
    expect(() => r.f64()).toThrow(/unexpected end of data \(needed 8 bytes, 3 left\) at byte 0/u);
    expect(() => new ByteReader(new Uint8Array([0x80])).varint()).toThrow(SnapshotError);
  });
});

describe('cloneValue', () => {
  it('returns primitives as they are', () => {
    for (const v of [undefined, null, 0, -0, NaN, 'x', 1n, true]) expect(Object.is(cloneValue(v), v)).toBe(true);
  });

  it('deep-copies so that mutating the copy leaves the original alone', () => {
    const v = { list: [1, { x: 2 }], m: new Map([['k', [1]]]), s: new Set([[1]]), d: new Date(1), u: new Uint8Array([1]) };
    const c = cloneValue(v);
    same(v, c);
    (c.list[1] as { x: number }).x = 99;
    c.m.get('k')!.push(2);
    c.d.setTime(5);
    c.u[0] = 9;
    expect((v.list[1] as { x: number }).x).toBe(2);
    expect(v.m.get('k')).toEqual([1]);
    expect(v.d.getTime()).toBe(1);
    expect(v.u[0]).toBe(1);
  });

  it('equals deserializeValue(serializeValue(v)) for random values', () => {
    const r = prng(3);
    for (let i = 0; i < 500; i++) {
      const v = randomValue(r);
      same(roundTrip(v), cloneValue(v));
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

function randomString(r: () => number): string {
  const alphabet = ['a', 'b', 'Z', ' ', '_', 'é', '€', '日', '😀', '\u0000', '\ufeff', '\ud800'];
  const n = Math.floor(r() * (r() < 0.05 ? 200 : 12));
  let s = '';
  for (let i = 0; i < n; i++) s += r() < 0.7 ? String.fromCharCode(97 + Math.floor(r() * 26)) : alphabet[Math.floor(r() * alphabet.length)];
  return s;
}

function randomNumber(r: () => number): number {
  const pick = r();
  if (pick < 0.3) return Math.floor(r() * 200) - 100;
  if (pick < 0.5) return NUMBERS[Math.floor(r() * NUMBERS.length)]!;
  if (pick < 0.7) return Math.floor((r() - 0.5) * 2 ** Math.floor(r() * 60));
  return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
}

function randomValue(r: () => number, depth = 0): unknown {
  const leaf = depth >= 4 || r() < 0.45;
  if (leaf) {
    switch (Math.floor(r() * 10)) {
      case 0:
        return undefined;
      case 1:
        return null;
      case 2:
        return r() < 0.5;
      case 3:
        return (r() < 0.5 ? -1n : 1n) * BigInt(Math.floor(r() * 2 ** 40)) ** BigInt(1 + Math.floor(r() * 3));
      case 4:
        return randomString(r);
      case 5:
        return new Date(Math.floor(r() * 2 ** 42));
      case 6: {
        const ctors = [Uint8Array, Int16Array, Float64Array, Uint32Array, Int8Array] as const;
        const C = ctors[Math.floor(r() * ctors.length)]!;
        return new C(Array.from({ length: Math.floor(r() * 6) }, () => Math.floor(r() * 100) - 50));
      }
      default:
        return randomNumber(r);
    }
  }
  const n = Math.floor(r() * 5);
  switch (Math.floor(r() * 5)) {
    case 0:
      return Array.from({ length: n }, () => randomValue(r, depth + 1));
    case 1: {
      const o: Record<string, unknown> = r() < 0.2 ? Object.create(null) : {};
      for (let i = 0; i < n; i++) o[r() < 0.2 ? String(Math.floor(r() * 10)) : randomString(r)] = randomValue(r, depth + 1);
      return o;
    }
    case 2:
      return new Map(Array.from({ length: n }, () => [randomValue(r, depth + 1), randomValue(r, depth + 1)]));
    case 3:
      return new Set(Array.from({ length: n }, () => randomValue(r, depth + 1)));
    default:
      return { id: Math.floor(r() * 1e6), name: randomString(r), at: Math.floor(r() * 2 ** 41), tags: [randomString(r)] };
  }
}

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
