/**
 * MurmurHash3, x86 32-bit variant.
 *
 * Key groups are derived from this hash, so its output is part of the snapshot format:
 * every runtime must produce the same number for the same bytes, forever. The
 * implementation therefore uses only 32-bit integer arithmetic (`Math.imul`, shifts),
 * which is exact in every JavaScript engine.
 */

// The constants as int32 (same bits; Math.imul reads them as int32 anyway): values above
// 2^31 would be doubles in optimized code, with a conversion at every use.
const C1 = -0x3361d2af; // 0xcc9e2d51
const C2 = 0x1b873593;
const MIX = -0x19ab949c; // 0xe6546b64
const F1 = -0x7a143595; // 0x85ebca6b
const F2 = -0x3d4d51cb; // 0xc2b2ae35

/**
 * Hashes `length` bytes of `bytes` (from offset 0) with MurmurHash3 x86_32.
 *
 * `length` exists so that callers can hash the front of a reusable scratch buffer
 * without slicing it (slicing would allocate on the per-record hot path).
 *
 * @param bytes the input; only `bytes[0 .. length)` is read.
 * @param seed 32-bit seed (default 0).
 * @param length how many bytes to hash (default: all of `bytes`).
 * @returns the hash as an unsigned 32-bit integer (0 … 2^32-1).
 */
export function murmur3_32(bytes: Uint8Array, seed = 0, length: number = bytes.length): number {
  let h = seed | 0;
  const blockEnd = length & ~3;
  let i = 0;
  for (; i < blockEnd; i += 4) {
    // Blocks are read little-endian: the reference implementation reads native
    // uint32s on x86, and the published test vectors depend on that order.
    h = mixBlock(h, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
  }
  const rest = length & 3;
  if (rest !== 0) {
    let k = 0;
    if (rest === 3) k ^= bytes[i + 2]! << 16;
    if (rest >= 2) k ^= bytes[i + 1]! << 8;
    k ^= bytes[i]!;
    h ^= scramble(k);
  }
  return finish(h, length);
}

/**
 * {@link murmur3_32} (seed 0) of the bytes `[tag, ...charCodes of s]`, read straight from
 * the string, when every char of `s` is ASCII (its UTF-8 bytes are then its char codes);
 * -1 when one is not. Hashing a short key this way is cheaper than encoding it first, and
 * cheaper than looking its key group up in a cache.
 */
export function murmur3_32TaggedAscii(tag: number, s: string): number {
  const length = s.length + 1;
  const blockEnd = length & ~3;
  let h = 0;
  let i = 0;
  // Byte i of the input is the tag for i = 0 and char i - 1 of s after it. A block with a
  // non-ASCII char ends the walk at once: the caller then encodes the string instead.
  for (; i < blockEnd; i += 4) {
    const b0 = i === 0 ? tag : s.charCodeAt(i - 1);
    const b1 = s.charCodeAt(i);
    const b2 = s.charCodeAt(i + 1);
    const b3 = s.charCodeAt(i + 2);
    if ((b0 | b1 | b2 | b3) >= 0x80) return -1;
    h = mixBlock(h, b0 | (b1 << 8) | (b2 << 16) | (b3 << 24));
  }
  const rest = length & 3;
  if (rest !== 0) {
    const b0 = i === 0 ? tag : s.charCodeAt(i - 1);
    const b1 = rest >= 2 ? s.charCodeAt(i) : 0;
    const b2 = rest === 3 ? s.charCodeAt(i + 1) : 0;
    if ((b0 | b1 | b2) >= 0x80) return -1;
    h ^= scramble(b0 ^ (b1 << 8) ^ (b2 << 16));
  }
  return finish(h, length);
}

function scramble(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function mixBlock(h: number, k: number): number {
  h ^= scramble(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + MIX) | 0;
}

function finish(h: number, length: number): number {
  // Only the low 32 bits of the length take part, as in the reference (uint32 len).
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, F1);
  h ^= h >>> 13;
  h = Math.imul(h, F2);
  h ^= h >>> 16;
  return h >>> 0;
}
