/**
 * The job's exactly-once output: each closed 1-second window, with the count of every
 * card, written by eddy's own `IndexedDbSink` (a `TwoPhaseCommitSink`): a checkpoint's
 * windows become visible in its `committed` store when the checkpoint completes. The host
 * worker tails that store (`readIndexedDbSinkAfter`) and judges each window once, so the
 * page never reads IndexedDB itself.
 */
import { readIndexedDbSinkAfter } from 'eddy';
import { Judge, type Verdict, type WindowSummary } from './invariant.ts';

/** The output database of a job (the sink's `database`). */
export function outputDatabaseName(jobName: string): string {
  return `eddy-demo-output:${jobName}`;
}

/** Windows judged per read at most: a resumed page catches up over a few reads, none of them long. */
const PAGE = 500;

/** Tails a job's committed output and keeps the verdict on it. */
export class OutputReader {
  private readonly judge = new Judge();
  private last: readonly [string, number] | undefined;
  /** Reads one at a time: two overlapping reads from the same key would judge a window twice. */
  private reading: Promise<unknown> = Promise.resolve();
  constructor(readonly jobName: string) {}

  /** Judges the windows committed since the last read; `generated` is what the source produced so far. */
  read(generated: number): Promise<Verdict> {
    const next = this.reading.then(() => this.readMore(generated));
    this.reading = next.catch(() => undefined);
    return next;
  }

  private async readMore(generated: number): Promise<Verdict> {
    const fresh = await readIndexedDbSinkAfter<WindowSummary>(outputDatabaseName(this.jobName), this.last, PAGE);
    this.judge.add(fresh.map((e) => ({ ...e.value, committedAt: e.committedAt })));
    this.last = fresh.at(-1)?.key ?? this.last;
    return this.judge.verdict(generated);
  }
}
