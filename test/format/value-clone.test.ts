import { describe, expect, it } from 'vitest';
import { cloneValue } from '../../src/format/value-clone.ts';
import { deserializeValue, serializeValue } from '../../src/format/value-codec.ts';
import { prng } from '../helpers/prng.ts';
import { same, roundTrip, randomValue } from './value-helpers.ts';

describe('cloneValue', () => {
  it('returns primitives as they are', () => {
    for (const v of [undefined, null, 0, -0, NaN, 'x', 1n, true]) expect(Object.is(cloneValue(v), v)).toBe(true);
  });

  it('deep-copies so that mutating the copy leaves the original alone', () => {
    const v = { list: [1, { x: 2 }], m: new Map([['k', [1]]]), s: new Set([[1]]), d: new Date(1), u: new Uint8Array([1]) };
    const c = cloneValue(v);
    same(v, c);
    (c.list[1] as { x: number }).x = 99;
    c.m.get('k')!.push(2);
    c.d.setTime(5);
    c.u[0] = 9;
    expect((v.list[1] as { x: number }).x).toBe(2);
    expect(v.m.get('k')).toEqual([1]);
    expect(v.d.getTime()).toBe(1);
    expect(v.u[0]).toBe(1);
  });

  it('equals deserializeValue(serializeValue(v)) for random values', () => {
    const r = prng(3);
    for (let i = 0; i < 500; i++) {
      const v = randomValue(r);
      same(roundTrip(v), cloneValue(v));
    }
  });
});
