/**
 * Key groups: a key's hash, the key group it falls in, and which subtask owns a key
 * group, as Flink assigns them. The hash is MurmurHash3 of the key's canonical bytes
 * (`key-bytes.ts`), so key groups, like the bytes, are part of the snapshot format.
 */

import { ConfigurationError, EddyError } from '../api/errors.ts';
import { TAG_STRING, encodeKeyToScratch, keyScratch, trimKeyScratch, type Key } from './key-bytes.ts';
import { murmur3_32, murmur3_32TaggedAscii } from './murmur3.ts';

/** Flink's default max parallelism (number of key groups). */
export const DEFAULT_MAX_PARALLELISM = 128;

/** The largest supported max parallelism, as in Flink (2^15). */
export const UPPER_BOUND_MAX_PARALLELISM = 32768;

/**
 * MurmurHash3 (seed 0) of the key's canonical bytes, as an unsigned 32-bit integer.
 * Allocation-free for all but non-ASCII strings and huge bigints; throws
 * `InvalidKeyError` for anything that is not a valid key, so the per-record path
 * need not call `keyProblem` first.
 */
export function hashKey(key: Key): number {
  if (typeof key === 'string') {
    const ascii = asciiStringHash(key);
    if (ascii >= 0) return ascii;
  }
  const end = encodeKeyToScratch(key);
  const hash = murmur3_32(keyScratch(), 0, end);
  trimKeyScratch();
  return hash;
}

/**
 * {@link hashKey} of a string whose chars are all ASCII, read straight from the string
 * (its canonical bytes are the string tag, then its char codes); -1 for any other string.
 */
function asciiStringHash(key: string): number {
  return murmur3_32TaggedAscii(TAG_STRING, key);
}

function checkParallelism(maxParallelism: number, parallelism: number): void {
  if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > UPPER_BOUND_MAX_PARALLELISM) {
    throw new ConfigurationError(`maxParallelism must be an integer in 1..${UPPER_BOUND_MAX_PARALLELISM}, got ${maxParallelism}`);
  }
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > maxParallelism) {
    throw new ConfigurationError(`parallelism must be an integer in 1..maxParallelism (${maxParallelism}), got ${parallelism}`);
  }
}

/**
 * The key group of a key: `hashKey(key) % maxParallelism`.
 * Throws `InvalidKeyError` for invalid keys.
 */
export function keyGroupForKey(key: Key, maxParallelism: number): number {
  // A bad maxParallelism would silently yield NaN key groups; the check is cheap next
  // to the hash.
  if (!(maxParallelism >= 1 && maxParallelism <= UPPER_BOUND_MAX_PARALLELISM && (maxParallelism | 0) === maxParallelism)) {
    checkParallelism(maxParallelism, 1);
  }
  return keyGroupOfHash(hashKey(key), maxParallelism);
}

/**
 * `hash % maxParallelism` for an unsigned 32-bit hash, in int32 arithmetic: a hash above
 * 2^31 is a double, and a double modulo costs several times an integer one (and an integer
 * division several times a mask). Exact because `maxParallelism` ≤ 2^15, so the
 * intermediate stays below 2^31.
 */
function keyGroupOfHash(hash: number, maxParallelism: number): number {
  // A power of two (the default 128) divides 2^32: the low bits are the remainder.
  if ((maxParallelism & (maxParallelism - 1)) === 0) return hash & (maxParallelism - 1);
  return (((hash >>> 16) % maxParallelism) * 0x10000 + (hash & 0xffff)) % maxParallelism;
}

/**
 * The key group of a string key whose chars are all ASCII (such a key is always valid, and
 * is hashed straight from the string); -1 for any other string.
 */
export function asciiStringKeyGroup(key: string, maxParallelism: number): number {
  const hash = asciiStringHash(key);
  return hash < 0 ? -1 : keyGroupOfHash(hash, maxParallelism);
}

/** An inclusive range of key groups, `start..end`; empty when `end < start`. */
export class KeyGroupRange implements Iterable<number> {
  /** The range with no key groups. */
  static readonly EMPTY: KeyGroupRange = new KeyGroupRange(0, -1);

  /** First key group (inclusive). */
  readonly start: number;
  /** Last key group (inclusive). */
  readonly end: number;

  private constructor(start: number, end: number) {
    this.start = start;
    this.end = end;
  }

  /** The range `start..end` (both inclusive); {@link KeyGroupRange.EMPTY} if `end < start`. */
  static of(start: number, end: number): KeyGroupRange {
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < -1) {
      throw new EddyError('INVALID_ARGUMENT', `invalid key group range ${start}..${end}`);
    }
    return end < start ? KeyGroupRange.EMPTY : new KeyGroupRange(start, end);
  }

  /** Number of key groups in the range. */
  get size(): number {
    return this.end >= this.start ? this.end - this.start + 1 : 0;
  }

  /** Whether key group `kg` lies in the range. */
  contains(kg: number): boolean {
    return kg >= this.start && kg <= this.end;
  }

  /** The key groups both ranges contain (used when restoring at a different parallelism). */
  intersection(other: KeyGroupRange): KeyGroupRange {
    const start = Math.max(this.start, other.start);
    const end = Math.min(this.end, other.end);
    return end < start ? KeyGroupRange.EMPTY : new KeyGroupRange(start, end);
  }

  /** Whether both ranges hold the same key groups. */
  equals(other: KeyGroupRange): boolean {
    return this.size === 0 ? other.size === 0 : this.start === other.start && this.end === other.end;
  }

  /** Iterates the key groups in ascending order. */
  *[Symbol.iterator](): Iterator<number> {
    for (let kg = this.start; kg <= this.end; kg++) yield kg;
  }

  /** `start..end`, or `empty`. */
  toString(): string {
    return this.size === 0 ? 'KeyGroupRange(empty)' : `KeyGroupRange(${this.start}..${this.end})`;
  }
}

/**
 * The key groups owned by subtask `subtaskIndex` of `parallelism`, as Flink assigns them:
 * `ceil(i * maxP / p) .. ceil((i + 1) * maxP / p) - 1`.
 */
export function keyGroupRangeForSubtask(maxParallelism: number, parallelism: number, subtaskIndex: number): KeyGroupRange {
  checkParallelism(maxParallelism, parallelism);
  if (!Number.isInteger(subtaskIndex) || subtaskIndex < 0 || subtaskIndex >= parallelism) {
    throw new EddyError('INVALID_ARGUMENT', `subtask index must be in 0..${parallelism - 1}, got ${subtaskIndex}`);
  }
  // Integer ceil division; the products stay far below 2^53 because maxP <= 2^15.
  const start = Math.floor((subtaskIndex * maxParallelism + parallelism - 1) / parallelism);
  const end = Math.floor(((subtaskIndex + 1) * maxParallelism + parallelism - 1) / parallelism) - 1;
  return KeyGroupRange.of(start, end);
}

/** The subtask that owns key group `keyGroup`: `floor(kg * p / maxP)`. */
export function subtaskForKeyGroup(maxParallelism: number, parallelism: number, keyGroup: number): number {
  checkParallelism(maxParallelism, parallelism);
  if (!Number.isInteger(keyGroup) || keyGroup < 0 || keyGroup >= maxParallelism) {
    throw new EddyError('INVALID_ARGUMENT', `key group must be in 0..${maxParallelism - 1}, got ${keyGroup}`);
  }
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}
