/**
 * The portable runner (vitest-shim.ts) that runs the conformance suites in workerd and
 * Deno: pinned here, under vitest, by importing it directly (no alias), so that a runner
 * that passes a failing case or mis-orders hooks cannot make those runs green.
 */
import { describe as vDescribe, expect as vExpect, it as vIt } from 'vitest';
import { afterEach, beforeEach, collectCases, describe, expect, it, runCases } from './vitest-shim.ts';

vDescribe('portable vitest stand-in', () => {
  vIt('collects cases in declaration order with vitest-style names and runs hooks outer-first before, inner-first after', async () => {
    const log: string[] = [];
    const cases = collectCases(() => {
      describe('outer', () => {
        beforeEach(() => {
          log.push('before outer');
          return () => log.push('cleanup outer');
        });
        afterEach(() => void log.push('after outer'));
        describe('inner', () => {
          beforeEach(() => void log.push('before inner'));
          afterEach(() => void log.push('after inner'));
          it('a', () => void log.push('a'));
        });
        it('b', async () => void log.push('b'));
      });
    });
    vExpect(cases.map((c) => c.name)).toEqual(['outer > inner > a', 'outer > b']);
    const results = await runCases(cases);
    vExpect(results.map((r) => r.status)).toEqual(['passed', 'passed']);
    vExpect(log).toEqual([
      'before outer',
      'before inner',
      'a',
      'cleanup outer',
      'after inner',
      'after outer',
      'before outer',
      'b',
      'cleanup outer',
      'after outer',
    ]);
  });

  vIt("expect is vitest's: a failed matcher fails the case with the matcher's message, and afterEach still runs", async () => {
    let cleaned = 0;
    const cases = collectCases(() => {
      describe('s', () => {
        afterEach(() => void cleaned++);
        it('equal', () => expect({ a: [1, 2] }).toEqual({ a: [1, 2] }));
        it('unequal', () => expect({ a: [1, 2] }, 'the note').toEqual({ a: [1, 3] }));
        it('throws', () => expect(() => JSON.parse('{')).toThrow(SyntaxError));
        it('rejects late', async () => {
          await new Promise((r) => setTimeout(r, 5));
          expect(1).toBe(2);
        });
      });
    });
    const results = await runCases(cases);
    vExpect(results.map((r) => [r.name, r.status])).toEqual([
      ['s > equal', 'passed'],
      ['s > unequal', 'failed'],
      ['s > throws', 'passed'],
      ['s > rejects late', 'failed'],
    ]);
    vExpect(results[1]!.error).toContain('the note');
    vExpect(results[1]!.error).toContain('expected { a: [ 1, 2 ] } to deeply equal { a: [ 1, 3 ] }');
    vExpect(results[3]!.error).toContain('expected 1 to be 2');
    vExpect(cleaned).toBe(4);
  });

  vIt('a failing beforeEach fails the case without running it; skips say why; a hang times out naming the case', async () => {
    let ran = false;
    const cases = collectCases(() => {
      describe('s', () => {
        describe('broken setup', () => {
          beforeEach(() => {
            throw new Error('setup broke');
          });
          it('never runs', () => void (ran = true));
        });
        // Skips on purpose: this is the stand-in runner's `it.skip` under test (a fixture, not a
        // vitest test), and the cases below check that it reports each kind of skip as skipped.
        it.skip('skipped', () => {});
        it.skipIf(true)('skipped if', () => {});
        it.skipIf(false)('not skipped if', () => {});
        it('skips itself', ({ skip }) => skip(true, 'no cursor'));
        it('does not skip itself', ({ skip }) => skip(false, 'no cursor'));
        it('hangs', () => new Promise(() => {}), 50);
      });
    });
    const results = await runCases(cases);
    vExpect(ran).toBe(false);
    vExpect(results.map((r) => [r.name, r.status, r.status === 'passed' ? undefined : r.error?.split('\n')[0]])).toEqual([
      ['s > broken setup > never runs', 'failed', 'Error: setup broke'],
      ['s > skipped', 'skipped', 'it.skip'],
      ['s > skipped if', 'skipped', 'it.skipIf(true)'],
      ['s > not skipped if', 'passed', undefined],
      ['s > skips itself', 'skipped', 'no cursor'],
      ['s > does not skip itself', 'passed', undefined],
      ['s > hangs', 'failed', 'Error: test timed out after 50 ms'],
    ]);
  });

  vIt("it takes vitest's (name, options, fn) as well as (name, fn, timeout)", async () => {
    const cases = collectCases(() => {
      it('options first', { timeout: 40 }, () => new Promise(() => {}));
      it('timeout last', () => new Promise(() => {}), 30);
    });
    vExpect(cases.map((c) => c.timeoutMs)).toEqual([40, 30]);
    const results = await runCases(cases);
    vExpect(results.map((r) => r.error?.split('\n')[0])).toEqual(['Error: test timed out after 40 ms', 'Error: test timed out after 30 ms']);
  });

  vIt('describe and it are refused outside collectCases', () => {
    vExpect(() => it('x', () => {})).toThrow(/only allowed while collectCases/);
    vExpect(() => describe('x', () => {})).toThrow(/only allowed while collectCases/);
  });
});
