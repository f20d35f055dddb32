import { describe, it, expect } from 'vitest';
import { murmur3_32, murmur3_32TaggedAscii } from '../../src/format/murmur3.ts';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

// Expected values were computed with an independent Python implementation of
// MurmurHash3 x86_32 (written from the algorithm, not from this code); the first five
// are also the widely published reference vectors.
const VECTORS: ReadonlyArray<readonly [string, Uint8Array, number, number]> = [
  ['empty, seed 0', new Uint8Array(0), 0, 0x00000000],
  ['empty, seed 1', new Uint8Array(0), 1, 0x514e28b7],
  ['empty, seed 0xffffffff', new Uint8Array(0), 0xffffffff, 0x81f16f39],
  ['"Hello, world!", seed 1234', utf8('Hello, world!'), 1234, 0xfaf6cdb3],
  ['quick brown fox, seed 0', utf8('The quick brown fox jumps over the lazy dog'), 0, 0x2e4ff723],
  ['"a"', utf8('a'), 0, 0x3c2569b2],
  ['"ab"', utf8('ab'), 0, 0x9bbfd75f],
  ['"abc"', utf8('abc'), 0, 0xb3dd93fa],
  ['"abcd"', utf8('abcd'), 0, 0x43ed676a],
  ['four zero bytes', new Uint8Array(4), 0, 0x2362f9de],
  ['"Hello, world!", seed 4321', utf8('Hello, world!'), 4321, 0xbf505788],
  ['"日本語" as UTF-8', utf8('日本語'), 0, 0xa5a47297],
  ['seven 0xff bytes, seed 0x9747b28c', new Uint8Array(7).fill(0xff), 0x9747b28c, 0x0f3c708b],
];

// Bytes (i*37+11) & 0xff for every length 0..20, seed 0x12345678: covers each tail size
// (0–3 leftover bytes) after zero to five full blocks.
const BY_LENGTH = [
  0xe37cd1bc, 0xe31a19a1, 0xa3b92a03, 0x725ce13e, 0xb068f57c, 0x7053b494, 0xe1608e5b, 0xb21449c7, 0x9dbadaa1, 0xd8b6bbda, 0x02e85ba6, 0x7b05aa54, 0x4491d6c4,
  0x24a66f22, 0xd437c700, 0x55f8ab2b, 0x7132c3b6, 0xed41c84e, 0xb7c919c2, 0xf0400215, 0x1bdde2e1,
];

describe('murmur3_32', () => {
  it.each(VECTORS)('matches the reference value for %s', (_name, bytes, seed, expected) => {
    expect(murmur3_32(bytes, seed)).toBe(expected);
  });

  it('matches the reference for every tail length from 0 to 20 bytes', () => {
    BY_LENGTH.forEach((expected, n) => {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);
      expect(murmur3_32(bytes, 0x12345678)).toBe(expected);
    });
  });

  it('returns an unsigned 32-bit integer', () => {
    for (let i = 0; i < 1000; i++) {
      const h = murmur3_32(utf8(`key-${i}`));
      expect(Number.isInteger(h)).toBe(true);
      expect(h).toBeGreaterThanOrEqual(0);
      expect(h).toBeLessThanOrEqual(0xffffffff);
    }
  });

  it('hashes only the first `length` bytes, so a scratch buffer needs no slicing', () => {
    const scratch = new Uint8Array(64).fill(0xaa);
    const input = utf8('Hello, world!');
    scratch.set(input);
    expect(murmur3_32(scratch, 1234, input.length)).toBe(0xfaf6cdb3);
    expect(murmur3_32(scratch, 0, 0)).toBe(0);
  });

  it('treats a negative seed as its unsigned 32-bit equivalent', () => {
    expect(murmur3_32(new Uint8Array(0), -1)).toBe(0x81f16f39);
  });

  it('depends on every byte of the input', () => {
    const base = utf8('The quick brown fox jumps over the lazy dog');
    const h = murmur3_32(base);
    for (let i = 0; i < base.length; i++) {
      const flipped = base.slice();
      flipped[i] ^= 1;
      expect(murmur3_32(flipped)).not.toBe(h);
    }
  });
});

describe('murmur3_32TaggedAscii', () => {
  const tagged = (tag: number, s: string): Uint8Array => Uint8Array.from([tag, ...utf8(s)]);

  it('equals murmur3_32 of [tag, ...bytes] for ASCII strings of every length from 0 to 40', () => {
    for (let n = 0; n <= 40; n++) {
      const s = Array.from({ length: n }, (_, i) => String.fromCharCode((i * 31 + n * 7) % 128)).join('');
      for (const tag of [0x01, 0x7f]) expect(murmur3_32TaggedAscii(tag, s)).toBe(murmur3_32(tagged(tag, s)));
    }
  });

  it('answers -1 as soon as one char is not ASCII, wherever it is', () => {
    for (let n = 1; n <= 9; n++) {
      for (let at = 0; at < n; at++) {
        for (const c of ['\u0080', 'é', '日', '\ud83d']) {
          const s = 'x'.repeat(at) + c + 'y'.repeat(n - at - 1);
          expect(murmur3_32TaggedAscii(0x01, s)).toBe(-1);
        }
      }
    }
  });
});
