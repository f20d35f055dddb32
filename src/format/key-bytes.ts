/**
 * Keys and their canonical bytes: which values are keys, and the bytes each is written as.
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

import { InvalidKeyError } from '../api/errors.ts';
import { ByteReader, isWellFormed, magnitudeOf, magnitudeSize, varintSize, writeMagnitudeAt, writeVarintAt } from './bytes.ts';

/** A key: what `keyBy` selectors may return. Arrays may nest. */
export type Key = string | number | bigint | boolean | readonly Key[];

/** Tag of a string key; its canonical bytes are this tag, then the string's UTF-8. */
export const TAG_STRING = 0x01;
const TAG_NUMBER = 0x02;
const TAG_BIGINT = 0x03;
const TAG_BOOLEAN = 0x04;
/** Tag of an array key. */
export const TAG_ARRAY = 0x05;

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

/** What is wrong with `v` found at `where`; `checking` holds the arrays around it, to report cycles. */
function problemAt(v: unknown, where: string, checking: unknown[]): string | undefined {
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
  for (let i = 0; i < v.length; i++) {
    const p = problemAt(v[i], `${where}[${i}]`, checking);
    if (p !== undefined) return p;
  }
  checking.pop();
  return undefined;
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
  return problemAt(key, 'key', []);
}

/** Throws {@link InvalidKeyError} describing what is wrong with `root`, a key that cannot be encoded. */
export function invalidKey(root: unknown): never {
  throw new InvalidKeyError(keyProblem(root) ?? 'key cannot be encoded', {});
}

// ---------------------------------------------------------------------------------------
// Encoding into a reusable scratch buffer

// One module-level buffer serves every encode: hashing happens once per record, and a
// fresh Uint8Array per record would be the dominant cost for short keys. Nothing that
// runs user code happens while it is being written.
let scratch = new Uint8Array(256);
const SCRATCH_RETAIN_LIMIT = 1 << 20;
let scratchView = new DataView(scratch.buffer);
const textEncoder = new TextEncoder();

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

function writeString(s: string, pos: number, root: unknown): number {
  const n = s.length;
  ensure(pos + n);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return writeNonAscii(s, pos, root);
    scratch[pos + i] = c;
  }
  return pos + n;
}

function writeNonAscii(s: string, pos: number, root: unknown): number {
  // encodeInto would silently turn a lone surrogate into U+FFFD, making two keys collide.
  if (!isWellFormed(s)) invalidKey(root);
  ensure(pos + s.length * 3);
  const written = textEncoder.encodeInto(s, scratch.subarray(pos)).written;
  return pos + written;
}

function writeBigint(v: bigint, pos: number): number {
  const negative = v < 0n;
  const mag = negative ? -v : v;
  const size = magnitudeSize(mag);
  ensure(pos + 1 + size);
  scratch[pos] = negative ? 1 : 0;
  return writeMagnitudeAt(scratch, pos + 1, mag, size);
}

/** Encodes `key` at `pos` of the scratch buffer; returns the end position. `root` is named by errors. */
function writeKey(key: unknown, pos: number, depth: number, root: unknown): number {
  ensure(pos + 10);
  switch (typeof key) {
    case 'string':
      scratch[pos] = TAG_STRING;
      return writeString(key, pos + 1, root);
    case 'number':
      if (key !== key) invalidKey(root);
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
  if (!Array.isArray(key) || depth >= MAX_KEY_DEPTH) invalidKey(root);
  scratch[pos] = TAG_ARRAY;
  pos = writeVarintAt(scratch, pos + 1, key.length);
  for (let i = 0; i < key.length; i++) {
    // Elements are usually short: reserve one length byte, and only move the element
    // when its length turns out to need a longer varint.
    const start = pos + 1;
    const end = writeKey(key[i], start, depth + 1, root);
    const len = end - start;
    if (len < 0x80) {
      scratch[pos] = len;
      pos = end;
    } else {
      const extra = varintSize(len) - 1;
      ensure(end + extra);
      scratch.copyWithin(start + extra, start, end);
      writeVarintAt(scratch, pos, len);
      pos = end + extra;
    }
  }
  return pos;
}

/**
 * Writes the canonical bytes of `key` to the front of the shared scratch buffer
 * ({@link keyScratch}) and returns their length; throws {@link InvalidKeyError} for
 * anything that is not a key. For the format's key files, which hash or copy the bytes
 * at once and then call {@link trimKeyScratch}.
 */
export function encodeKeyToScratch(key: unknown): number {
  return writeKey(key, 0, 0, key);
}

/** The shared scratch buffer {@link encodeKeyToScratch} writes to (it is replaced as it grows). */
export function keyScratch(): Uint8Array {
  return scratch;
}

/** After a freak huge key, gives the scratch memory back instead of holding it for good. */
export function trimKeyScratch(): void {
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
  const end = encodeKeyToScratch(key);
  const out = scratch.slice(0, end);
  trimKeyScratch();
  return out;
}

// ---------------------------------------------------------------------------------------
// Decoding

/** Reads the key whose canonical bytes run from the reader's offset to `end`. */
function readKey(r: ByteReader, end: number, depth: number): Key {
  if (r.offset >= end) r.corrupt('malformed key bytes: empty key');
  const tag = r.u8();
  const n = end - r.offset;
  // Every branch consumes exactly the `n` bytes up to `end`.
  switch (tag) {
    case TAG_STRING:
      return r.utf8(n);
    case TAG_NUMBER: {
      if (n !== 8) r.corrupt('malformed key bytes: number is not 8 bytes');
      const v = r.f64();
      if (v !== v) r.corrupt('malformed key bytes: number is NaN');
      if (v === 0 && 1 / v < 0) r.corrupt('malformed key bytes: number is -0');
      return v;
    }
    case TAG_BIGINT: {
      if (n < 1) r.corrupt('malformed key bytes: bigint without sign');
      const sign = r.u8();
      if (sign > 1) r.corrupt('malformed key bytes: bigint sign byte out of range');
      const mag = r.bytes(n - 1);
      if (mag.length > 0 && mag[0] === 0) r.corrupt('malformed key bytes: bigint magnitude has a leading zero');
      if (sign === 1 && mag.length === 0) r.corrupt('malformed key bytes: negative zero bigint');
      const m = magnitudeOf(mag);
      return sign === 1 ? -m : m;
    }
    case TAG_BOOLEAN: {
      const b = n === 1 ? r.u8() : 2;
      if (b > 1) r.corrupt('malformed key bytes: boolean is not one 0/1 byte');
      return b === 1;
    }
    case TAG_ARRAY:
      return readArray(r, end, depth);
  }
  return r.corrupt(`malformed key bytes: unknown tag 0x${tag.toString(16).padStart(2, '0')}`);
}

function readArray(r: ByteReader, end: number, depth: number): Key[] {
  if (depth >= MAX_KEY_DEPTH) r.corrupt(`malformed key bytes: arrays nested deeper than ${MAX_KEY_DEPTH} levels`);
  // A varint may run past `end` into what follows; the offset checks catch that.
  const count = r.varint();
  // Every element takes at least two bytes, so a larger count is corrupt; checking
  // first avoids allocating a huge array from a damaged length.
  if (r.offset > end || count > (end - r.offset) / 2) r.corrupt('malformed key bytes: array count exceeds data');
  const out: Key[] = new Array<Key>(count);
  for (let i = 0; i < count; i++) {
    const len = r.varint();
    if (r.offset > end || len > end - r.offset) r.corrupt('malformed key bytes: array element exceeds data');
    out[i] = readKey(r, r.offset + len, depth + 1);
  }
  if (r.offset !== end) r.corrupt('malformed key bytes: trailing bytes after array');
  return out;
}

/**
 * The exact inverse of {@link canonicalKeyBytes}. Throws `SnapshotError`
 * (`SNAPSHOT_CORRUPT`, component `keys`) on anything the encoder could not have written.
 */
export function keyFromCanonicalBytes(bytes: Uint8Array): Key {
  return readKey(new ByteReader(bytes, 'keys'), bytes.length, 0);
}

/**
 * Reads a key of `length` canonical bytes at `r`'s position (what {@link keyFromCanonicalBytes}
 * reads, without a sub-array per key: restores decode a million keys in a row).
 */
export function readCanonicalKey(r: ByteReader, length: number): Key {
  return readKey(r, r.offset + length, 0);
}
