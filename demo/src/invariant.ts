/**
 * The check anyone can read off the page: every committed 1-second window holds exactly
 * PER_CARD_PER_SECOND transactions of each of the CARDS cards, windows are committed
 * without a gap from the first second on, none is committed twice, and the committed
 * transactions add up to whole seconds of what the generator produced. A lost
 * transaction makes some count too small or leaves a gap; a duplicated one makes a count
 * too large or a window appear twice.
 */
import { CARDS, PER_CARD_PER_SECOND, PER_SECOND } from './scenario.ts';

/** One closed window: event-time start, transactions per card, and when its newest transaction was generated. */
export interface WindowSummary {
  readonly start: number;
  readonly counts: Record<string, number>;
  /** Largest generation wall-clock time among its transactions. */
  readonly lastAt: number;
  /** Wall-clock time the window fired. */
  readonly firedAt: number;
}

/** The verdict on the committed output. */
export interface Verdict {
  readonly ok: boolean;
  readonly windows: number;
  readonly committedTransactions: number;
  readonly duplicates: number;
  /** The first few violations, in words. */
  readonly problems: readonly string[];
  /** The newest committed window (for latency). */
  readonly newest?: JudgedWindow;
}

/** A committed window and when the sink committed it. */
export interface JudgedWindow extends WindowSummary {
  /** Written by the sink in the commit's own IndexedDB transaction (`IndexedDbSinkEntry.committedAt`). */
  readonly committedAt?: number;
}

/** Checks windows as they come (in commit order, which is event-time order), each once. */
export class Judge {
  private windows = 0;
  private committed = 0;
  private duplicates = 0;
  private readonly problems: string[] = [];
  private newest: JudgedWindow | undefined;

  /** Takes the next committed windows. */
  add(fresh: readonly JudgedWindow[]): void {
    const problem = (text: string) => this.problems.length < 5 && this.problems.push(text);
    for (const w of fresh) {
      // A window that starts before the next expected one was committed already: a duplicate.
      if (w.start < this.windows * 1000) {
        this.duplicates++;
        continue;
      }
      const k = this.windows++;
      if (w.start !== k * 1000) problem(`window ${k} starts at ${w.start} ms, expected ${k * 1000} ms: a window is missing`);
      const cards = Object.keys(w.counts);
      if (cards.length !== CARDS) problem(`window [${w.start}, ${w.start + 1000}) has ${cards.length} cards, expected ${CARDS}`);
      for (const c of cards) {
        this.committed += w.counts[c]!;
        if (w.counts[c] !== PER_CARD_PER_SECOND)
          problem(`window [${w.start}, ${w.start + 1000}) of ${c} counts ${w.counts[c]}, expected ${PER_CARD_PER_SECOND}`);
      }
      this.newest = w;
    }
  }

  /** The verdict so far, given what the generator produced. */
  verdict(generated: number): Verdict {
    const { duplicates } = this;
    const problems = [...this.problems];
    if (duplicates > 0) problems.push(`${duplicates} window(s) committed twice`);
    if (this.committed !== this.windows * PER_SECOND) problems.push(`${this.committed} transactions committed, expected ${this.windows} × ${PER_SECOND}`);
    if (this.committed > generated && generated > 0) problems.push(`${this.committed} transactions committed but only ${generated} generated`);
    return { ok: problems.length === 0, windows: this.windows, committedTransactions: this.committed, duplicates, problems, newest: this.newest };
  }
}
