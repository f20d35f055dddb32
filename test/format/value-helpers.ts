/** Helpers shared by the value codec, walk and clone tests. */
import { expect } from 'vitest';
import { deserializeValue, serializeValue } from '../../src/format/value-codec.ts';

export const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
export const unhex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s/g, '').match(/../g) ?? [], (x) => parseInt(x, 16));

export function bytesOf(v: ArrayBufferView | ArrayBuffer): string {
  return hex(v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
}

/**
 * Strict structural equality: same prototypes, Object.is for primitives (so -0 and NaN
 * count), same property and entry order, same bytes for binary data.
 */
export function same(a: unknown, b: unknown, path = '$'): void {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
    expect(Object.is(a, b), `${path}: ${String(a)} vs ${String(b)}`).toBe(true);
    return;
  }
  expect(Object.getPrototypeOf(b), `${path}: prototype`).toBe(Object.getPrototypeOf(a));
  if (a instanceof Date) {
    expect(Object.is(a.getTime(), (b as Date).getTime()), `${path}: date`).toBe(true);
  } else if (a instanceof ArrayBuffer || ArrayBuffer.isView(a)) {
    expect(bytesOf(b as ArrayBuffer), `${path}: bytes`).toBe(bytesOf(a));
  } else if (a instanceof Map) {
    const ea = [...a];
    const eb = [...(b as Map<unknown, unknown>)];
    expect(eb.length, `${path}: size`).toBe(ea.length);
    ea.forEach(([k, v], i) => {
      same(k, eb[i]![0], `${path}.keys()[${i}]`);
      same(v, eb[i]![1], `${path}.values()[${i}]`);
    });
  } else if (a instanceof Set) {
    const ea = [...a];
    const eb = [...(b as Set<unknown>)];
    expect(eb.length, `${path}: size`).toBe(ea.length);
    ea.forEach((v, i) => same(v, eb[i], `${path}.values()[${i}]`));
  } else if (Array.isArray(a)) {
    expect((b as unknown[]).length, `${path}: length`).toBe(a.length);
    for (let i = 0; i < a.length; i++) same(a[i], (b as unknown[])[i], `${path}[${i}]`);
  } else {
    expect(Object.keys(b), `${path}: keys`).toEqual(Object.keys(a));
    for (const k of Object.keys(a)) same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
  }
}

export function roundTrip(v: unknown): unknown {
  return deserializeValue(serializeValue(v));
}

export const NUMBERS = [
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

export const STRINGS = [
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
  '€'.repeat(43),
  'x'.repeat(127),
  'x'.repeat(128),
  '日'.repeat(64),
  '日'.repeat(65),
  'x'.repeat(100_000),
  '😀'.repeat(30_000),
  '\ud800',
  'a\udc00b',
  'end\ud83d',
  '\ude00\ud83d',
  'long\ud800' + 'z'.repeat(100),
  '😀'.repeat(50) + '\ud800',
];

export function randomString(r: () => number): string {
  const alphabet = ['a', 'b', 'Z', ' ', '_', 'é', '€', '日', '😀', '\u0000', '\ufeff', '\ud800'];
  const n = Math.floor(r() * (r() < 0.05 ? 200 : 12));
  let s = '';
  for (let i = 0; i < n; i++) s += r() < 0.7 ? String.fromCharCode(97 + Math.floor(r() * 26)) : alphabet[Math.floor(r() * alphabet.length)];
  return s;
}

export function randomNumber(r: () => number): number {
  const pick = r();
  if (pick < 0.3) return Math.floor(r() * 200) - 100;
  if (pick < 0.5) return NUMBERS[Math.floor(r() * NUMBERS.length)]!;
  if (pick < 0.7) return Math.floor((r() - 0.5) * 2 ** Math.floor(r() * 60));
  return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
}

export function randomValue(r: () => number, depth = 0): unknown {
  const leaf = depth >= 4 || r() < 0.45;
  if (leaf) {
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
        const ctors = [Uint8Array, Int16Array, Float64Array, Uint32Array, Int8Array] as const;
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
      return Array.from({ length: n }, () => randomValue(r, depth + 1));
    case 1: {
      const o: Record<string, unknown> = r() < 0.2 ? Object.create(null) : {};
      for (let i = 0; i < n; i++) o[r() < 0.2 ? String(Math.floor(r() * 10)) : randomString(r)] = randomValue(r, depth + 1);
      return o;
    }
    case 2:
      return new Map(Array.from({ length: n }, () => [randomValue(r, depth + 1), randomValue(r, depth + 1)]));
    case 3:
      return new Set(Array.from({ length: n }, () => randomValue(r, depth + 1)));
    default:
      return { id: Math.floor(r() * 1e6), name: randomString(r), at: Math.floor(r() * 2 ** 41), tags: [randomString(r)] };
  }
}

/** The rule every refused value's message ends with. */
export const RULE = 'state values must be structured data (plain objects, arrays, Map, Set, Date, primitives, bigint, Uint8Array)';
