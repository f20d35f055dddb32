/**
 * Keys, their canonical bytes, and key groups.
 *
 * The canonical bytes of a key are part of the snapshot format: they decide the key's
 * hash, hence its key group, hence which subtask owns it after a restore at another
 * parallelism. They must therefore be identical in every runtime, which is why numbers
 * are encoded as IEEE-754 bytes and strings as UTF-8 rather than anything
 * engine-specific.
 *
 * Canonical encoding (one tag byte, then):
 * - `0x01` string: UTF-8 bytes
 * - `0x02` number: float64 big-endian, `-0` written as `+0` (NaN is not a key)
 * - `0x03` bigint: sign byte (0 non-negative, 1 negative), magnitude big-endian in the
 *   fewest bytes (`0n` has none)
 * - `0x04` boolean: `0x00` / `0x01`
 * - `0x05` array: unsigned LEB128 element count, then per element its byte length as
 *   LEB128 and its canonical bytes
 */

import { EddyError, ConfigurationError, InvalidKeyError, SnapshotError } from '../api/errors.ts';
import { isWellFormed, varintSize } from './bytes.ts';
import { murmur3_32, murmur3_32TaggedAscii } from './murmur3.ts';

/** A key: what `keyBy` selectors may return. Arrays may nest. */
export type Key = string | number | bigint | boolean | readonly Key[];

/** A key as a JS `Map` key: primitives are themselves, arrays become a tagged string. */
export type KeyId = string | number | bigint | boolean;

/** Flink's default max parallelism (number of key groups). */
export const DEFAULT_MAX_PARALLELISM = 128;

/** The largest supported max parallelism, as in Flink (2^15). */
export const UPPER_BOUND_MAX_PARALLELISM = 32768;

const TAG_STRING = 0x01;
const TAG_NUMBER = 0x02;
const TAG_BIGINT = 0x03;
const TAG_BOOLEAN = 0x04;
const TAG_ARRAY = 0x05;

/** Deeper nesting is almost certainly a mistake (or a cycle), and would risk the stack. */
const MAX_KEY_DEPTH = 100;

const KEY_TYPES = 'keys must be string, number, bigint, boolean or arrays of those';

// ---------------------------------------------------------------------------------------
// Validation

function describeObject(v: object): string {
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto === null) return 'null prototype';
  const ctor = (proto as { constructor?: unknown }).constructor;
  return typeof ctor === 'function' && ctor.name ? ctor.name : 'unknown class';
}

// Arrays currently being checked, to report cycles instead of overflowing the stack.
const checking: unknown[] = [];

function problemAt(v: unknown, where: string): string | undefined {
  switch (typeof v) {
    case 'string':
      return isWellFormed(v) ? undefined : `${where} is a string with a lone surrogate`;
    case 'number':
      return v === v ? undefined : `${where} is NaN`;
    case 'bigint':
    case 'boolean':
      return undefined;
    case 'undefined':
      return `${where} is undefined`;
    case 'function':
      return `${where} is a function`;
    case 'symbol':
      return `${where} is a symbol`;
  }
  if (v === null) return `${where} is null`;
  if (!Array.isArray(v)) return `${where} is an object (${describeObject(v as object)}); ${KEY_TYPES}`;
  if (checking.includes(v)) return `${where} is an array that contains itself`;
  if (checking.length >= MAX_KEY_DEPTH) return `${where} nests arrays deeper than ${MAX_KEY_DEPTH} levels`;
  checking.push(v);
  try {
    for (let i = 0; i < v.length; i++) {
      const p = problemAt(v[i], `${where}[${i}]`);
      if (p !== undefined) return p;
    }
    return undefined;
  } finally {
    checking.pop();
  }
}

/**
 * Checks whether `key` can be used as a key.
 *
 * @returns `undefined` for a valid key, otherwise a short description of what is wrong,
 *   e.g. `key is null` or `key[2] is NaN`.
 */
export function keyProblem(key: unknown): string | undefined {
  const t = typeof key;
  // Most keys are short strings or numbers; answer those without the general walk.
  if (t === 'number') return key === key ? undefined : 'key is NaN';
  if (t === 'string' && isWellFormed(key as string)) return undefined;
  checking.length = 0;
  return problemAt(key, 'key');
}

function invalidKey(root: unknown): never {
  // Drop the reference so a failed key is not kept alive by the module.
  encodingRoot = undefined;
  throw new InvalidKeyError(keyProblem(root) ?? 'key cannot be encoded', {});
}

// ---------------------------------------------------------------------------------------
// Encoding into a reusable scratch buffer

// One module-level buffer serves every encode: hashing happens once per record, and a
// fresh Uint8Array per record would be the dominant cost for short keys.
let scratch = new Uint8Array(256);
const SCRATCH_RETAIN_LIMIT = 1 << 20;
let scratchView = new DataView(scratch.buffer);
const textEncoder = new TextEncoder();
// The key being encoded, so that an error deep inside an array can name the full path.
let encodingRoot: unknown;

function ensure(needed: number): void {
  if (needed <= scratch.length) return;
  let size = scratch.length * 2;
  while (size < needed) size *= 2;
  const next = new Uint8Array(size);
  // Array encoding writes elements before their lengths are final, so keep what is there.
  next.set(scratch);
  scratch = next;
  scratchView = new DataView(next.buffer);
}

function writeVarint(n: number, pos: number): number {
  while (n >= 0x80) {
    scratch[pos++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 0x80);
  }
  scratch[pos++] = n;
  return pos;
}

function writeString(s: string, pos: number): number {
  const n = s.length;
  ensure(pos + n);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return writeNonAscii(s, pos);
    scratch[pos + i] = c;
  }
  return pos + n;
}

function writeNonAscii(s: string, pos: number): number {
  // encodeInto would silently turn a lone surrogate into U+FFFD, making two keys collide.
  if (!isWellFormed(s)) invalidKey(encodingRoot);
  ensure(pos + s.length * 3);
  const written = textEncoder.encodeInto(s, scratch.subarray(pos)).written;
  return pos + written;
}

function writeBigint(v: bigint, pos: number): number {
  const negative = v < 0n;
  const mag = negative ? -v : v;
  scratch[pos++] = negative ? 1 : 0;
  if (mag <= 0x1fffffffffffffn) {
    // Safe-integer magnitudes (the common case) avoid the hex string round trip.
    let m = Number(mag);
    let len = 0;
    for (let t = m; t > 0; t = Math.floor(t / 256)) len++;
    ensure(pos + len);
    for (let i = pos + len - 1; i >= pos; i--) {
      scratch[i] = m % 256;
      m = Math.floor(m / 256);
    }
    return pos + len;
  }
  let hex = mag.toString(16);
  if (hex.length & 1) hex = '0' + hex;
  const len = hex.length >> 1;
  ensure(pos + len);
  for (let i = 0; i < len; i++) scratch[pos + i] = parseInt(hex.substr(i * 2, 2), 16);
  return pos + len;
}

/** Encodes `key` at `pos` of the scratch buffer; returns the end position. */
function writeKey(key: unknown, pos: number, depth: number): number {
  ensure(pos + 10);
  switch (typeof key) {
    case 'string':
      scratch[pos] = TAG_STRING;
      return writeString(key, pos + 1);
    case 'number':
      if (key !== key) invalidKey(encodingRoot);
      scratch[pos] = TAG_NUMBER;
      // `key === 0` is true for -0 too; both must hash alike because -0 === 0 in JS.
      scratchView.setFloat64(pos + 1, key === 0 ? 0 : key);
      return pos + 9;
    case 'bigint':
      scratch[pos] = TAG_BIGINT;
      return writeBigint(key, pos + 1);
    case 'boolean':
      scratch[pos] = TAG_BOOLEAN;
      scratch[pos + 1] = key ? 1 : 0;
      return pos + 2;
  }
  if (!Array.isArray(key) || depth >= MAX_KEY_DEPTH) invalidKey(encodingRoot);
  scratch[pos] = TAG_ARRAY;
  pos = writeVarint(key.length, pos + 1);
  for (let i = 0; i < key.length; i++) {
    // Elements are usually short: reserve one length byte, and only move the element
    // when its length turns out to need a longer varint.
    const start = pos + 1;
    const end = writeKey(key[i], start, depth + 1);
    const len = end - start;
    if (len < 0x80) {
      scratch[pos] = len;
      pos = end;
    } else {
      const extra = varintSize(len) - 1;
      ensure(end + extra);
      scratch.copyWithin(start + extra, start, end);
      writeVarint(len, pos);
      pos = end + extra;
    }
  }
  return pos;
}

function encodeToScratch(key: unknown): number {
  encodingRoot = key;
  const end = writeKey(key, 0, 0);
  encodingRoot = undefined;
  return end;
}

/** After a freak huge key, give the memory back instead of holding it for good. */
function trimScratch(): void {
  if (scratch.length > SCRATCH_RETAIN_LIMIT) {
    scratch = new Uint8Array(256);
    scratchView = new DataView(scratch.buffer);
  }
}

/**
 * The canonical, runtime-independent bytes of a key (see the module comment for the
 * format). Throws {@link InvalidKeyError} for anything that is not a valid key.
 */
export function canonicalKeyBytes(key: Key): Uint8Array {
  const end = encodeToScratch(key);
  const out = scratch.slice(0, end);
  trimScratch();
  return out;
}

/**
 * MurmurHash3 (seed 0) of the key's canonical bytes, as an unsigned 32-bit integer.
 * Allocation-free for all but non-ASCII strings and huge bigints; throws
 * {@link InvalidKeyError} for anything that is not a valid key, so the per-record path
 * need not call {@link keyProblem} first.
 */
export function hashKey(key: Key): number {
  if (typeof key === 'string') {
    const ascii = asciiStringHash(key);
    if (ascii >= 0) return ascii;
  }
  const end = encodeToScratch(key);
  const hash = murmur3_32(scratch, 0, end);
  trimScratch();
  return hash;
}

/**
 * {@link hashKey} of a string whose chars are all ASCII, read straight from the string
 * (its canonical bytes are the string tag, then its char codes); -1 for any other string.
 */
function asciiStringHash(key: string): number {
  return murmur3_32TaggedAscii(TAG_STRING, key);
}

// ---------------------------------------------------------------------------------------
// Decoding

const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function corrupt(message: string): never {
  throw new SnapshotError('SNAPSHOT_CORRUPT', `malformed key bytes: ${message}`, { component: 'keys' });
}

interface Cursor {
  pos: number;
}

function readVarint(bytes: Uint8Array, c: Cursor, end: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; ; i++) {
    if (c.pos >= end) corrupt('truncated varint');
    if (i >= 8) corrupt('varint too long');
    const b = bytes[c.pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) {
      // A trailing zero group means the writer used more bytes than needed; the
      // canonical form never does, and accepting it would give two encodings per key.
      if (b === 0 && i > 0) corrupt('non-minimal varint');
      if (value > Number.MAX_SAFE_INTEGER) corrupt('varint out of range');
      return value;
    }
    scale *= 0x80;
  }
}

function readKey(bytes: Uint8Array, start: number, end: number, depth: number): Key {
  if (start >= end) corrupt('empty key');
  const tag = bytes[start]!;
  const pos = start + 1;
  switch (tag) {
    case TAG_STRING: {
      let s: string;
      try {
        s = textDecoder.decode(bytes.subarray(pos, end));
      } catch {
        corrupt('invalid UTF-8');
      }
      return s;
    }
    case TAG_NUMBER: {
      if (end - pos !== 8) corrupt('number is not 8 bytes');
      const v = new DataView(bytes.buffer, bytes.byteOffset + pos, 8).getFloat64(0);
      if (v !== v) corrupt('number is NaN');
      if (v === 0 && 1 / v < 0) corrupt('number is -0');
      return v;
    }
    case TAG_BIGINT: {
      if (pos >= end) corrupt('bigint without sign');
      const sign = bytes[pos]!;
      if (sign > 1) corrupt('bigint sign byte out of range');
      if (end > pos + 1 && bytes[pos + 1] === 0) corrupt('bigint magnitude has a leading zero');
      if (sign === 1 && end === pos + 1) corrupt('negative zero bigint');
      let mag = 0n;
      for (let i = pos + 1; i < end; i++) mag = (mag << 8n) | BigInt(bytes[i]!);
      return sign === 1 ? -mag : mag;
    }
    case TAG_BOOLEAN:
      if (end - pos !== 1 || bytes[pos]! > 1) corrupt('boolean is not one 0/1 byte');
      return bytes[pos] === 1;
    case TAG_ARRAY: {
      if (depth >= MAX_KEY_DEPTH) corrupt(`arrays nested deeper than ${MAX_KEY_DEPTH} levels`);
      const c: Cursor = { pos };
      const count = readVarint(bytes, c, end);
      // Every element takes at least two bytes, so a larger count is corrupt; checking
      // first avoids allocating a huge array from a damaged length.
      if (count > (end - c.pos) / 2) corrupt('array count exceeds data');
      const out: Key[] = new Array<Key>(count);
      for (let i = 0; i < count; i++) {
        const len = readVarint(bytes, c, end);
        if (len > end - c.pos) corrupt('array element exceeds data');
        out[i] = readKey(bytes, c.pos, c.pos + len, depth + 1);
        c.pos += len;
      }
      if (c.pos !== end) corrupt('trailing bytes after array');
      return out;
    }
    default:
      return corrupt(`unknown tag 0x${tag.toString(16).padStart(2, '0')}`);
  }
}

/**
 * The exact inverse of {@link canonicalKeyBytes}. Throws {@link SnapshotError}
 * (`SNAPSHOT_CORRUPT`, component `keys`) on anything the encoder could not have written.
 */
export function keyFromCanonicalBytes(bytes: Uint8Array): Key {
  return readKey(bytes, 0, bytes.length, 0);
}

// ---------------------------------------------------------------------------------------
// Key groups

function checkParallelism(maxParallelism: number, parallelism: number): void {
  if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > UPPER_BOUND_MAX_PARALLELISM) {
    throw new ConfigurationError(
      `maxParallelism must be an integer in 1..${UPPER_BOUND_MAX_PARALLELISM}, got ${maxParallelism}`,
    );
  }
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > maxParallelism) {
    throw new ConfigurationError(
      `parallelism must be an integer in 1..maxParallelism (${maxParallelism}), got ${parallelism}`,
    );
  }
}

/**
 * The key group of a key: `hashKey(key) % maxParallelism`.
 * Throws {@link InvalidKeyError} for invalid keys.
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

// ---------------------------------------------------------------------------------------
// Key ids

const ID_ESCAPE = '\u0001';
const LATIN1_CHUNK = 8192;

function latin1(bytes: Uint8Array, end: number): string {
  let s = '';
  // fromCharCode.apply has an argument-count limit, so long keys go in chunks.
  for (let i = 0; i < end; i += LATIN1_CHUNK) {
    const chunk = bytes.subarray(i, Math.min(end, i + LATIN1_CHUNK));
    s += String.fromCharCode.apply(null, chunk as unknown as number[]);
  }
  return s;
}

/**
 * A `Map`-friendly id for a key. Primitives are their own id (`-0` becomes `0`), except
 * strings starting with `\u0001`, which get the prefix `\u0001s`; arrays become
 * `\u0001a` + their canonical bytes as a latin1 string. Distinct keys never share an id.
 * Non-key values throw {@link InvalidKeyError}; strings are not checked for lone
 * surrogates here (hashKey does that).
 */
export function keyId(key: Key): KeyId {
  // Every keyed record asks for its key's id: the common case stays small enough to inline.
  if (typeof key === 'string' && key.charCodeAt(0) !== 1) return key;
  return otherKeyId(key);
}

function otherKeyId(key: Key): KeyId {
  switch (typeof key) {
    case 'string':
      return ID_ESCAPE + 's' + key;
    case 'number':
      if (key !== key) invalidKey(key);
      return key === 0 ? 0 : key;
    case 'bigint':
    case 'boolean':
      return key;
  }
  if (!Array.isArray(key)) invalidKey(key);
  const end = encodeToScratch(key);
  const id = ID_ESCAPE + 'a' + latin1(scratch, end);
  trimScratch();
  return id;
}

function badId(message: string): never {
  throw new SnapshotError('SNAPSHOT_CORRUPT', `malformed key id: ${message}`, { component: 'keys' });
}

/** The exact inverse of {@link keyId}. Throws {@link SnapshotError} on ids it never produces. */
export function keyFromId(id: KeyId): Key {
  switch (typeof id) {
    case 'number':
      if (id !== id) badId('NaN');
      return id;
    case 'bigint':
    case 'boolean':
      return id;
    case 'string':
      break;
    default:
      return badId(`unexpected ${typeof id}`);
  }
  if (id.charCodeAt(0) !== 1) return id;
  const kind = id.charAt(1);
  if (kind === 's') return id.slice(2);
  if (kind !== 'a') badId('unknown escape');
  const bytes = new Uint8Array(id.length - 2);
  for (let i = 0; i < bytes.length; i++) {
    const c = id.charCodeAt(i + 2);
    if (c > 0xff) badId('array id is not latin1');
    bytes[i] = c;
  }
  if (bytes[0] !== TAG_ARRAY) badId('array id does not hold an array');
  return keyFromCanonicalBytes(bytes);
}
