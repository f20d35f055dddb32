/**
 * Waiting for long durations. Platform timers take a signed 32-bit delay: anything above
 * 2^31 − 1 ms (about 24.8 days), and Infinity, fires at once (Node warns and uses 1 ms),
 * which turned a checkpoint timeout of 30 days into "fail every checkpoint now". Every
 * wait of the engine that a user can configure goes through {@link setLongTimeout},
 * which waits in chunks; durations are validated with {@link checkDuration}.
 */
import { ConfigurationError } from '../api/errors.ts';

/** The longest delay a platform timer accepts (2^31 − 1 ms). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * Calls `fn` once after `ms` (any length, Infinity meaning never); returns a function
 * that cancels it.
 */
export function setLongTimeout(fn: () => void, ms: number): () => void {
  let handle: ReturnType<typeof setTimeout> | undefined;
  let cancelled = false;
  if (ms === Infinity) return () => {};
  const due = Date.now() + Math.max(0, ms);
  const arm = (left: number) => {
    handle = setTimeout(
      () => {
        if (cancelled) return;
        const rest = due - Date.now();
        // Wall-clock drift can leave a few ms over after a chunk: wait them out too.
        if (rest > 0) arm(rest);
        else fn();
      },
      Math.min(left, MAX_TIMER_DELAY_MS),
    );
  };
  arm(Math.max(0, ms));
  return () => {
    cancelled = true;
    clearTimeout(handle);
  };
}

/**
 * A duration in ms from user configuration: a positive number (Infinity only where
 * `allowInfinity`), else a {@link ConfigurationError} naming `component` and `what`.
 */
export function checkDuration(component: string, what: string, ms: number, options: { allowZero?: boolean; allowInfinity?: boolean } = {}): number {
  const ok =
    typeof ms === 'number' &&
    !Number.isNaN(ms) &&
    (options.allowZero ? ms >= 0 : ms > 0) &&
    (Number.isFinite(ms) || (options.allowInfinity === true && ms === Infinity));
  if (!ok) {
    const range = `${options.allowZero ? 'a non-negative' : 'a positive'} number of ms${options.allowInfinity ? ' (or Infinity)' : ''}`;
    throw new ConfigurationError(`${what} must be ${range}, got ${typeof ms === 'number' ? String(ms) : typeof ms}`, { component });
  }
  return ms;
}
