/** `ExecutionConfig`: job-wide settings that are not about checkpoints (Flink's `ExecutionConfig`). */
import { ConfigurationError } from '../api/errors.ts';

/** Flink's default auto-watermark interval (`pipeline.auto-watermark-interval`). */
export const DEFAULT_AUTO_WATERMARK_INTERVAL = 200;

/** Job-wide settings, from `env.getConfig()`. */
export class ExecutionConfig {
  private autoWatermarkInterval = DEFAULT_AUTO_WATERMARK_INTERVAL;

  /**
   * How often (processing time, ms) every watermark generator is asked for a watermark
   * (`onPeriodicEmit`) besides after each batch, so that a quiet source still advances
   * event time. Default 200 ms; 0 turns the periodic emission off (generators are then
   * asked only after batches), as in Flink.
   */
  setAutoWatermarkInterval(intervalMs: number): this {
    if (!(typeof intervalMs === 'number' && Number.isInteger(intervalMs) && intervalMs >= 0)) {
      throw new ConfigurationError(`setAutoWatermarkInterval() takes a whole number of ms ≥ 0 (0 turns it off), got ${String(intervalMs)}`, {
        component: 'environment',
      });
    }
    this.autoWatermarkInterval = intervalMs;
    return this;
  }

  /** The interval set with {@link setAutoWatermarkInterval} (default 200 ms; 0: off). */
  getAutoWatermarkInterval(): number {
    return this.autoWatermarkInterval;
  }
}
