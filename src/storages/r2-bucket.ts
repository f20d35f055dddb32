/**
 * The part of a Cloudflare R2 bucket binding (`env.MY_BUCKET` in a Worker) that
 * `R2CheckpointStorage` uses, declared structurally so that eddy needs no
 * `@cloudflare/workers-types`: a real binding satisfies it, and so does a test double.
 * Also the retrying wrapper every call goes through.
 */
import { CheckpointStorageError } from '../api/errors.ts';

/** An object's metadata as the binding returns it from `put`, `head` and `list`. */
export interface R2ObjectLike {
  readonly key: string;
  readonly size: number;
  /** The object's ETag without quotes: what `onlyIf.etagMatches` compares against. */
  readonly etag: string;
  readonly customMetadata?: Record<string, string>;
}

/** An object with its body, as `get` returns it. */
export interface R2ObjectBodyLike extends R2ObjectLike {
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A precondition of `put`: `etagDoesNotMatch: '*'` creates only, `etagMatches` replaces only that version. */
export interface R2ConditionalLike {
  etagMatches?: string;
  etagDoesNotMatch?: string;
}

/** The R2 bucket binding's methods that the storage calls. */
export interface R2BucketLike {
  /** Resolves to `null` when `onlyIf` is not met (nothing is written). */
  put(
    key: string,
    value: ArrayBuffer | ArrayBufferView | string,
    options?: { onlyIf?: R2ConditionalLike; customMetadata?: Record<string, string> },
  ): Promise<R2ObjectLike | null>;
  get(key: string): Promise<R2ObjectBodyLike | null>;
  head(key: string): Promise<R2ObjectLike | null>;
  list(options: { prefix?: string; cursor?: string; limit?: number }): Promise<{ objects: R2ObjectLike[]; truncated: boolean; cursor?: string }>;
  delete(keys: string | string[]): Promise<void>;
}

/** Shown in every error: `[storage:r2]`. */
export const COMPONENT = 'storage:r2';

/** An EddyError of the R2 storage. */
export function r2Error(code: 'STORAGE_FAILURE' | 'STORAGE_LOCKED' | 'INVALID_ARGUMENT', message: string, cause?: unknown): CheckpointStorageError {
  return new CheckpointStorageError(code, message, { component: COMPONENT }, cause === undefined ? undefined : { cause });
}

/** How often a failing binding call is tried, and the first pause between tries. */
export interface RetrySettings {
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
}

/**
 * Runs one binding call, retrying when it throws (R2 reports its transient faults — "internal
 * error, try again", rate limits — as exceptions), with doubling pauses capped at 2 s. After
 * the last attempt: STORAGE_FAILURE naming the operation, the cause attached.
 * `ambiguous` tells a retried call that an earlier attempt may have landed.
 */
export async function withRetries<T>(what: string, settings: RetrySettings, call: (ambiguous: boolean) => Promise<T>): Promise<T> {
  let last: unknown;
  for (let attempt = 0; attempt < settings.maxAttempts; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(2000, settings.retryBaseMs * 2 ** (attempt - 1))));
    try {
      return await call(attempt > 0);
    } catch (error) {
      if (error instanceof CheckpointStorageError) throw error;
      last = error;
    }
  }
  const reason = last instanceof Error ? last.message : String(last);
  throw r2Error('STORAGE_FAILURE', `${what} failed after ${settings.maxAttempts} attempts: ${reason}`, last);
}
