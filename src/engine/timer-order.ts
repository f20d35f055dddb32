/**
 * The firing order of one domain's timers: (timestamp, registration order).
 *
 * Timers mostly arrive in that order already: many keys at one timestamp (the end of
 * input, a window's end), or at `now + interval`. Those go to a run, an array sorted by
 * construction, where appending and taking the first cost O(1) and touch memory in order
 * (a heap costs O(log n) per timer taken, all of it scattered reads). Only a timer earlier
 * than the run's last goes to a min-heap; the next timer is the smaller of the two fronts.
 */
import type { Timer } from './timer-snapshots.ts';

/**
 * `Timer.endedIn` of a pending timer: above every epoch (one per capture), and a small
 * integer, so that the field holds no boxed number per timer as `Infinity` would.
 */
export const LIVE = 2 ** 30 - 1;

/** Pending timers in firing order; ended ones are dropped as they reach the front. */
export class TimerOrder {
  private heap: Timer[] = [];
  /** Timers in firing order from `runHead` on (the slots before it were taken). */
  private run: Array<Timer | undefined> = [];
  private runHead = 0;
  /** The timestamp of the run's last timer (kept here: reading it is then no read of a timer). */
  private runLast = 0;
  /** Whether the timer {@link front} returned is the run's (else the heap's). */
  private frontInRun = false;

  /** Adds a timer registered after every timer already in (its `seq` is the largest). */
  push(t: Timer): void {
    const run = this.run;
    // Not before the run's last, nor among equal timestamps (seq only grows): the run stays sorted.
    if (run.length === this.runHead || t.timestamp >= this.runLast) {
      run.push(t);
      this.runLast = t.timestamp;
    } else this.rise(t, this.heap.push(t) - 1);
  }

  /** The earliest pending timer, if any; ended timers met on the way are dropped. */
  front(): Timer | undefined {
    for (;;) {
      const r = this.runHead < this.run.length ? this.run[this.runHead] : undefined;
      const h = this.heap.length > 0 ? this.heap[0] : undefined;
      const inRun = r !== undefined && (h === undefined || less(r, h));
      const t = inRun ? r : h;
      if (t === undefined || t.endedIn === LIVE) {
        this.frontInRun = inRun;
        return t;
      }
      if (inRun) this.shiftRun();
      else this.pop();
    }
  }

  /** Removes the timer the last {@link front} call returned. */
  take(): void {
    if (this.frontInRun) this.shiftRun();
    else this.pop();
  }

  /** Every timer held (pending, or ended and not yet dropped), in no order: a plain array copy. */
  toArray(): Timer[] {
    return this.heap.concat((this.runHead === 0 ? this.run : this.run.slice(this.runHead)) as Timer[]);
  }

  /** Removes the run's first timer; the array is replaced once mostly taken, so it neither grows nor holds fired timers for long. */
  private shiftRun(): void {
    const run = this.run;
    run[this.runHead++] = undefined;
    const head = this.runHead;
    if (head === run.length) {
      this.run = [];
      this.runHead = 0;
    } else if (head >= 1024 && head * 2 >= run.length) {
      this.run = run.slice(head);
      this.runHead = 0;
    }
  }

  /** Puts `t` into the hole at `i`, or above it while it sorts before the parent. */
  private rise(t: Timer, i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(t, h[parent])) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = t;
  }

  /**
   * Removes the heap's top. The hole it leaves walks down along the smaller children to a
   * leaf and the last element rises from there: the last element nearly always belongs near
   * the bottom, so this takes about half the comparisons of sifting it down from the top.
   */
  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    const n = h.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && less(h[child + 1], h[child])) child++;
      h[i] = h[child];
      i = child;
    }
    this.rise(last, i);
  }
}

function less(a: Timer, b: Timer): boolean {
  return a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.seq < b.seq);
}
