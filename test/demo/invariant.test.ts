/**
 * The demo's invariant (demo/src/invariant.ts) catches what it promises to: a lost
 * transaction, a duplicated one, a missing window, a window committed twice. Pure: the
 * judge is fed committed windows as the page reads them.
 */
import { describe, expect, it } from 'vitest';
import { Judge, type JudgedWindow } from '../../demo/src/invariant.ts';
import { CARDS, cardName, cardOf, eventTimeOf, PER_CARD_PER_SECOND, PER_SECOND } from '../../demo/src/scenario.ts';

/** Window `k` as the job commits it when nothing went wrong. */
function second(k: number, change?: (counts: Record<string, number>) => void): JudgedWindow {
  const counts: Record<string, number> = {};
  for (let i = k * PER_SECOND; i < (k + 1) * PER_SECOND; i++) counts[cardName(cardOf(i))] = (counts[cardName(cardOf(i))] ?? 0) + 1;
  change?.(counts);
  return { start: k * 1000, counts, lastAt: 0, firedAt: 0 };
}

const verdictOf = (windows: JudgedWindow[], generated = 1e9) => {
  const judge = new Judge();
  judge.add(windows);
  return judge.verdict(generated);
};

describe('the demo invariant', () => {
  it('the generator puts exactly PER_CARD_PER_SECOND transactions of each card into every second of event time', () => {
    for (const k of [0, 1, 17]) {
      const w = second(k);
      expect(Object.keys(w.counts)).toHaveLength(CARDS);
      expect(new Set(Object.values(w.counts))).toEqual(new Set([PER_CARD_PER_SECOND]));
      expect(eventTimeOf(k * PER_SECOND)).toBe(k * 1000);
      expect(eventTimeOf((k + 1) * PER_SECOND - 1)).toBeLessThan((k + 1) * 1000);
    }
  });

  it('holds for failure-free output, also when fed in several reads', () => {
    const judge = new Judge();
    judge.add([second(0), second(1)]);
    judge.add([second(2)]);
    const v = judge.verdict(3500);
    expect(v).toMatchObject({ ok: true, windows: 3, committedTransactions: 3 * PER_SECOND, problems: [] });
  });

  it('breaks on a lost transaction, a duplicated one, a missing window, a window committed twice, or more committed than generated', () => {
    const lost = verdictOf([second(0), second(1, (c) => c['card-007']!--)]);
    expect(lost.ok).toBe(false);
    expect(lost.problems.join()).toMatch(/card-007 counts 9, expected 10/);
    const doubled = verdictOf([second(0, (c) => c['card-042']!++)]);
    expect(doubled.problems.join()).toMatch(/card-042 counts 11/);
    const gap = verdictOf([second(0), second(2)]);
    expect(gap.problems.join()).toMatch(/a window is missing/);
    // The same window again, in a later read too (a replayed transaction the sink did not deduplicate).
    const judge = new Judge();
    judge.add([second(0), second(1)]);
    judge.add([second(1), second(2)]);
    const twice = judge.verdict(1e9);
    expect(twice).toMatchObject({ ok: false, windows: 3, duplicates: 1, committedTransactions: 3 * PER_SECOND });
    expect(twice.problems.join()).toMatch(/1 window\(s\) committed twice/);
    const ahead = verdictOf([second(0), second(1)], 1500);
    expect(ahead.problems.join()).toMatch(/only 1500 generated/);
  });
});
