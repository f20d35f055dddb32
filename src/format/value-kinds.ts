/**
 * The kinds of value the canonical value encoding knows, and their tags: the one
 * description that encoding, decoding, checking and cloning share.
 *
 * Snapshots written in one runtime must restore in every other, and the same state must
 * always produce the same bytes (checksums and incremental deltas compare them). So the
 * encoding depends only on the value: numbers go out as IEEE-754 big-endian or zigzag
 * varints, strings as UTF-8, multi-byte typed arrays as little-endian elements, and
 * object properties in `Object.keys` order.
 *
 * Each value is one tag byte followed by its payload:
 *
 * | tag | value | payload |
 * |---|---|---|
 * | 0x00 | undefined | – |
 * | 0x01 | null | – |
 * | 0x02/0x03 | false/true | – |
 * | 0x04 | integer, abs < 2^52, not -0 | zigzag varint |
 * | 0x05 | other number | float64 BE |
 * | 0x06 | bigint | sign byte (0/1), varint length, magnitude BE |
 * | 0x07 | well-formed string | varint byte length, UTF-8 |
 * | 0x08 | string with lone surrogates | varint unit count, UTF-16LE units |
 * | 0x09 | array | varint count, values |
 * | 0x0A/0x0B | plain / null-prototype object | varint 2·count+f, then per property key and value; f=0: keys as varint-length UTF-8, f=1: keys as tagged strings (0x07/0x08) |
 * | 0x0C | Map | varint count, key/value pairs |
 * | 0x0D | Set | varint count, values |
 * | 0x0E | Date | float64 BE of getTime() |
 * | 0x0F | ArrayBuffer | varint length, bytes |
 * | 0x10 | Uint8Array | varint length, bytes |
 * | 0x11–0x1A | Int8, Uint8Clamped, Int16, Uint16, Int32, Uint32, Float32, Float64, BigInt64, BigUint64 arrays | varint byte length, elements LE |
 * | 0x1B | DataView | varint length, bytes |
 */

/** Tag of `undefined`. */
export const T_UNDEFINED = 0x00;
/** Tag of `null`. */
export const T_NULL = 0x01;
/** Tag of `false`. */
export const T_FALSE = 0x02;
/** Tag of `true`. */
export const T_TRUE = 0x03;
/** Tag of an integer written as a zigzag varint. */
export const T_INT = 0x04;
/** Tag of any other number, written as a float64. */
export const T_F64 = 0x05;
/** Tag of a bigint. */
export const T_BIGINT = 0x06;
/** Tag of a well-formed string (UTF-8). */
export const T_STRING = 0x07;
/** Tag of a string with lone surrogates (UTF-16 code units). */
export const T_STRING16 = 0x08;
/** Tag of an array; the first of the container tags. */
export const T_ARRAY = 0x09;
/** Tag of a plain object. */
export const T_OBJECT = 0x0a;
/** Tag of a null-prototype object. */
export const T_NULL_OBJECT = 0x0b;
/** Tag of a Map. */
export const T_MAP = 0x0c;
/** Tag of a Set; the last of the container tags. */
export const T_SET = 0x0d;
/** Tag of a Date. */
export const T_DATE = 0x0e;
/** Tag of an ArrayBuffer. */
export const T_ARRAYBUFFER = 0x0f;
/** Tag of a Uint8Array. */
export const T_UINT8 = 0x10;
/** Tag of the first of the {@link TYPED} arrays. */
export const T_TYPED_FIRST = 0x11;
/** Tag of a DataView. */
export const T_DATAVIEW = 0x1b;

/** {@link kindOf} for an object that is not a value. */
export const BAD = -1;
/** {@link kindOf} for a plain object with enumerable symbol keys. */
export const BAD_SYMBOL_KEYS = -2;

/** A typed-array constructor as the codec uses it. */
export type ViewCtor = (new (
  buffer: ArrayBuffer,
  byteOffset: number,
  length: number,
) => ArrayBufferView) & {
  readonly BYTES_PER_ELEMENT: number;
};

/** Constructors of the multi-byte and signed typed arrays, indexed by `tag - T_TYPED_FIRST`. */
export const TYPED: readonly ViewCtor[] = [
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
];

/**
 * Containers nested deeper than this are refused. The walkers recurse, and a snapshot
 * written where the stack is deep must still decode where it is shallow (browsers and
 * workerd differ), so the limit sits far below any engine's stack.
 */
export const MAX_DEPTH = 256;

/** The rule every refused value's message ends with. */
export const RULE = 'state values must be structured data (plain objects, arrays, Map, Set, Date, primitives, bigint, Uint8Array)';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function hasEnumerableSymbol(o: object): boolean {
  const symbols = Object.getOwnPropertySymbols(o);
  for (let i = 0; i < symbols.length; i++) {
    if (Object.prototype.propertyIsEnumerable.call(o, symbols[i]!)) return true;
  }
  return false;
}

/** The tag an object encodes as, or {@link BAD} / {@link BAD_SYMBOL_KEYS}. One place, so every walker agrees. */
export function kindOf(o: object): number {
  const proto: unknown = Object.getPrototypeOf(o);
  if (proto === Object.prototype) return hasEnumerableSymbol(o) ? BAD_SYMBOL_KEYS : T_OBJECT;
  if (proto === Array.prototype && Array.isArray(o)) return T_ARRAY;
  if (proto === null) return hasEnumerableSymbol(o) ? BAD_SYMBOL_KEYS : T_NULL_OBJECT;
  // Built-ins are recognised with instanceof so that subclasses (Node's Buffer is a
  // Uint8Array) are accepted; they decode as the base type.
  if (o instanceof Map) return T_MAP;
  if (o instanceof Set) return T_SET;
  if (o instanceof Date) return T_DATE;
  if (ArrayBuffer.isView(o)) {
    if (o instanceof Uint8Array) return T_UINT8;
    if (o instanceof DataView) return T_DATAVIEW;
    for (let i = 0; i < TYPED.length; i++) if (o instanceof TYPED[i]!) return T_TYPED_FIRST + i;
    return BAD;
  }
  if (o instanceof ArrayBuffer) return T_ARRAYBUFFER;
  return BAD;
}

/** Element bytes of a typed array in little-endian order, whatever the platform's. */
export function littleEndianBytes(v: ArrayBufferView, size: number): Uint8Array {
  const raw = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return LITTLE_ENDIAN ? raw : swapped(raw.slice(), size);
}

/** A typed array of `Ctor` over little-endian element bytes (taken over, swapped in place if need be). */
export function fromLittleEndian(Ctor: ViewCtor, b: Uint8Array<ArrayBuffer>): ArrayBufferView {
  const size = Ctor.BYTES_PER_ELEMENT;
  return new Ctor((LITTLE_ENDIAN ? b : swapped(b, size)).buffer, 0, b.length / size);
}

function swapped(b: Uint8Array<ArrayBuffer>, size: number): Uint8Array<ArrayBuffer> {
  for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
  return b;
}

/** A copy of a view's bytes in a fresh, exactly-sized buffer. */
export function copyBytes(v: ArrayBufferView): Uint8Array<ArrayBuffer> {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
}

/** Adds a data property; plain assignment to "__proto__" would change the prototype instead. */
export function setProperty(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}
