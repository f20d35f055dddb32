/**
 * Decides, failure by failure, whether a job restarts and after how long, following its
 * {@link RestartStrategy} (the semantics of Flink's `RestartBackoffTimeStrategy`s).
 */
import type { RestartStrategy } from '../api/restart-strategies.ts';

export class RestartBackoff {
  private restarts = 0;
  /** Exponential delay: the last delay given, and when the last failure happened. */
  private backoff = 0;
  private lastFailureAt = -Infinity;
  /** Failure rate: the failures within the interval. */
  private readonly recent: number[] = [];

  constructor(
    private readonly strategy: RestartStrategy,
    private readonly random: () => number = Math.random,
  ) {}

  /** A failure at `now` (ms): the delay before the restart, or undefined if the job must fail. */
  onFailure(now: number): number | undefined {
    const s = this.strategy;
    switch (s.strategy) {
      case undefined:
      case 'fixed-delay':
        return this.restarts++ < s.maxAttempts ? s.delayMs : undefined;
      case 'failure-rate': {
        this.recent.push(now);
        while (this.recent.length > 0 && now - this.recent[0] > s.failureIntervalMs) this.recent.shift();
        return this.recent.length > s.failureRate ? undefined : s.delayMs;
      }
      case 'exponential-delay': {
        // A job that ran the threshold (after its last delay) without failing starts over.
        if (now - this.lastFailureAt >= s.resetBackoffThresholdMs + this.backoff) {
          this.backoff = 0;
          this.restarts = 0;
        }
        this.lastFailureAt = now;
        if (++this.restarts > s.attemptsBeforeResetBackoff) return undefined;
        this.backoff = this.backoff === 0 ? s.initialBackoffMs : Math.min(this.backoff * s.backoffMultiplier, s.maxBackoffMs);
        const jitter = this.backoff * s.jitterFactor * (2 * this.random() - 1);
        return Math.max(0, Math.round(this.backoff + jitter));
      }
    }
  }
}
