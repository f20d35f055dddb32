/**
 * The byte level of the canonical format: a growable writer and a bounds-checked reader
 * (varints, big-endian floats, UTF-8 strings, bigint magnitudes) and the error for
 * malformed input. The value codec (`value-codec.ts`), canonical key bytes
 * (`key-bytes.ts`), the snapshot format and the timer encoding are all written with it,
 * so each of these byte forms is defined once.
 */
import { EddyError, SnapshotError } from '../api/errors.ts';

/** Past this many bytes a finished writer's buffer is dropped rather than kept for reuse. */
const RETAIN_LIMIT = 1 << 20;
const textEncoder = new TextEncoder();
// ignoreBOM: a leading U+FEFF is data, not a marker to strip.
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

type WellFormedString = string & { isWellFormed?: () => boolean };

/** True if the string contains no unpaired UTF-16 surrogate (UTF-8 could not keep it). */
export function isWellFormed(s: string): boolean {
  // Native isWellFormed (ES2024) is much faster where it exists; the loop is the fallback.
  const native = (s as WellFormedString).isWellFormed;
  if (native !== undefined) return native.call(s);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c & 0xf800) !== 0xd800) continue;
    const next = s.charCodeAt(i + 1);
    if (c >= 0xdc00 || !(next >= 0xdc00 && next <= 0xdfff)) return false;
    i++;
  }
  return true;
}

/** Bytes of `n` as an unsigned varint. */
export function varintSize(n: number): number {
  let size = 1;
  for (; n >= 0x80; size++) n = Math.floor(n / 0x80);
  return size;
}

/**
 * Writes `n` (a non-negative safe integer) as LEB128 at `p` of `buf`, which has room for
 * it ({@link varintSize}); returns the end.
 */
export function writeVarintAt(buf: Uint8Array, p: number, n: number): number {
  // Above 2^31 shifts would truncate, and `%` on doubles is slow; divide exactly instead.
  while (n > 0x7fffffff) {
    const q = Math.floor(n / 0x80);
    buf[p++] = (n - q * 0x80) | 0x80;
    n = q;
  }
  while (n >= 0x80) {
    buf[p++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[p++] = n;
  return p;
}

/** Bytes of a non-negative bigint as a big-endian magnitude in the fewest bytes (none for `0n`). */
export function magnitudeSize(mag: bigint): number {
  if (mag <= 0x1fffffffffffffn) {
    let len = 0;
    for (let t = Number(mag); t > 0; t = Math.floor(t / 256)) len++;
    return len;
  }
  return (mag.toString(16).length + 1) >> 1;
}

/** Writes `mag` (non-negative) big-endian in `size` = {@link magnitudeSize} bytes at `p`; returns the end. */
export function writeMagnitudeAt(buf: Uint8Array, p: number, mag: bigint, size: number): number {
  if (mag <= 0x1fffffffffffffn) {
    // Safe magnitudes (the common case) avoid a hex string; powers of 256 are exact in float64.
    let m = Number(mag);
    for (let i = p + size - 1; i >= p; i--) {
      buf[i] = m % 256;
      m = Math.floor(m / 256);
    }
    return p + size;
  }
  const hex = mag.toString(16).padStart(size * 2, '0');
  for (let i = 0; i < size; i++) buf[p + i] = parseInt(hex.substr(i * 2, 2), 16);
  return p + size;
}

/** The non-negative bigint whose big-endian bytes are `bytes` (leading zeros allowed). */
export function magnitudeOf(bytes: Uint8Array): bigint {
  if (bytes.length <= 6) {
    let m = 0;
    for (let i = 0; i < bytes.length; i++) m = m * 256 + bytes[i]!;
    return BigInt(m);
  }
  let hex = '0x';
  for (let i = 0; i < bytes.length; i++) hex += (bytes[i]! < 16 ? '0' : '') + bytes[i]!.toString(16);
  return BigInt(hex);
}

/** Writes UTF-8 at `p`; returns the end, or -1 if `strict` and `s` has a lone surrogate. */
function utf8Loop(buf: Uint8Array, p: number, s: string, strict: boolean): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[p++] = c;
    } else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 0x3f);
    } else if ((c & 0xf800) === 0xd800) {
      const d = s.charCodeAt(i + 1);
      if (c < 0xdc00 && d >= 0xdc00 && d <= 0xdfff) {
        const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        buf[p++] = 0xf0 | (cp >> 18);
        buf[p++] = 0x80 | ((cp >> 12) & 0x3f);
        buf[p++] = 0x80 | ((cp >> 6) & 0x3f);
        buf[p++] = 0x80 | (cp & 0x3f);
        i++;
      } else {
        if (strict) return -1;
        // U+FFFD, as TextEncoder does, so both paths agree.
        buf[p++] = 0xef;
        buf[p++] = 0xbf;
        buf[p++] = 0xbd;
      }
    } else {
      buf[p++] = 0xe0 | (c >> 12);
      buf[p++] = 0x80 | ((c >> 6) & 0x3f);
      buf[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p;
}

/** A growable byte buffer with the primitive writes of the canonical encoding. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;
  private readonly initialCapacity: number;

  /** @param initialCapacity starting buffer size in bytes; it doubles as needed. */
  constructor(initialCapacity = 256) {
    this.initialCapacity = Math.max(16, initialCapacity | 0);
    this.buf = new Uint8Array(this.initialCapacity);
    this.view = new DataView(this.buf.buffer);
  }

  /** Number of bytes written so far. */
  get length(): number {
    return this.pos;
  }

  private reserve(n: number): void {
    const needed = this.pos + n;
    if (needed <= this.buf.length) return;
    const next = new Uint8Array(Math.max(needed, this.buf.length * 2));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** One byte (0–255). */
  u8(b: number): void {
    if (this.pos >= this.buf.length) this.reserve(1);
    this.buf[this.pos++] = b;
  }

  /** Unsigned LEB128 of a non-negative safe integer (up to 2^53-1). */
  varint(n: number): void {
    if (!(n >= 0 && n <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n)) {
      throw new EddyError('INVALID_ARGUMENT', `varint must be a non-negative safe integer, got ${n}`, { component: 'codec' });
    }
    if (this.pos + 8 > this.buf.length) this.reserve(8);
    this.pos = writeVarintAt(this.buf, this.pos, n);
  }

  /** A float64, big-endian; -0 and infinities are kept, every NaN is written as 0x7FF8…0. */
  f64(v: number): void {
    this.reserve(8);
    // Engines may store any NaN bit pattern (the spec allows it), so fix one for
    // byte-identical output everywhere.
    if (v !== v) {
      this.buf[this.pos] = 0x7f;
      this.buf[this.pos + 1] = 0xf8;
      this.buf.fill(0, this.pos + 2, this.pos + 8);
    } else {
      this.view.setFloat64(this.pos, v);
    }
    this.pos += 8;
  }

  /** Raw bytes, without a length. */
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Varint length, then the bytes. */
  lenBytes(b: Uint8Array): void {
    this.varint(b.length);
    this.bytes(b);
  }

  /** Varint byte length, then a non-negative bigint big-endian in the fewest bytes. */
  magnitude(mag: bigint): void {
    const size = magnitudeSize(mag);
    this.varint(size);
    this.reserve(size);
    this.pos = writeMagnitudeAt(this.buf, this.pos, mag, size);
  }

  /** Varint byte length, then UTF-8. Lone surrogates become U+FFFD, as with TextEncoder. */
  string(s: string): void {
    this.utf8(s, false);
  }

  /**
   * Like {@link ByteWriter.string}, but writes nothing and returns false if `s` has a lone
   * surrogate (which UTF-8 cannot carry), so the caller can choose a lossless form.
   */
  tryString(s: string): boolean {
    return this.utf8(s, true);
  }

  private utf8(s: string, strict: boolean): boolean {
    if (s.length < 43) {
      // At most 126 bytes, so the length is one varint byte: the common case, kept lean.
      if (this.pos + 127 > this.buf.length) this.reserve(127);
      const start = this.pos + 1;
      const end = utf8Loop(this.buf, start, s, strict);
      if (end < 0) return false;
      this.buf[this.pos] = end - start;
      this.pos = end;
      return true;
    }
    const max = s.length * 3;
    const k = varintSize(max);
    this.reserve(k + max);
    // Write the bytes after room for the longest possible length, then close the gap:
    // measuring the UTF-8 length first would walk the string twice.
    const start = this.pos + k;
    let end: number;
    if (s.length <= 64) {
      end = utf8Loop(this.buf, start, s, strict);
      if (end < 0) return false;
    } else {
      // Long strings: the native encoder is faster than a JS loop.
      if (strict && !isWellFormed(s)) return false;
      end = start + textEncoder.encodeInto(s, this.buf.subarray(start)).written;
    }
    const len = end - start;
    const actual = varintSize(len);
    if (actual !== k) this.buf.copyWithin(this.pos + actual, start, end);
    this.pos = writeVarintAt(this.buf, this.pos, len) + len;
    return true;
  }

  /** Discards everything written after the first `length` bytes. */
  truncate(length: number): void {
    if (!(length >= 0 && length <= this.pos && Math.floor(length) === length)) {
      throw new EddyError('INVALID_ARGUMENT', `cannot truncate ${this.pos} bytes to ${length}`, { component: 'codec' });
    }
    this.pos = length;
  }

  /**
   * The bytes written, as an array of exactly that length that later writes never touch.
   * The writer is empty afterwards and can be reused.
   */
  finish(): Uint8Array {
    const full = this.pos === this.buf.length;
    const out = full ? this.buf : this.buf.slice(0, this.pos);
    if (full || this.buf.length > RETAIN_LIMIT) {
      this.buf = new Uint8Array(this.initialCapacity);
      this.view = new DataView(this.buf.buffer);
    }
    this.pos = 0;
    return out;
  }
}

/** Throws `SNAPSHOT_CORRUPT` for malformed input at `offset`, naming the component that read it. */
export function corrupt(message: string, offset: number, component = 'codec'): never {
  throw new SnapshotError('SNAPSHOT_CORRUPT', `${message} at byte ${offset}`, { component });
}

/** Reads what {@link ByteWriter} writes; malformed input throws `SNAPSHOT_CORRUPT`. */
export class ByteReader {
  private readonly buf: Uint8Array;
  // Made on the first float read: a reader per key (restore decodes one per entry) mostly reads none.
  private view: DataView | undefined;
  private readonly component: string;
  private pos = 0;

  /**
   * @param bytes the input; it is read in place, not copied.
   * @param component named by the errors for malformed input (`codec` unless given).
   */
  constructor(bytes: Uint8Array, component = 'codec') {
    this.buf = bytes;
    this.component = component;
  }

  /** Bytes consumed so far. */
  get offset(): number {
    return this.pos;
  }

  /** Bytes left. */
  get remaining(): number {
    return this.buf.length - this.pos;
  }

  /** True once every byte has been read. */
  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** Throws `SNAPSHOT_CORRUPT` naming this reader's component, at the current offset. */
  corrupt(message: string): never {
    return corrupt(message, this.pos, this.component);
  }

  private need(n: number): void {
    if (n > this.buf.length - this.pos) {
      this.corrupt(`unexpected end of data (needed ${n} bytes, ${this.buf.length - this.pos} left)`);
    }
  }

  /** One byte. */
  u8(): number {
    if (this.pos >= this.buf.length) this.need(1);
    return this.buf[this.pos++]!;
  }

  /** An unsigned LEB128 safe integer; overlong or out-of-range encodings are corrupt. */
  varint(): number {
    const buf = this.buf;
    let p = this.pos;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (p >= buf.length) {
        this.pos = p;
        this.need(1);
      }
      const b = buf[p++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        // A trailing zero group means the writer used more bytes than needed; the
        // canonical form never does, and accepting it would give one value two encodings.
        if (b === 0 && i > 0) this.corrupt('non-minimal varint');
        if (value > Number.MAX_SAFE_INTEGER) this.corrupt('varint exceeds 2^53-1');
        this.pos = p;
        return value;
      }
      scale *= 0x80;
    }
    return this.corrupt('varint longer than 8 bytes');
  }

  /** A float64, big-endian. */
  f64(): number {
    this.need(8);
    const b = this.buf;
    const v = (this.view ??= new DataView(b.buffer, b.byteOffset, b.byteLength)).getFloat64(this.pos);
    this.pos += 8;
    return v;
  }

  /** The next `n` bytes, as a view into the input (copy it to keep it). */
  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A varint length, then that many bytes (a view into the input). */
  lenBytes(): Uint8Array {
    return this.bytes(this.varint());
  }

  /** A varint byte length, then UTF-8; invalid UTF-8 is corrupt. */
  string(): string {
    return this.utf8(this.varint());
  }

  /** The next `n` bytes as UTF-8 (a leading U+FEFF is kept); invalid UTF-8 is corrupt. */
  utf8(n: number): string {
    this.need(n);
    const buf = this.buf;
    const start = this.pos;
    // Short ASCII strings (property names, enum-like values, keys) dominate; decoding them
    // by hand skips TextDecoder's per-call overhead.
    if (n <= 8) {
      const s = shortAscii(buf, start, n);
      if (s !== undefined) {
        this.pos = start + n;
        return s;
      }
    } else if (n <= 32) {
      let s = '';
      let i = 0;
      for (; i < n; i++) {
        const b = buf[start + i]!;
        if (b >= 0x80) break;
        s += String.fromCharCode(b);
      }
      if (i === n) {
        this.pos = start + n;
        return s;
      }
    }
    let s: string;
    try {
      s = textDecoder.decode(buf.subarray(start, start + n));
    } catch {
      return this.corrupt('invalid UTF-8');
    }
    this.pos = start + n;
    return s;
  }
}

/**
 * `n` (≤ 8) ASCII bytes as a string in one call, undefined when one is not ASCII: a
 * restore decodes a million short keys in a row, and building each by `+=` per character
 * allocated one string per character (about a third of the decoding time).
 */
function shortAscii(b: Uint8Array, i: number, n: number): string | undefined {
  let or = 0;
  for (let j = 0; j < n; j++) or |= b[i + j]!;
  if (or >= 0x80) return undefined;
  const c = String.fromCharCode;
  switch (n) {
    case 0:
      return '';
    case 1:
      return c(b[i]!);
    case 2:
      return c(b[i]!, b[i + 1]!);
    case 3:
      return c(b[i]!, b[i + 1]!, b[i + 2]!);
    case 4:
      return c(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!);
    case 5:
      return c(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!);
    case 6:
      return c(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!);
    case 7:
      return c(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!);
    default:
      return c(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!);
  }
}
