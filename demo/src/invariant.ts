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
  /** The newest committed windows (for latency). */
  readonly newest: readonly CommittedWindow[];
}

/** Checks windows (sorted by start) and the number of duplicates found. */
export function judge(windows: readonly CommittedWindow[], duplicates: number, generated: number): Verdict {
  const problems: string[] = [];
  windows.forEach((w, k) => {
    if (problems.length >= 5) return;
    if (w.start !== k * 1000) problems.push(`window ${k} starts at ${w.start} ms, expected ${k * 1000} ms: a window is missing`);
    const cards = Object.keys(w.counts);
    if (cards.length !== CARDS) problems.push(`window [${w.start}, ${w.start + 1000}) has ${cards.length} cards, expected ${CARDS}`);
    for (const c of cards)
      if (w.counts[c] !== PER_CARD_PER_SECOND) {
        problems.push(`window [${w.start}, ${w.start + 1000}) of ${c} counts ${w.counts[c]}, expected ${PER_CARD_PER_SECOND}`);
        break;
      }
  });
  if (duplicates > 0) problems.push(`${duplicates} window(s) committed twice`);
  const committed = windows.reduce((a, w) => a + Object.values(w.counts).reduce((x, y) => x + y, 0), 0);
  if (committed !== windows.length * PER_SECOND) problems.push(`${committed} transactions committed, expected ${windows.length} × ${PER_SECOND}`);
  if (committed > generated && generated > 0) problems.push(`${committed} transactions committed but only ${generated} generated`);
  return { ok: problems.length === 0, windows: windows.length, committedTransactions: committed, duplicates, problems, newest: windows.slice(-5) };
}

/** Reads a job's committed output incrementally (only windows newer than the last read). */
export class OutputReader {
  private readonly windows: CommittedWindow[] = [];
  private db: ReturnType<typeof openOutput> | undefined;
  constructor(readonly jobName: string) {}

  async read(generated: number): Promise<Verdict> {
    const db = await (this.db ??= openOutput(this.jobName));
    const last = this.windows.at(-1)?.start;
    const fresh = await db.getAll('windows', last === undefined ? undefined : IDBKeyRange.lowerBound(last, true));
    this.windows.push(...fresh);
    return judge(this.windows, await db.count('duplicates'), generated);
  }

  async close(): Promise<void> {
    (await this.db)?.close();
  }
}
