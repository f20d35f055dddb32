/**
 * The demo's invariant (demo/src/invariant.ts) catches what it promises to: a lost
 * transaction, a duplicated one, a missing window, a window committed twice. Pure: the
 * judge is fed committed windows as the page reads them.
 */
import { describe, expect, it } from 'vitest';
import { Judge } from '../../demo/src/invariant.ts';
import type { CommittedWindow } from '../../demo/src/output-db.ts';
import { CARDS, cardName, cardOf, eventTimeOf, PER_CARD_PER_SECOND, PER_SECOND } from '../../demo/src/scenario.ts';

/** Window `k` as the job commits it when nothing went wrong. */
function second(k: number, change?: (counts: Record<string, number>) => void): CommittedWindow {
  const counts: Record<string, number> = {};
  for (let i = k * PER_SECOND; i < (k + 1) * PER_SECOND; i++) counts[cardName(cardOf(i))] = (counts[cardName(cardOf(i))] ?? 0) + 1;
  change?.(counts);
  return { start: k * 1000, counts, lastAt: 0, firedAt: 0, committedAt: 0, txn: `t${k}` };
}

const verdictOf = (windows: CommittedWindow[], duplicates = 0, generated = 1e9) => {
  const judge = new Judge();
  judge.add(windows);
  return judge.verdict(duplicates, generated);
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
    const v = judge.verdict(0, 3500);
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
    const twice = verdictOf([second(0)], 1);
    expect(twice.problems.join()).toMatch(/committed twice/);
    const ahead = verdictOf([second(0), second(1)], 0, 1500);
    expect(ahead.problems.join()).toMatch(/only 1500 generated/);
  });
});
