/**
 * The columns of record batches as bytes (batch-wire.ts puts them together): one
 * form per kind of column, chosen by what the values are.
 *
 * Why a column layout rather than the value codec per record: measured in Node 20
 * (1,024 `{ k: string, v: number }` records, one thread, machine under load), the
 * canonical value codec per record costs about what structured clone does (~2.8 ms per
 * batch each), so it buys nothing. What is cheaper is what structured clone cannot do:
 * numbers go as one float64 run, and all (short) strings of a column are joined and
 * UTF-8-encoded (and later decoded) in one call, then cut apart by their UTF-16 lengths.
 * Columns holding anything else (nested objects, bigint, Date, mixed types, …) go
 * through the value codec, value by value. Every form decodes to the same values of the
 * same types (numbers as float64 keep -0 and NaN; the codec keeps its kinds exactly).
 */
import { type ByteReader, type ByteWriter, isWellFormed } from '../format/bytes.ts';
import { decodeValue, encodeValue } from '../format/value-codec.ts';

const C_F64 = 1;
const C_STRING = 2;
const C_BOOL = 3;
const C_CODEC = 4;
/** A column kind of its own: the keys are the values' column whose index follows. */
export const C_KEYS_FROM = 5;
const C_STRINGS = 6;

/**
 * V8 makes a substring of 13 or more UTF-16 units a slice that keeps its whole parent
 * alive: cut out of a batch's joined text, one long key held in state would pin the
 * text of its whole batch. So only columns of shorter strings are joined (and so each
 * of their lengths fits in one byte).
 */
const SLICE_MIN = 13;

/**
 * In a joined column's lengths: the same string as the record before, not written again.
 * Fields of few values (a type, a tenant, the key of a hot key) come in runs; each
 * repeat saves its bytes on both sides and, decoded, a string allocation.
 */
const SAME_AS_BEFORE = 0xff;

/** The strings of a column whose lengths are not {@link SAME_AS_BEFORE}, joined. */
function withoutRepeats(col: readonly string[], lens: Uint8Array, count: number): string {
  const parts = new Array<string>(count);
  for (let i = 0, j = 0; i < col.length; i++) if (lens[i] !== SAME_AS_BEFORE) parts[j++] = col[i]!;
  return parts.join('');
}

/**
 * A Float64Array kept for the float runs of every batch this thread encodes or decodes
 * (and, viewed as bytes or 16-bit units, for the other fixed-size runs). A new one per
 * column would be a fresh allocation, and the first write to fresh memory costs a page
 * fault per 4 KiB (in a virtual machine ~0.1 ms per 32 KB column, more than the copy
 * itself); runs longer than {@link SCRATCH_LIMIT} values get their own.
 */
let scratch = new Float64Array(1024);
const SCRATCH_LIMIT = 1 << 17;

function f64Scratch(n: number): Float64Array {
  if (n <= scratch.length) return scratch;
  if (n > SCRATCH_LIMIT) return new Float64Array(n);
  let size = scratch.length;
  while (size < n) size *= 2;
  return (scratch = new Float64Array(size));
}

/** What {@link writeColumn} found out: the values went through the value codec (objects among them, possibly). */
export const W_CODEC = 0;
/** What {@link writeColumn} found out: numbers, strings or booleans only. */
export const W_PRIMITIVES = 1;
/** What {@link writeColumn} found out: numbers, strictly increasing or decreasing, so no two equal. */
export const W_DISTINCT = 2;

/**
 * Numbers as one native-endian float64 run copied in one go: per-value DataView writes
 * cost more. The bytes never leave the process (they go between threads of one machine),
 * so native byte order is safe here, unlike in snapshots. Returns whether the numbers
 * strictly increase or strictly decrease (so no two are the same), noted on the way.
 */
export function writeF64s(w: ByteWriter, col: readonly number[]): boolean {
  const n = col.length;
  const f = f64Scratch(n);
  let prev = col[0]!;
  f[0] = prev;
  let up = true;
  let down = true;
  for (let i = 1; i < n; i++) {
    const x = col[i]!;
    f[i] = x;
    // NaN compares false both ways, so a column holding one proves nothing.
    up = up && x > prev;
    down = down && x < prev;
    prev = x;
  }
  w.bytes(new Uint8Array(f.buffer, 0, n * 8));
  return up || down;
}

/** Reads what {@link writeF64s} wrote: `n` numbers into `out`. */
export function readF64s(r: ByteReader, n: number, out: unknown[]): void {
  // Copied out first: the run may sit at any offset, and a Float64Array needs 8-byte alignment.
  const f = f64Scratch(n);
  new Uint8Array(f.buffer, 0, n * 8).set(r.bytes(n * 8));
  for (let i = 0; i < n; i++) out[i] = f[i];
}

/**
 * Key groups as one native-endian 16-bit run: they are below the largest max parallelism
 * (32,768), and a fixed width copies in one go where varints cost a branchy write each.
 * Throws (the batch then goes by structured clone) for anything not in 0…65535.
 */
export function writeU16s(w: ByteWriter, col: ArrayLike<number>): void {
  const n = col.length;
  const u = new Uint16Array(f64Scratch((n + 3) >> 2).buffer, 0, n);
  for (let i = 0; i < n; i++) {
    const g = col[i]!;
    if ((g & 0xffff) !== g) throw new RangeError(`key group ${g} out of range`);
    u[i] = g;
  }
  w.bytes(new Uint8Array(u.buffer, 0, n * 2));
}

/** Reads what {@link writeU16s} wrote: `n` numbers. */
export function readU16s(r: ByteReader, n: number): number[] {
  const u = new Uint16Array(f64Scratch((n + 3) >> 2).buffer, 0, n);
  new Uint8Array(u.buffer, 0, n * 2).set(r.bytes(n * 2));
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = u[i]!;
  return out;
}

/**
 * Writes one column; throws if the codec refuses a value. Returns {@link W_CODEC} when
 * the values went through the codec (objects among them, possibly), else
 * {@link W_PRIMITIVES}, or {@link W_DISTINCT} for numbers no two of which are equal.
 */
export function writeColumn(w: ByteWriter, col: readonly unknown[]): number {
  const n = col.length;
  const t = typeof col[0];
  let same = t === 'number' || t === 'string' || t === 'boolean';
  for (let i = 1; i < n && same; i++) same = typeof col[i] === t;
  if (same && t === 'number') {
    w.u8(C_F64);
    return writeF64s(w, col as number[]) ? W_DISTINCT : W_PRIMITIVES;
  }
  if (same && t === 'boolean') {
    w.u8(C_BOOL);
    for (let i = 0; i < n; i++) w.u8(col[i] ? 1 : 0);
    return W_PRIMITIVES;
  }
  if (same && t === 'string') {
    const strings = col as readonly string[];
    // Lengths (or SAME_AS_BEFORE) first, so that repeats are never joined; a long string
    // ends this and the column goes string by string.
    const lens = new Uint8Array(f64Scratch((n + 7) >> 3).buffer, 0, n);
    let repeats = 0;
    let i = 0;
    for (; i < n; i++) {
      const s = strings[i]!;
      if (s.length >= SLICE_MIN) break;
      if (i > 0 && s === strings[i - 1]) {
        lens[i] = SAME_AS_BEFORE;
        repeats++;
      } else {
        lens[i] = s.length;
      }
    }
    if (i === n) {
      const joined = repeats === 0 ? strings.join('') : withoutRepeats(strings, lens, n - repeats);
      // Lone surrogates have no UTF-8 form (a joined pair would, but lengths cut it apart
      // again, so only the joined string must be well-formed).
      if (isWellFormed(joined)) {
        w.u8(C_STRING);
        w.bytes(lens);
        w.string(joined);
        return W_PRIMITIVES;
      }
    } else {
      const start = w.length;
      w.u8(C_STRINGS);
      let j = 0;
      while (j < n && w.tryString(strings[j]!)) j++;
      if (j === n) return W_PRIMITIVES;
      // A lone surrogate: the codec column keeps it (as UTF-16 units).
      w.truncate(start);
    }
  }
  w.u8(C_CODEC);
  for (let i = 0; i < n; i++) encodeValue(w, col[i]);
  return W_CODEC;
}

/** Reads one column of `n` values written as `kind` (the byte {@link writeColumn} wrote first). */
export function readColumn(r: ByteReader, n: number, kind: number): unknown[] {
  const out: unknown[] = new Array(n);
  if (kind === C_F64) {
    readF64s(r, n, out);
  } else if (kind === C_BOOL) {
    for (let i = 0; i < n; i++) out[i] = r.u8() === 1;
  } else if (kind === C_STRING) {
    const lens = r.bytes(n);
    const joined = r.string();
    if (lens[0] === SAME_AS_BEFORE) r.corrupt('a string column begins with a repeat');
    let p = 0;
    for (let i = 0; i < n; i++) {
      const len = lens[i]!;
      out[i] = len === SAME_AS_BEFORE ? out[i - 1] : joined.substring(p, (p += len));
    }
    if (p !== joined.length) r.corrupt(`string lengths add up to ${p}, not ${joined.length}`);
  } else if (kind === C_STRINGS) {
    for (let i = 0; i < n; i++) out[i] = r.string();
  } else if (kind === C_CODEC) {
    for (let i = 0; i < n; i++) out[i] = decodeValue(r);
  } else {
    r.corrupt(`unknown batch column kind ${kind}`);
  }
  return out;
}
