import { describe, expect, it } from 'vitest';
import { SnapshotError } from '../../src/api/errors.ts';
import { type Key, canonicalKeyBytes } from '../../src/format/key-bytes.ts';
import { keyBytesBound, keyId, keyFromId } from '../../src/format/key-ids.ts';
import { prng } from '../helpers/prng.ts';
import { hex, unhex, randomKey, VECTORS } from './key-helpers.ts';

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
      '1',
      1,
      1n,
      true,
      ['1'],
      [1],
      [1n],
      [true],
      [],
      [[]],
      '',
      0,
      0n,
      false,
      'true',
      '\u0001',
      '\u0001s',
      '\u0001a',
      '\u0001s1',
      '\u0001a1',
      arrayId,
      arrayId.slice(1),
      's' + arrayId,
      '\u0001s\u0001a',
      [arrayId],
      ['\u0001'],
      [['1']],
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

describe('keyBytesBound', () => {
  it('is never below the length of the canonical bytes, for pinned, random and long keys; a bigint has none', () => {
    const r = prng(17);
    const keys: Key[] = [...VECTORS.map(([, key]) => key), ...Array.from({ length: 3000 }, () => randomKey(r))];
    keys.push('€'.repeat(1000), '😀'.repeat(1000), 'é'.repeat(1000), `\u0001${'€'.repeat(10)}`, ['€'.repeat(500), ['😀']], -0, Number.MAX_VALUE);
    for (const key of keys) {
      const bound = keyBytesBound(keyId(key));
      if (typeof key === 'bigint') expect(bound).toBe(Infinity);
      else expect(bound, `bound of ${String(key)}`).toBeGreaterThanOrEqual(canonicalKeyBytes(key).length);
    }
    // Exact for 3-byte UTF-8, numbers and booleans: the bound is as tight as it can be without encoding.
    expect([keyBytesBound(keyId('€'.repeat(1000))), keyBytesBound(keyId(1.5)), keyBytesBound(keyId(false))]).toEqual([3001, 9, 2]);
  });
});
