import { describe, expect, it } from 'vitest';
import { StateError } from '../../src/api/errors.ts';
import { ByteReader, ByteWriter } from '../../src/format/bytes.ts';
import { unserializableProblem } from '../../src/format/value-check.ts';
import { cloneValue } from '../../src/format/value-clone.ts';
import { decodeValue, encodeValue, serializeValue } from '../../src/format/value-codec.ts';
import { prng } from '../helpers/prng.ts';
import { same, roundTrip, randomValue, RULE } from './value-helpers.ts';

describe('unsupported values', () => {
  class Account {
    balance = 1;
  }
  class MyArray extends Array {}
  const cases: Array<[string, () => unknown, string]> = [
    ['a function in an array', () => ({ handlers: [1, 2, () => 3] }), '$.handlers[2] is a function'],
    ['a top-level function', () => () => 1, '$ is a function'],
    ['a symbol', () => ({ s: Symbol('x') }), '$.s is a symbol'],
    ['a class instance', () => ({ acct: new Account() }), '$.acct is an instance of Account'],
    ['a WeakMap', () => [new WeakMap()], '$[0] is an instance of WeakMap'],
    ['a Promise', () => ({ p: Promise.resolve(1) }), '$.p is an instance of Promise'],
    ['an Array subclass', () => ({ list: new MyArray() }), '$.list is an instance of MyArray'],
    ['symbol keys', () => ({ nested: { [Symbol('k')]: 1 } }), '$.nested is an object with symbol keys'],
    ['an odd property name', () => ({ 'a b': { 'c-d': [() => 0] } }), '$["a b"]["c-d"][0] is a function'],
    ['a Map value', () => new Map([['k', new Account()]]), '$.get("k") is an instance of Account'],
    ['a Map value under a number key', () => new Map([[5, () => 0]]), '$.get(5) is a function'],
    ['a Map value under an object key', () => new Map([[{}, () => 0]]), '$.values()[0] is a function'],
    [
      'a Map key',
      () =>
        new Map<unknown, unknown>([
          [1, 1],
          [Symbol('k'), 2],
        ]),
      '$.keys()[1] is a symbol',
    ],
    ['a Set element', () => new Set([1, 2, new WeakSet()]), '$.values()[2] is an instance of WeakSet'],
  ];

  it.each(cases)('names the path of %s', (_name, make, expected) => {
    const message = `value at ${expected}; ${RULE}`;
    expect(unserializableProblem(make())).toBe(message);
    for (const f of [serializeValue, cloneValue, (v: unknown) => encodeValue(new ByteWriter(), v)]) {
      let caught: unknown;
      try {
        f(make());
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(StateError);
      expect((caught as StateError).code).toBe('UNSERIALIZABLE_VALUE');
      expect((caught as StateError).message).toBe(`[eddy] [codec] ${message}`);
    }
  });

  it('accepts every supported value in unserializableProblem', () => {
    const r = prng(2);
    for (let i = 0; i < 300; i++) expect(unserializableProblem(randomValue(r))).toBeUndefined();
    for (const v of [undefined, null, 0, 'x', 1n, true]) expect(unserializableProblem(v)).toBeUndefined();
  });

  it('ignores non-enumerable symbol properties, as it ignores non-enumerable strings', () => {
    const v = { a: 1 };
    Object.defineProperty(v, Symbol('meta'), { value: 1, enumerable: false });
    Object.defineProperty(v, 'hidden', { value: 2, enumerable: false });
    expect(unserializableProblem(v)).toBeUndefined();
    same({ a: 1 }, roundTrip(v));
  });

  it('detects cycles through objects, arrays, Map values, Map keys and Sets', () => {
    const self: Record<string, unknown> = {};
    self.me = self;
    const deep: { a: { b: Record<string, unknown> } } = { a: { b: {} } };
    deep.a.b.c = deep.a;
    const arr: unknown[] = [1];
    arr.push([arr]);
    const map = new Map<unknown, unknown>();
    map.set('loop', { m: map });
    const keyCycle = new Map<unknown, unknown>();
    keyCycle.set([keyCycle], 1);
    const set = new Set<unknown>();
    set.add({ s: set });
    const cases: Array<[unknown, string]> = [
      [self, '$.me is a cyclic reference to $'],
      [deep, '$.a.b.c is a cyclic reference to $.a'],
      [arr, '$[1][0] is a cyclic reference to $'],
      [map, '$.get("loop").m is a cyclic reference to $'],
      [keyCycle, '$.keys()[0][0] is a cyclic reference to $'],
      [set, '$.values()[0].s is a cyclic reference to $'],
    ];
    for (const [v, expected] of cases) {
      expect(unserializableProblem(v)).toBe(`value at ${expected}; ${RULE}`);
      expect(() => serializeValue(v)).toThrow(expected);
      expect(() => cloneValue(v)).toThrow(expected);
    }
  });

  it('tracks cycles per walk, so a getter that serialises, clones or checks another value does not disturb it', () => {
    // Each walk reads the getter, which runs a walk of its own (one that succeeds, one that fails).
    const inner: Array<(v: unknown) => void> = [
      (v) => serializeValue(v),
      (v) => cloneValue(v),
      (v) => unserializableProblem(v),
      (v) => encodeValue(new ByteWriter(), v),
    ];
    for (const walk of inner) {
      const self: Record<string, unknown> = {
        get g(): number {
          walk({ other: [1, { deeper: 2 }] });
          try {
            walk({ bad: [() => 0] });
          } catch {
            // the failure is the inner walk's own business
          }
          return 1;
        },
      };
      self.me = self;
      const nested = {
        a: {
          get g(): number {
            walk([{ x: 1 }]);
            return 2;
          },
          b: {} as Record<string, unknown>,
        },
      };
      nested.a.b.back = nested.a;
      const cases: Array<[unknown, string]> = [
        [self, '$.me is a cyclic reference to $'],
        [nested, '$.a.b.back is a cyclic reference to $.a'],
      ];
      for (const [v, expected] of cases) {
        expect(unserializableProblem(v)).toBe(`value at ${expected}; ${RULE}`);
        expect(() => serializeValue(v)).toThrow(`[eddy] [codec] value at ${expected}; ${RULE}`);
        expect(() => cloneValue(v)).toThrow(`[eddy] [codec] value at ${expected}; ${RULE}`);
      }
    }
  });

  it('leaves the writer as it was when a value fails', () => {
    const w = new ByteWriter();
    encodeValue(w, 'before');
    const length = w.length;
    expect(() => encodeValue(w, { ok: 'x'.repeat(1000), bad: () => 0 })).toThrow(StateError);
    expect(w.length).toBe(length);
    encodeValue(w, 1);
    const r = new ByteReader(w.finish());
    expect(decodeValue(r)).toBe('before');
    expect(decodeValue(r)).toBe(1);
    expect(r.done).toBe(true);
  });

  it('handles nesting up to 256 levels and refuses deeper values with a clear error', () => {
    const nest = (levels: number): unknown => {
      let v: unknown = 'leaf';
      for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { v };
      return v;
    };
    const ok = nest(256);
    same(ok, roundTrip(ok));
    same(ok, cloneValue(ok));
    expect(unserializableProblem(ok)).toBeUndefined();
    const tooDeep = nest(257);
    expect(unserializableProblem(tooDeep)).toMatch(/^value at \$\.v\[0\].*….* is nested more than 256 levels deep;/u);
    expect(() => serializeValue(tooDeep)).toThrow(StateError);
    expect(() => cloneValue(tooDeep)).toThrow(StateError);
  });
});
