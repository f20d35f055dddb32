/**
 * The byte level of the canonical format: a growable writer and a bounds-checked reader
 * (varints, big-endian floats, UTF-8 strings, bigint magnitudes) and the error for
 * malformed input. The value codec (`value-codec.ts`), canonical key bytes
 * (`key-bytes.ts`), the snapshot format and the timer encoding are all written with it,
 * so each of these byte forms is defined once. The writing half is in `byte-writer.ts`,
 * re-exported here so that every user names this one module; this file reads.
 */
import { SnapshotError } from '../api/errors.ts';

export { ByteWriter, isWellFormed, magnitudeSize, varintSize, writeMagnitudeAt, writeVarintAt } from './byte-writer.ts';

// ignoreBOM: a leading U+FEFF is data, not a marker to strip.
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

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
