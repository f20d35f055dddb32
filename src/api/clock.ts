/**
 * Processing time. Timers and TTL read the time from the environment's clock, so a test
 * can move time by hand with {@link ManualClock}; the default is the system clock.
 */

/** A source of processing time, in milliseconds since the epoch (or any fixed origin). */
export interface Clock {
  now(): number;
}

/** A clock whose changes can be observed, so that due timers fire when it moves. */
export interface ObservableClock extends Clock {
  /** Calls `listener` after every change of the time; returns the unsubscribe function. */
  subscribe(listener: (now: number) => void): () => void;
}

/** True for clocks that announce their changes (such as {@link ManualClock}). */
export function isObservableClock(clock: Clock): clock is ObservableClock {
  return typeof (clock as Partial<ObservableClock>).subscribe === 'function';
}

/** Wall-clock time (`Date.now()`). */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
}

/**
 * A clock that only moves when told to. Moving it fires the processing-time timers that
 * became due (they run in their operator's turn, right after the current record).
 */
export class ManualClock implements ObservableClock {
  private time: number;
  private readonly listeners = new Set<(now: number) => void>();

  constructor(startMs = 0) {
    this.time = checkTime(startMs);
  }

  now(): number {
    return this.time;
  }

  /** Sets the time; it may not go backwards. */
  set(ms: number): void {
    checkTime(ms);
    if (ms < this.time) throw new RangeError(`[eddy] [clock:manual] time cannot go backwards (from ${this.time} to ${ms})`);
    this.time = ms;
    for (const l of [...this.listeners]) l(ms);
  }

  /** Moves the time forward by `ms`. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`[eddy] [clock:manual] advance() takes a non-negative number of ms, got ${ms}`);
    this.set(this.time + ms);
  }

  subscribe(listener: (now: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function checkTime(ms: number): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new RangeError(`[eddy] [clock:manual] time must be a finite number of ms, got ${String(ms)}`);
  return ms;
}
