/** Helpers shared by the key tests: pinned vectors, random keys and a plain reference encoder. */
import { expect } from 'vitest';
import { SnapshotError } from '../../src/api/errors.ts';
import { type Key, keyFromCanonicalBytes } from '../../src/format/key-bytes.ts';

export const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
export const unhex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (x) => parseInt(x, 16));

export const ALPHABET = ['a', 'Z', '0', ' ', '\u0001', '\u007f', 'é', 'ß', '€', '日', '本', '\uffff', '😀', '𝄞', '\u0000'];

export function randomString(r: () => number, maxLen: number): string {
  const n = Math.floor(r() * maxLen);
  let s = '';
  const asciiOnly = r() < 0.5;
  for (let i = 0; i < n; i++) {
    s += asciiOnly ? String.fromCharCode(32 + Math.floor(r() * 95)) : ALPHABET[Math.floor(r() * ALPHABET.length)];
  }
  return s;
}

export function randomKey(r: () => number, depth = 0): Key {
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
export function referenceBytes(key: Key): Uint8Array {
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

export function expectCorrupt(bytes: Uint8Array): void {
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
export const VECTORS: ReadonlyArray<readonly [string, Key, string, number, number]> = [
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
  ['["é", -(2n ** 64n), true, [[[]]]]', ['é', -(2n ** 64n), true, [[[]]]], '05040301c3a90b0301010000000000000000020401080501050501020500', 0xe868050c, 12],
];
