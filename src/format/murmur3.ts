/**
 * MurmurHash3, x86 32-bit variant.
 *
 * Key groups are derived from this hash, so its output is part of the snapshot format:
 * every runtime must produce the same number for the same bytes, forever. The
 * implementation therefore uses only 32-bit integer arithmetic (`Math.imul`, shifts),
 * which is exact in every JavaScript engine.
 */

// The constants are written as int32 literals in the functions below (same bits as the
// reference's 0xcc9e2d51, 0x1b873593, 0xe6546b64, 0x85ebca6b, 0xc2b2ae35; Math.imul reads
// them as int32 anyway): a value above 2^31 is a double in optimized code, and a
// module-level constant is a load from the module's context on every use — about 70
// machine instructions per hash of a short key, which keyBy pays per record.

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
  // One pass over the chars, packing bytes into the block `k` (the tag is byte 0): fewer
  // branches and string reads than four reads per block, and a non-ASCII char ends the
  // walk at once (the caller then encodes the string instead).
  const n = s.length;
  let h = 0;
  let k = tag;
  let shift = 8;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return -1;
    k |= c << shift;
    shift += 8;
    if (shift === 32) {
      h = mixBlock(h, k);
      k = 0;
      shift = 0;
    }
  }
  if (shift !== 0) h ^= scramble(k);
  return finish(h, n + 1);
}

function scramble(k: number): number {
  k = Math.imul(k, -0x3361d2af); // 0xcc9e2d51
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, 0x1b873593);
}

function mixBlock(h: number, k: number): number {
  h ^= scramble(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) - 0x19ab949c) | 0; // + 0xe6546b64
}

function finish(h: number, length: number): number {
  // Only the low 32 bits of the length take part, as in the reference (uint32 len).
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, -0x7a143595); // 0x85ebca6b
  h ^= h >>> 13;
  h = Math.imul(h, -0x3d4d51cb); // 0xc2b2ae35
  h ^= h >>> 16;
  return h >>> 0;
}
