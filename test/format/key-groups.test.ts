import { describe, expect, it } from 'vitest';
import { ConfigurationError, EddyError } from '../../src/api/errors.ts';
import { hashKey, keyGroupForKey, keyGroupRangeForSubtask, subtaskForKeyGroup, KeyGroupRange, DEFAULT_MAX_PARALLELISM } from '../../src/format/key-groups.ts';
import { prng } from '../helpers/prng.ts';
import { randomKey } from './key-helpers.ts';

describe('key groups', () => {
  it('keyGroupForKey is the hash modulo maxParallelism', () => {
    const r = prng(3);
    for (let i = 0; i < 500; i++) {
      const key = randomKey(r);
      for (const maxP of [1, 7, 128, 32768]) expect(keyGroupForKey(key, maxP)).toBe(hashKey(key) % maxP);
    }
  });

  it.each([0, -1, 1.5, NaN, 32769])('keyGroupForKey rejects maxParallelism %s', (maxP) => {
    expect(() => keyGroupForKey('a', maxP)).toThrow(ConfigurationError);
  });

  it('ranges of all subtasks partition [0, maxP) and agree with subtaskForKeyGroup', () => {
    for (const maxP of [1, 7, 128, 1000]) {
      for (let p = 1; p <= Math.min(maxP, 50); p++) {
        let next = 0;
        for (let i = 0; i < p; i++) {
          const range = keyGroupRangeForSubtask(maxP, p, i);
          expect(range.start).toBe(next);
          expect(range.size).toBeGreaterThan(0);
          for (const kg of range) expect(subtaskForKeyGroup(maxP, p, kg)).toBe(i);
          next = range.end + 1;
        }
        expect(next).toBe(maxP);
      }
    }
  });

  it('matches Flink for maxParallelism 128 at parallelism 3', () => {
    const ranges = [0, 1, 2].map((i) => keyGroupRangeForSubtask(128, 3, i));
    expect(ranges.map((r) => [r.start, r.end])).toEqual([
      [0, 42],
      [43, 85],
      [86, 127],
    ]);
    expect(DEFAULT_MAX_PARALLELISM).toBe(128);
  });

  it('rejects impossible parallelism, subtask index and key group', () => {
    expect(() => keyGroupRangeForSubtask(128, 0, 0)).toThrow(ConfigurationError);
    expect(() => keyGroupRangeForSubtask(128, 129, 0)).toThrow(ConfigurationError);
    expect(() => keyGroupRangeForSubtask(0, 1, 0)).toThrow(ConfigurationError);
    expect(() => keyGroupRangeForSubtask(128, 4, 4)).toThrow(EddyError);
    expect(() => keyGroupRangeForSubtask(128, 4, -1)).toThrow(EddyError);
    expect(() => subtaskForKeyGroup(128, 4, 128)).toThrow(EddyError);
    expect(() => subtaskForKeyGroup(128, 4, 1.5)).toThrow(EddyError);
  });
});

describe('KeyGroupRange', () => {
  it('is inclusive at both ends', () => {
    const r = KeyGroupRange.of(3, 5);
    expect([r.start, r.end, r.size]).toEqual([3, 5, 3]);
    expect([2, 3, 4, 5, 6].map((kg) => r.contains(kg))).toEqual([false, true, true, true, false]);
    expect([...r]).toEqual([3, 4, 5]);
  });

  it('EMPTY contains nothing, and of(start, end < start) is EMPTY', () => {
    expect(KeyGroupRange.EMPTY.size).toBe(0);
    expect(KeyGroupRange.EMPTY.contains(0)).toBe(false);
    expect([...KeyGroupRange.EMPTY]).toEqual([]);
    expect(KeyGroupRange.of(4, 3)).toBe(KeyGroupRange.EMPTY);
  });

  it('intersects and compares ranges', () => {
    expect(KeyGroupRange.of(0, 10).intersection(KeyGroupRange.of(5, 20)).equals(KeyGroupRange.of(5, 10))).toBe(true);
    expect(KeyGroupRange.of(0, 4).intersection(KeyGroupRange.of(5, 20))).toBe(KeyGroupRange.EMPTY);
    expect(KeyGroupRange.of(1, 2).equals(KeyGroupRange.of(1, 3))).toBe(false);
    expect(KeyGroupRange.of(1, 2).toString()).toBe('KeyGroupRange(1..2)');
  });

  it('rejects negative or fractional bounds', () => {
    expect(() => KeyGroupRange.of(-1, 3)).toThrow(EddyError);
    expect(() => KeyGroupRange.of(0.5, 3)).toThrow(EddyError);
  });
});
