/**
 * Background work in slices (snapshot encoding after the synchronous capture): a slice
 * may keep the thread for {@link SLICE_MS}, then records, timers and I/O get a turn.
 */

/** How long one slice may keep the thread before other work gets a turn. */
export const SLICE_MS = 8;

/** Tells when a slice has used its time, and yields a turn. */
export class Slices {
  private start = Date.now();

  /** @param yieldTurns false: never due (work that must finish inside the current call). */
  constructor(private readonly yieldTurns = true) {}

  /** Whether the current slice has used its time. */
  due(): boolean {
    return this.yieldTurns && Date.now() - this.start > SLICE_MS;
  }

  /** Gives other work a turn, then starts a new slice. */
  async pause(): Promise<void> {
    // setTimeout, not a microtask: records, timers and I/O queued meanwhile run first.
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.start = Date.now();
  }
}
