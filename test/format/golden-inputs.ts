/**
 * The fixed inputs of the golden test (`golden.test.ts`): values, keys and byte strings
 * whose canonical bytes, hashes and key groups are pinned there. The expected figures
 * were captured once from the code as it stood before the format was split into
 * `src/format/`; the inputs live apart from them so that adding an input is visible as
 * a new expected line, never as a changed one.
 */
import { prng } from '../helpers/prng.ts';

type Named<T> = ReadonlyArray<readonly [string, T]>;

function nest(levels: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { v };
  return v;
}

function offsetBytes(): ArrayBuffer {
  const buf = new ArrayBuffer(64);
  new Uint8Array(buf).forEach((_, i, a) => (a[i] = (i * 29 + 3) & 0xff));
  return buf;
}

/** Values covering every tag, every length boundary of the string writer, and nesting. */
export function goldenValues(): Named<unknown> {
  const buf = offsetBytes();
  const nullProto = Object.create(null) as Record<string, unknown>;
  nullProto.x = 1;
  nullProto['__proto__'] = 'data';
  class Bytes extends Uint8Array {}
  class MyMap extends Map<unknown, unknown> {}
  // eslint-disable-next-line no-sparse-arrays
  const holes = [1, , 3];
  const shared = { n: 1 };
  const numbers: number[] = [
    0,
    -0,
    1,
    -1,
    63,
    64,
    -64,
    -65,
    127,
    128,
    16383,
    16384,
    2 ** 31 - 1,
    2 ** 31,
    -(2 ** 31),
    2 ** 32,
    1.7e12,
    2 ** 52 - 1,
    -(2 ** 52 - 1),
    2 ** 52,
    -(2 ** 52),
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
    2 ** 53,
    1e21,
    0.1,
    -0.5,
    Math.PI,
    NaN,
    Infinity,
    -Infinity,
    Number.MIN_VALUE,
    -Number.MIN_VALUE,
    Number.MAX_VALUE,
    Number.EPSILON,
  ];
  const strings: string[] = [
    '',
    'a',
    'hello world',
    'é',
    '日本語',
    '😀',
    'a😀b€c',
    '\u0000',
    '\ufeffleading BOM',
    '\uffff',
    'x'.repeat(42),
    'é'.repeat(42),
    '€'.repeat(42),
    '€'.repeat(43),
    'x'.repeat(43),
    'x'.repeat(64),
    'x'.repeat(65),
    'x'.repeat(127),
    'x'.repeat(128),
    '日'.repeat(64),
    '日'.repeat(65),
    'é'.repeat(300),
    '😀'.repeat(50),
    '\ud800',
    'a\udc00b',
    'end\ud83d',
    '\ude00\ud83d',
    'long\ud800' + 'z'.repeat(100),
    '😀'.repeat(50) + '\ud800',
  ];
  const bigints: bigint[] = [
    0n,
    1n,
    -1n,
    255n,
    256n,
    -256n,
    2n ** 40n,
    2n ** 47n,
    2n ** 48n - 1n,
    2n ** 48n,
    2n ** 53n - 1n,
    2n ** 53n,
    -(2n ** 64n),
    12345678901234567890123456789n,
    -(7n ** 300n),
  ];
  const out: Array<readonly [string, unknown]> = [
    ['undefined', undefined],
    ['null', null],
    ['false', false],
    ['true', true],
  ];
  for (const n of numbers) out.push([`number ${Object.is(n, -0) ? '-0' : String(n)}`, n]);
  for (const s of strings) out.push([`string ${JSON.stringify(s.length > 24 ? s.slice(0, 12) : s)} (${s.length})`, s]);
  for (const b of bigints) out.push([`bigint ${String(b).slice(0, 30)}`, b]);
  out.push(
    ['empty array', []],
    ['array [1, "a"]', [1, 'a']],
    ['array with holes', holes],
    ['empty object', {}],
    ['object { a: 1 }', { a: 1 }],
    ['object with integer-like keys', { z: 1, 10: 'ten', 2: 'two', a: [true] }],
    ['object with odd keys', { 'a b': 1, 'c-d': { '': 2 }, é: 3 }],
    ['object with a lone-surrogate key', { ok: 1, ['bad\ud800']: [2], after: 'x' }],
    ['null-prototype object with __proto__', nullProto],
    ['JSON object with __proto__', JSON.parse('{"__proto__": {"polluted": true}, "b": 2}')],
    ['empty null-prototype object', Object.create(null)],
    [
      'Map',
      new Map<unknown, unknown>([
        ['b', 1],
        ['a', 2],
        [3, undefined],
        [NaN, -0],
        [{ k: 1 }, new Set([1, 'a', null])],
      ]),
    ],
    ['Map subclass', new MyMap([[1n, 'x']])],
    ['Set', new Set([3, 1, 2, 'x', [1]])],
    ['Date', new Date(1_700_000_000_123)],
    ['invalid Date', new Date(NaN)],
    ['negative Date', new Date(-86_400_000)],
    ['ArrayBuffer', buf.slice(10, 20)],
    ['empty ArrayBuffer', new ArrayBuffer(0)],
    ['Uint8Array', new Uint8Array([0, 1, 255])],
    ['Uint8Array offset view', new Uint8Array(buf, 5, 9)],
    ['Uint8Array subclass', new Bytes([1, 2, 3])],
    ['Int8Array', new Int8Array([-128, 0, 127])],
    ['Uint8ClampedArray', new Uint8ClampedArray([0, 200, 255])],
    ['Int16Array', new Int16Array([-32768, 1, 32767])],
    ['Uint16Array offset view', new Uint16Array(buf, 2, 5)],
    ['Int32Array', new Int32Array([-(2 ** 31), 5])],
    ['Uint32Array', new Uint32Array([2 ** 32 - 1, 7])],
    ['Float32Array', new Float32Array([1.5, -0, NaN, Infinity])],
    ['Float64Array', new Float64Array([Math.PI, -0, -Infinity, NaN])],
    ['Float64Array offset view', new Float64Array(buf, 8, 3)],
    ['BigInt64Array', new BigInt64Array([-(2n ** 63n), 1n])],
    ['BigUint64Array', new BigUint64Array([2n ** 64n - 1n])],
    ['DataView', new DataView(buf, 3, 7)],
    ['shared references', { a: shared, b: [shared, shared] }],
    ['nested 256 levels', nest(256)],
    ['record-like', { id: 42, name: 'Ada', at: 1_700_000_000_000, tags: ['x', 'y'], amount: 12.5, seen: new Set(['k1']), last: new Map([['k', 1n]]) }],
  );
  return out;
}

function randomString(r: () => number): string {
  const alphabet = ['a', 'b', 'Z', ' ', '_', 'é', '€', '日', '😀', '\u0000', '\ufeff', '\ud800', '\udc00'];
  const n = Math.floor(r() * (r() < 0.05 ? 200 : 12));
  let s = '';
  for (let i = 0; i < n; i++) s += r() < 0.7 ? String.fromCharCode(97 + Math.floor(r() * 26)) : alphabet[Math.floor(r() * alphabet.length)];
  return s;
}

function randomNumber(r: () => number): number {
  const pick = r();
  if (pick < 0.3) return Math.floor(r() * 200) - 100;
  if (pick < 0.5) return [0, -0, NaN, Infinity, 2 ** 52, 2 ** 53, -(2 ** 31), 0.1][Math.floor(r() * 8)]!;
  if (pick < 0.7) return Math.floor((r() - 0.5) * 2 ** Math.floor(r() * 60));
  return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
}

/** A seeded random value: the same sequence on every run. */
export function randomGoldenValue(r: () => number, depth = 0): unknown {
  if (depth >= 4 || r() < 0.45) {
    switch (Math.floor(r() * 10)) {
      case 0:
        return undefined;
      case 1:
        return null;
      case 2:
        return r() < 0.5;
      case 3:
        return (r() < 0.5 ? -1n : 1n) * BigInt(Math.floor(r() * 2 ** 40)) ** BigInt(1 + Math.floor(r() * 3));
      case 4:
        return randomString(r);
      case 5:
        return new Date(Math.floor(r() * 2 ** 42));
      case 6: {
        const ctors = [Uint8Array, Int16Array, Float64Array, Uint32Array, Int8Array, Float32Array] as const;
        const C = ctors[Math.floor(r() * ctors.length)]!;
        return new C(Array.from({ length: Math.floor(r() * 6) }, () => Math.floor(r() * 100) - 50));
      }
      default:
        return randomNumber(r);
    }
  }
  const n = Math.floor(r() * 5);
  switch (Math.floor(r() * 5)) {
    case 0:
      return Array.from({ length: n }, () => randomGoldenValue(r, depth + 1));
    case 1: {
      const o: Record<string, unknown> = r() < 0.2 ? Object.create(null) : {};
      for (let i = 0; i < n; i++) o[r() < 0.2 ? String(Math.floor(r() * 10)) : randomString(r)] = randomGoldenValue(r, depth + 1);
      return o;
    }
    case 2:
      return new Map(Array.from({ length: n }, () => [randomGoldenValue(r, depth + 1), randomGoldenValue(r, depth + 1)]));
    case 3:
      return new Set(Array.from({ length: n }, () => randomGoldenValue(r, depth + 1)));
    default:
      return { id: Math.floor(r() * 1e6), name: randomString(r), at: Math.floor(r() * 2 ** 41), tags: [randomString(r)] };
  }
}

/** `count` seeded random values. */
export function randomGoldenValues(seed: number, count: number): unknown[] {
  const r = prng(seed);
  return Array.from({ length: count }, () => randomGoldenValue(r));
}

/** A key, as `keyBy` may return it (kept structural so this file imports nothing from src). */
export type GoldenKey = string | number | bigint | boolean | readonly GoldenKey[];

/** Keys covering every tag, the ASCII fast path and its boundaries, and nested arrays. */
export function goldenKeys(): Named<GoldenKey> {
  const keys: GoldenKey[] = [
    '',
    'k',
    'k1',
    'k12',
    'k123',
    'k1234',
    'alice',
    'user-42',
    'k9999',
    '\u0001x',
    '\u0001',
    '\u007f',
    'käse',
    'é',
    '日本語',
    '😀',
    'a😀b€c',
    'x'.repeat(127),
    'x'.repeat(128),
    'y'.repeat(1000),
    '日'.repeat(500),
    '\ufeffbom',
    0,
    -0,
    1,
    -1,
    1.5,
    -7.25,
    42,
    9999,
    2 ** 31,
    2 ** 32 + 1,
    2 ** 53,
    2 ** 53 - 1,
    -1e300,
    Infinity,
    -Infinity,
    Number.MIN_VALUE,
    0n,
    1n,
    -1n,
    255n,
    256n,
    -256n,
    2n ** 53n - 1n,
    2n ** 53n,
    12345678901234567890n,
    -(2n ** 64n),
    7n ** 90n,
    true,
    false,
    [],
    [[]],
    ['a', 1],
    [[1n], []],
    [-0],
    ['é', -(2n ** 64n), true, [[[]]]],
    ['x'.repeat(200), 7],
    ['y'.repeat(20000)],
    ['\u0001', ['1']],
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  ];
  return keys.map((k) => [describeKey(k), k] as const);
}

function describeKey(k: GoldenKey): string {
  if (typeof k === 'string') return `string ${JSON.stringify(k.length > 20 ? k.slice(0, 8) : k)} (${k.length})`;
  if (typeof k === 'number') return `number ${Object.is(k, -0) ? '-0' : String(k)}`;
  if (typeof k === 'bigint') return `bigint ${String(k).slice(0, 24)}`;
  if (typeof k === 'boolean') return `boolean ${String(k)}`;
  return `array [${k.map(describeKey).join(', ').slice(0, 60)}]`;
}

/** `count` seeded random keys. */
export function randomGoldenKeys(seed: number, count: number): GoldenKey[] {
  const r = prng(seed);
  const one = (depth: number): GoldenKey => {
    switch (Math.floor(r() * (depth < 3 ? 6 : 5))) {
      case 0: {
        const n = Math.floor(r() * (r() < 0.1 ? 300 : 20));
        const alphabet = ['a', 'Z', '0', ' ', '\u0001', '\u007f', 'é', '€', '日', '😀', '\u0000'];
        let s = '';
        const ascii = r() < 0.5;
        for (let i = 0; i < n; i++) s += ascii ? String.fromCharCode(32 + Math.floor(r() * 95)) : alphabet[Math.floor(r() * alphabet.length)];
        return s;
      }
      case 1:
        return (r() - 0.5) * 10 ** Math.floor(r() * 20);
      case 2: {
        const big = BigInt(Math.floor(r() * 2 ** 53)) ** BigInt(1 + Math.floor(r() * 3));
        return r() < 0.5 ? -big : big;
      }
      case 3:
        return r() < 0.5;
      case 4:
        return Math.floor(r() * 100000);
      default:
        return Array.from({ length: Math.floor(r() * 5) }, () => one(depth + 1));
    }
  };
  return Array.from({ length: count }, () => one(0));
}

/** Byte strings for murmur3: every tail length after zero to eight blocks, and a long one. */
export function goldenMurmurInputs(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let n = 0; n <= 36; n++) out.push(Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff));
  out.push(Uint8Array.from({ length: 70_001 }, (_, i) => (i * 131 + 7) & 0xff));
  return out;
}

/** Strings for the tagged-ASCII murmur: ASCII ones of every length 0..12, and non-ASCII ones. */
export function goldenAsciiStrings(): string[] {
  const out: string[] = [];
  for (let n = 0; n <= 12; n++) out.push('abcdefghijklm'.slice(0, n));
  out.push('user-42', 'k9999', '\u007f\u0000', 'x'.repeat(1000), 'ascii then é', 'é');
  return out;
}

/** (maxParallelism, parallelism) pairs whose subtask ranges are pinned. */
export const GOLDEN_PARALLELISMS: ReadonlyArray<readonly [number, number]> = [
  [1, 1],
  [7, 3],
  [128, 1],
  [128, 3],
  [128, 7],
  [128, 128],
  [1000, 13],
  [32768, 5],
  [32768, 1000],
];

/** Max parallelisms whose key groups are pinned for every golden key. */
export const GOLDEN_MAX_PARALLELISMS: readonly number[] = [1, 7, 128, 1000, 32767, 32768];
