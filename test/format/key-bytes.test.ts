import { describe, expect, it } from 'vitest';
import { InvalidKeyError, SnapshotError } from '../../src/api/errors.ts';
import { type Key, canonicalKeyBytes, keyFromCanonicalBytes, keyProblem } from '../../src/format/key-bytes.ts';
import { asciiStringKeyGroup, hashKey, keyGroupForKey } from '../../src/format/key-groups.ts';
import { keyId } from '../../src/format/key-ids.ts';
import { murmur3_32 } from '../../src/format/murmur3.ts';
import { prng } from '../helpers/prng.ts';
import { hex, unhex, randomKey, referenceBytes, expectCorrupt, VECTORS } from './key-helpers.ts';

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
  it.each([['alice'], [''], [0], [-0], [Infinity], [-1.5], [0n], [-(2n ** 100n)], [true], [false], [[]], [['a', 1, [2n, [true]]]], ['😀']])(
    'accepts %s',
    (key) => {
      expect(keyProblem(key)).toBeUndefined();
    },
  );

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
