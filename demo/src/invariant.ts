/**
 * The check anyone can read off the page: every committed 1-second window holds exactly
 * PER_CARD_PER_SECOND transactions of each of the CARDS cards, windows are committed
 * without a gap from the first second on, none is committed twice, and the committed
 * transactions add up to whole seconds of what the generator produced. A lost
 * transaction makes some count too small or leaves a gap; a duplicated one makes a count
 * too large or a window appear twice.
 */
import { openOutput, type CommittedWindow } from './output-db.ts';
import { CARDS, PER_CARD_PER_SECOND, PER_SECOND } from './scenario.ts';

/** The verdict on the committed output. */
export interface Verdict {
  readonly ok: boolean;
  readonly windows: number;
  readonly committedTransactions: number;
  readonly duplicates: number;
  /** The first few violations, in words. */
  readonly problems: readonly string[];
  /** The newest committed window (for latency). */
  readonly newest?: CommittedWindow;
}

/** Checks windows as they come (in commit order, which is event-time order), each once. */
export class Judge {
  private windows = 0;
  private committed = 0;
  private readonly problems: string[] = [];
  private newest: CommittedWindow | undefined;

  /** Takes the next committed windows. */
  add(fresh: readonly CommittedWindow[]): void {
    for (const w of fresh) {
      const k = this.windows++;
      const problem = (text: string) => this.problems.length < 5 && this.problems.push(text);
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

  /** The verdict so far, given the duplicates found and what the generator produced. */
  verdict(duplicates: number, generated: number): Verdict {
    const problems = [...this.problems];
    if (duplicates > 0) problems.push(`${duplicates} window(s) committed twice`);
    if (this.committed !== this.windows * PER_SECOND) problems.push(`${this.committed} transactions committed, expected ${this.windows} × ${PER_SECOND}`);
    if (this.committed > generated && generated > 0) problems.push(`${this.committed} transactions committed but only ${generated} generated`);
    return { ok: problems.length === 0, windows: this.windows, committedTransactions: this.committed, duplicates, problems, newest: this.newest };
  }
}

/** Reads a job's committed output incrementally (only windows newer than the last read). */
export class OutputReader {
  private readonly judge = new Judge();
  private last: number | undefined;
  private db: ReturnType<typeof openOutput> | undefined;
  constructor(readonly jobName: string) {}

  async read(generated: number): Promise<Verdict> {
    const db = await (this.db ??= openOutput(this.jobName));
    const fresh = await db.getAll('windows', this.last === undefined ? undefined : IDBKeyRange.lowerBound(this.last, true));
    this.judge.add(fresh);
    this.last = fresh.at(-1)?.start ?? this.last;
    return this.judge.verdict(await db.count('duplicates'), generated);
  }

  async close(): Promise<void> {
    (await this.db)?.close();
  }
}
