import { describe, it, expect } from 'vitest';
import { InvalidKeyError, SnapshotError, ConfigurationError, EddyError } from '../../src/api/errors.ts';
import { murmur3_32 } from '../../src/format/murmur3.ts';
import { type Key, canonicalKeyBytes, keyFromCanonicalBytes, keyProblem } from '../../src/format/key-bytes.ts';
import { asciiStringKeyGroup, hashKey, keyGroupForKey, keyGroupRangeForSubtask, subtaskForKeyGroup, KeyGroupRange, DEFAULT_MAX_PARALLELISM } from '../../src/format/key-groups.ts';
import { keyId, keyFromId } from '../../src/format/key-ids.ts';
import { prng } from '../helpers/prng.ts';

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const unhex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (x) => parseInt(x, 16));

const ALPHABET = ['a', 'Z', '0', ' ', '\u0001', '\u007f', 'é', 'ß', '€', '日', '本', '\uffff', '😀', '𝄞', '\u0000'];

function randomString(r: () => number, maxLen: number): string {
  const n = Math.floor(r() * maxLen);
  let s = '';
  const asciiOnly = r() < 0.5;
  for (let i = 0; i < n; i++) {
    s += asciiOnly ? String.fromCharCode(32 + Math.floor(r() * 95)) : ALPHABET[Math.floor(r() * ALPHABET.length)];
  }
  return s;
}

function randomKey(r: () => number, depth = 0): Key {
  const pick = Math.floor(r() * (depth < 3 ? 6 : 5));
  switch (pick) {
    case 0:
      return randomString(r, r() < 0.1 ? 300 : 20);
    case 1: {
      const specials = [0, -0, 1, -1, 0.5, 2 ** 53, -(2 ** 53), Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE];
      return r() < 0.3 ? specials[Math.floor(r() * specials.length)]! : (r() - 0.5) * 10 ** Math.floor(r() * 20);
    }
    case 2: {
      const big = BigInt(Math.floor(r() * 2 ** 53)) ** BigInt(1 + Math.floor(r() * 3));
      return r() < 0.5 ? -big : big;
    }
    case 3:
      return r() < 0.5;
    case 4:
      return Math.floor(r() * 1000);
    default: {
      const n = Math.floor(r() * 5);
      return Array.from({ length: n }, () => randomKey(r, depth + 1));
    }
  }
}

/** A deliberately plain reference encoder (allocating, recursive) to check the fast one. */
function referenceBytes(key: Key): Uint8Array {
  const parts: number[] = [];
  const varint = (n: number): void => {
    while (n >= 0x80) {
      parts.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    parts.push(n);
  };
  if (typeof key === 'string') return Uint8Array.from([1, ...new TextEncoder().encode(key)]);
  if (typeof key === 'number') {
    const b = new Uint8Array(9);
    b[0] = 2;
    new DataView(b.buffer).setFloat64(1, Object.is(key, -0) ? 0 : key, false);
    return b;
  }
  if (typeof key === 'bigint') {
    const mag = key < 0n ? -key : key;
    let h = mag === 0n ? '' : mag.toString(16);
    if (h.length % 2) h = '0' + h;
    return Uint8Array.from([3, key < 0n ? 1 : 0, ...unhex(h)]);
  }
  if (typeof key === 'boolean') return Uint8Array.from([4, key ? 1 : 0]);
  parts.push(5);
  varint(key.length);
  for (const e of key) {
    const b = referenceBytes(e);
    varint(b.length);
    for (const x of b) parts.push(x);
  }
  return Uint8Array.from(parts);
}

function expectCorrupt(bytes: Uint8Array): void {
  let caught: unknown;
  try {
    keyFromCanonicalBytes(bytes);
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${hex(bytes)} to be rejected`).toBeInstanceOf(SnapshotError);
  expect((caught as SnapshotError).code).toBe('SNAPSHOT_CORRUPT');
  expect((caught as SnapshotError).context.component).toBe('keys');
}

// Canonical bytes, hash and key group (maxParallelism 128), computed by an independent
// Python implementation of the format and of MurmurHash3. Every runtime must agree.
const VECTORS: ReadonlyArray<readonly [string, Key, string, number, number]> = [
  ['"alice"', 'alice', '01616c696365', 0x800bea5b, 91],
  ['""', '', '01', 0xe45ad1ab, 43],
  ['"日本語"', '日本語', '01e697a5e69cace8aa9e', 0x98cadf3e, 62],
  ['"😀"', '😀', '01f09f9880', 0xede8778c, 12],
  ['"a😀b€c"', 'a😀b€c', '0161f09f988062e282ac63', 0x293832e2, 98],
  ['"\\u0001x"', '\u0001x', '010178', 0x24dd7b12, 18],
  ['0', 0, '020000000000000000', 0xcec43499, 25],
  ['-0', -0, '020000000000000000', 0xcec43499, 25],
  ['1', 1, '023ff0000000000000', 0x1df63547, 71],
  ['1.5', 1.5, '023ff8000000000000', 0x4f7d2bb9, 57],
  ['-7.25', -7.25, '02c01d000000000000', 0xcdf7d67e, 126],
  ['-1e300', -1e300, '02fe37e43c8800759c', 0x9f32ab6b, 107],
  ['2 ** 53', 2 ** 53, '024340000000000000', 0x3a5f7aed, 109],
  ['2 ** 53 - 1', 2 ** 53 - 1, '02433fffffffffffff', 0x51d080bf, 63],
  ['Infinity', Infinity, '027ff0000000000000', 0x219982ba, 58],
  ['0n', 0n, '0300', 0x537c3d93, 19],
  ['-1n', -1n, '030101', 0x9bd9aeaa, 42],
  ['255n', 255n, '0300ff', 0x5a6d0e7d, 125],
  ['256n', 256n, '03000100', 0xa2b2fa72, 114],
  ['12345678901234567890n', 12345678901234567890n, '0300ab54a98ceb1f0ad2', 0x3f23518c, 12],
  ['-(2n ** 64n)', -(2n ** 64n), '0301010000000000000000', 0x9ee59caf, 47],
  ['true', true, '0401', 0x2a7a5886, 6],
  ['false', false, '0400', 0x35997e86, 6],
  ['["a", 1]', ['a', 1], '050202016109023ff0000000000000', 0x5a79f628, 40],
  ['[[1n], []]', [[1n], []], '050206050103030001020500', 0x4f448876, 118],
  ['[]', [], '0500', 0x4ab9bce9, 105],
  ['[-0]', [-0], '050109020000000000000000', 0xdc745b2a, 42],
  [
    '["é", -(2n ** 64n), true, [[[]]]]',
    ['é', -(2n ** 64n), true, [[[]]]],
    '05040301c3a90b0301010000000000000000020401080501050501020500',
    0xe868050c,
    12,
  ],
];

describe('canonical key bytes and hashes', () => {
  it.each(VECTORS)('pins bytes, hash and key group of %s', (_name, key, bytes, hash, kg) => {
    expect(hex(canonicalKeyBytes(key))).toBe(bytes);
    expect(hashKey(key)).toBe(hash);
    expect(keyGroupForKey(key, 128)).toBe(kg);
  });

  it('pins keys whose array element lengths need two- and three-byte varints', () => {
    const two: Key = ['x'.repeat(200), 7];
    const b2 = canonicalKeyBytes(two);
    expect(b2.length).toBe(215);
    expect(hex(b2.subarray(0, 8))).toBe('0502c90101787878');
    expect(hashKey(two)).toBe(0x1588c756);
    expect(keyGroupForKey(two, 128)).toBe(86);

    const three: Key = ['y'.repeat(20000)];
    const b3 = canonicalKeyBytes(three);
    expect(b3.length).toBe(20006);
    expect(hex(b3.subarray(0, 8))).toBe('0501a19c01017979');
    expect(hashKey(three)).toBe(0x1c5bb8b9);
    expect(keyGroupForKey(three, 1000)).toBe(113);
    expect(keyGroupForKey(three, 32768)).toBe(14521);
  });

  it('agrees with a plain reference encoder and with murmur3 of the bytes for random keys', () => {
    const r = prng(42);
    for (let i = 0; i < 3000; i++) {
      const key = randomKey(r);
      const bytes = canonicalKeyBytes(key);
      expect(hex(bytes)).toBe(hex(referenceBytes(key)));
      expect(hashKey(key)).toBe(murmur3_32(bytes, 0));
      // Every max parallelism, up to the largest, gives the plain modulo of the unsigned hash.
      const maxParallelism = [1, 7, 128, 1000, 32767, 32768][i % 6];
      expect(keyGroupForKey(key, maxParallelism)).toBe(murmur3_32(bytes, 0) % maxParallelism);
      if (typeof key === 'string') {
        const ascii = asciiStringKeyGroup(key, maxParallelism);
        if (ascii >= 0) expect(ascii).toBe(murmur3_32(bytes, 0) % maxParallelism);
      }
    }
  });

  it('gives ASCII string keys the key group of their canonical bytes on the fast path too', () => {
    for (const key of ['', 'k', 'k1', 'k12', 'k123', 'user-42', 'a'.repeat(1000)]) {
      expect(asciiStringKeyGroup(key, 128)).toBe(murmur3_32(canonicalKeyBytes(key), 0) % 128);
      expect(asciiStringKeyGroup(key, 32768)).toBe(keyGroupForKey(key, 32768));
    }
    expect(asciiStringKeyGroup('käse', 128)).toBe(-1);
  });

  it('hashes long non-ASCII, emoji and > 64 KiB keys like murmur3 of their bytes', () => {
    const keys: Key[] = [
      'a'.repeat(70_000),
      '日本語'.repeat(30_000),
      '😀'.repeat(20_000) + 'tail',
      'ascii prefix then é' + 'x'.repeat(66_000),
      ['😀'.repeat(40_000), ['b'.repeat(70_000), 3n], 'c'],
    ];
    for (const key of keys) {
      const bytes = canonicalKeyBytes(key);
      expect(hex(bytes)).toBe(hex(referenceBytes(key)));
      expect(hashKey(key)).toBe(murmur3_32(bytes, 0));
    }
    // A short key after a long one must not see stale scratch bytes.
    expect(hashKey('alice')).toBe(0x800bea5b);
  });

  it('returns a fresh array from canonicalKeyBytes that later encodes do not change', () => {
    const a = canonicalKeyBytes('alice');
    canonicalKeyBytes('bob');
    hashKey('carol');
    expect(hex(a)).toBe('01616c696365');
  });

  it('gives -0 and 0 the same bytes, hash and key group, as JS treats them as equal', () => {
    expect(hashKey(-0)).toBe(hashKey(0));
    expect(hashKey([-0, 'a'])).toBe(hashKey([0, 'a']));
  });
});

describe('keyFromCanonicalBytes', () => {
  it('inverts canonicalKeyBytes for the pinned and random keys', () => {
    for (const [name, key] of VECTORS) {
      // -0 is stored as +0, so it comes back as 0.
      const expected = name === '-0' ? 0 : name === '[-0]' ? [0] : key;
      expect(keyFromCanonicalBytes(canonicalKeyBytes(key))).toEqual(expected);
    }
    const r = prng(7);
    for (let i = 0; i < 2000; i++) {
      const key = randomKey(r);
      const bytes = canonicalKeyBytes(key);
      const back = keyFromCanonicalBytes(bytes);
      expect(hex(canonicalKeyBytes(back))).toBe(hex(bytes));
    }
  });

  it('preserves a leading byte-order mark in strings', () => {
    expect(keyFromCanonicalBytes(canonicalKeyBytes('\ufeffx'))).toBe('\ufeffx');
  });

  it.each([
    ['empty input', ''],
    ['unknown tag', '09'],
    ['number of 7 bytes', '0200000000000000'],
    ['number of 9 bytes', '02000000000000000000'],
    ['NaN', '027ff8000000000000'],
    ['-0', '028000000000000000'],
    ['bigint without sign', '03'],
    ['bigint sign byte 2', '0302'],
    ['bigint with a leading zero byte', '03000001'],
    ['negative zero bigint', '0301'],
    ['boolean 2', '0402'],
    ['boolean without payload', '04'],
    ['boolean with two bytes', '040100'],
    ['invalid UTF-8', '01ff'],
    ['an encoded lone surrogate', '01eda080'],
    ['array without count', '05'],
    ['array count larger than data', '0503'],
    ['array element longer than data', '05010501'],
    ['array with trailing bytes', '05010104010000'],
    ['non-minimal varint count', '05800000'],
    ['empty array element', '050100'],
  ])('rejects %s as SNAPSHOT_CORRUPT', (_name, bytes) => {
    expectCorrupt(unhex(bytes));
  });

  it('rejects every truncation of a nested array key', () => {
    const bytes = canonicalKeyBytes([['a', 1n], true, 2.5, ['日本']]);
    for (let n = 0; n < bytes.length; n++) expectCorrupt(bytes.subarray(0, n));
  });

  it('never throws anything but SnapshotError on random bytes', () => {
    const r = prng(99);
    for (let i = 0; i < 5000; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(r() * 12) }, () => (r() < 0.5 ? Math.floor(r() * 6) : Math.floor(r() * 256)));
      try {
        const key = keyFromCanonicalBytes(bytes);
        expect(keyProblem(key)).toBeUndefined();
        expect(hex(canonicalKeyBytes(key))).toBe(hex(bytes));
      } catch (e) {
        expect(e).toBeInstanceOf(SnapshotError);
      }
    }
  });

  it('rejects arrays nested deeper than 100 levels instead of overflowing the stack', () => {
    const deep = new Uint8Array(2 * 200 + 2);
    for (let i = 0; i < 200; i++) deep.set([5, 1, 0], i * 2);
    expectCorrupt(deep);
  });
});

describe('keyProblem', () => {
  it.each([
    ['alice'],
    [''],
    [0],
    [-0],
    [Infinity],
    [-1.5],
    [0n],
    [-(2n ** 100n)],
    [true],
    [false],
    [[]],
    [['a', 1, [2n, [true]]]],
    ['😀'],
  ])('accepts %s', (key) => {
    expect(keyProblem(key)).toBeUndefined();
  });

  class Point {}
  it.each([
    [undefined, 'key is undefined'],
    [null, 'key is null'],
    [NaN, 'key is NaN'],
    [{}, 'key is an object (Object); keys must be string, number, bigint, boolean or arrays of those'],
    [new Map(), 'key is an object (Map); keys must be string, number, bigint, boolean or arrays of those'],
    [new Point(), 'key is an object (Point); keys must be string, number, bigint, boolean or arrays of those'],
    [Object.create(null), 'key is an object (null prototype); keys must be string, number, bigint, boolean or arrays of those'],
    [() => 1, 'key is a function'],
    [Symbol('s'), 'key is a symbol'],
    ['a\ud800b', 'key is a string with a lone surrogate'],
    ['\udc00', 'key is a string with a lone surrogate'],
    ['end\ud83d', 'key is a string with a lone surrogate'],
    [[1, 'a', null], 'key[2] is null'],
    [[1, [2, [NaN]]], 'key[1][1][0] is NaN'],
    [['ok', { a: 1 }], 'key[1] is an object (Object); keys must be string, number, bigint, boolean or arrays of those'],
    [[, 1], 'key[0] is undefined'],
    [['x', 'y\udfff'], 'key[1] is a string with a lone surrogate'],
  ])('describes %s as "%s"', (key, message) => {
    expect(keyProblem(key)).toBe(message);
  });

  it('reports an array that contains itself instead of recursing forever', () => {
    const a: unknown[] = [1];
    a.push([a]);
    expect(keyProblem(a)).toBe('key[1][0] is an array that contains itself');
  });
});

describe('invalid keys on the hashing path', () => {
  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  it.each([
    [null, 'key is null'],
    [undefined, 'key is undefined'],
    [NaN, 'key is NaN'],
    [{}, 'key is an object (Object)'],
    ['\ud800', 'key is a string with a lone surrogate'],
    [['a', ['b', 'x\udc00y']], 'key[1][1] is a string with a lone surrogate'],
    [[1, [null]], 'key[1][0] is null'],
    [cyclic, 'key[0] is an array that contains itself'],
  ])('hashKey, canonicalKeyBytes and keyId throw InvalidKeyError for %s', (key, message) => {
    for (const f of [hashKey, canonicalKeyBytes]) {
      expect(() => f(key as Key)).toThrow(InvalidKeyError);
      expect(() => f(key as Key)).toThrow(message);
    }
    if (typeof key !== 'string') expect(() => keyId(key as Key)).toThrow(InvalidKeyError);
  });

  it('still hashes correctly after an invalid key', () => {
    expect(() => hashKey(['x'.repeat(300), null] as unknown as Key)).toThrow(InvalidKeyError);
    expect(hashKey('alice')).toBe(0x800bea5b);
    expect(hashKey(['a', 1])).toBe(0x5a79f628);
  });
});

describe('key groups', () => {
  it('keyGroupForKey is the hash modulo maxParallelism', () => {
    const r = prng(3);
    for (let i = 0; i < 500; i++) {
      const key = randomKey(r);
      for (const maxP of [1, 7, 128, 32768]) expect(keyGroupForKey(key, maxP)).toBe(hashKey(key) % maxP);
    }
  });

  it.each([0, -1, 1.5, NaN, 32769])('keyGroupForKey rejects maxParallelism %s', (maxP) => {
    expect(() => keyGroupForKey('a', maxP)).toThrow(ConfigurationError);
  });

  it('ranges of all subtasks partition [0, maxP) and agree with subtaskForKeyGroup', () => {
    for (const maxP of [1, 7, 128, 1000]) {
      for (let p = 1; p <= Math.min(maxP, 50); p++) {
        let next = 0;
        for (let i = 0; i < p; i++) {
          const range = keyGroupRangeForSubtask(maxP, p, i);
          expect(range.start).toBe(next);
          expect(range.size).toBeGreaterThan(0);
          for (const kg of range) expect(subtaskForKeyGroup(maxP, p, kg)).toBe(i);
          next = range.end + 1;
        }
        expect(next).toBe(maxP);
      }
    }
  });

  it('matches Flink for maxParallelism 128 at parallelism 3', () => {
    const ranges = [0, 1, 2].map((i) => keyGroupRangeForSubtask(128, 3, i));
    expect(ranges.map((r) => [r.start, r.end])).toEqual([
      [0, 42],
      [43, 85],
      [86, 127],
    ]);
    expect(DEFAULT_MAX_PARALLELISM).toBe(128);
  });

  it('rejects impossible parallelism, subtask index and key group', () => {
    expect(() => keyGroupRangeForSubtask(128, 0, 0)).toThrow(ConfigurationError);
    expect(() => keyGroupRangeForSubtask(128, 129, 0)).toThrow(ConfigurationError);
    expect(() => keyGroupRangeForSubtask(0, 1, 0)).toThrow(ConfigurationError);
    expect(() => keyGroupRangeForSubtask(128, 4, 4)).toThrow(EddyError);
    expect(() => keyGroupRangeForSubtask(128, 4, -1)).toThrow(EddyError);
    expect(() => subtaskForKeyGroup(128, 4, 128)).toThrow(EddyError);
    expect(() => subtaskForKeyGroup(128, 4, 1.5)).toThrow(EddyError);
  });
});

describe('KeyGroupRange', () => {
  it('is inclusive at both ends', () => {
    const r = KeyGroupRange.of(3, 5);
    expect([r.start, r.end, r.size]).toEqual([3, 5, 3]);
    expect([2, 3, 4, 5, 6].map((kg) => r.contains(kg))).toEqual([false, true, true, true, false]);
    expect([...r]).toEqual([3, 4, 5]);
  });

  it('EMPTY contains nothing, and of(start, end < start) is EMPTY', () => {
    expect(KeyGroupRange.EMPTY.size).toBe(0);
    expect(KeyGroupRange.EMPTY.contains(0)).toBe(false);
    expect([...KeyGroupRange.EMPTY]).toEqual([]);
    expect(KeyGroupRange.of(4, 3)).toBe(KeyGroupRange.EMPTY);
  });

  it('intersects and compares ranges', () => {
    expect(KeyGroupRange.of(0, 10).intersection(KeyGroupRange.of(5, 20)).equals(KeyGroupRange.of(5, 10))).toBe(true);
    expect(KeyGroupRange.of(0, 4).intersection(KeyGroupRange.of(5, 20))).toBe(KeyGroupRange.EMPTY);
    expect(KeyGroupRange.of(1, 2).equals(KeyGroupRange.of(1, 3))).toBe(false);
    expect(KeyGroupRange.of(1, 2).toString()).toBe('KeyGroupRange(1..2)');
  });

  it('rejects negative or fractional bounds', () => {
    expect(() => KeyGroupRange.of(-1, 3)).toThrow(EddyError);
    expect(() => KeyGroupRange.of(0.5, 3)).toThrow(EddyError);
  });
});

describe('keyId', () => {
  it('maps primitives to themselves and -0 to 0', () => {
    expect(keyId('alice')).toBe('alice');
    expect(keyId('')).toBe('');
    expect(keyId(42)).toBe(42);
    expect(Object.is(keyId(-0), 0)).toBe(true);
    expect(keyId(5n)).toBe(5n);
    expect(keyId(true)).toBe(true);
  });

  it('escapes strings that start with \\u0001 and tags arrays', () => {
    expect(keyId('\u0001x')).toBe('\u0001s\u0001x');
    expect(keyId(['a', 1])).toBe('\u0001a' + String.fromCharCode(...unhex('050202016109023ff0000000000000')));
  });

  it('round-trips pinned and random keys through keyFromId', () => {
    for (const [, key] of VECTORS) {
      const id = keyId(key);
      expect(hex(canonicalKeyBytes(keyFromId(id)))).toBe(hex(canonicalKeyBytes(key)));
    }
    const r = prng(11);
    for (let i = 0; i < 2000; i++) {
      const key = randomKey(r);
      const back = keyFromId(keyId(key));
      expect(hex(canonicalKeyBytes(back))).toBe(hex(canonicalKeyBytes(key)));
      expect(keyId(back)).toBe(keyId(key));
    }
    const long: Key = ['z'.repeat(100_000), ['😀'.repeat(10_000)]];
    expect(keyFromId(keyId(long))).toEqual(long);
  });

  it('never gives distinct keys the same id, even crafted look-alikes', () => {
    const arrayId = keyId(['1']) as string;
    const keys: Key[] = [
      '1', 1, 1n, true, ['1'], [1], [1n], [true], [], [[]], '', 0, 0n, false, 'true',
      '\u0001', '\u0001s', '\u0001a', '\u0001s1', '\u0001a1', arrayId, arrayId.slice(1), 's' + arrayId,
      '\u0001s\u0001a', [arrayId], ['\u0001'], [['1']],
    ];
    const ids = new Map<unknown, Key>();
    for (const key of keys) {
      const id = keyId(key);
      expect(ids.has(id), `id of ${String(key)} collides with ${String(ids.get(id))}`).toBe(false);
      ids.set(id, key);
    }
    const r = prng(5);
    const seen = new Map<unknown, string>();
    for (let i = 0; i < 3000; i++) {
      const key = randomKey(r);
      const canon = hex(canonicalKeyBytes(key));
      const id = keyId(key);
      if (seen.has(id)) expect(seen.get(id)).toBe(canon);
      seen.set(id, canon);
    }
  });

  it('rejects ids keyId never produces', () => {
    for (const id of ['\u0001', '\u0001x', '\u0001a', '\u0001a\u0002\u0000', '\u0001a\u0100', NaN]) {
      expect(() => keyFromId(id as never)).toThrow(SnapshotError);
    }
  });
});

describe('runtimes without String.prototype.isWellFormed', () => {
  it('still finds lone surrogates in keys', () => {
    const proto = String.prototype as { isWellFormed?: unknown };
    const native = proto.isWellFormed;
    delete proto.isWellFormed;
    try {
      expect(keyProblem('a\ud800b')).toBe('key is a string with a lone surrogate');
      expect(keyProblem('\udc00')).toBe('key is a string with a lone surrogate');
      expect(keyProblem(['ok', 'end\ud83d'])).toBe('key[1] is a string with a lone surrogate');
      expect(keyProblem('a😀b')).toBeUndefined();
      expect(() => hashKey('x\ud800')).toThrow(InvalidKeyError);
      expect(hashKey('😀')).toBe(0xede8778c);
    } finally {
      proto.isWellFormed = native;
    }
  });
});
