/**
 * The write lock of a scope in an R2 bucket: a lease object `<scope>/.~lock` (a name no
 * checked path can have, so `list` never shows it) holding
 * `{token, owner, acquiredAt, expiresAt, released}` — the design of the S3 storage's lock,
 * on the binding's preconditions instead of HTTP headers.
 *
 * - Taking it: `put` with `onlyIf: { etagDoesNotMatch: '*' }` (create only): of racing
 *   takers exactly one gets an object back, the others `null`. A record that is released,
 *   or whose lease ran out (its holder died without releasing), is replaced with
 *   `onlyIf: { etagMatches: <its ETag> }`, so again only one taker wins.
 * - Holding it: the lease is renewed every third of its length, conditional on our own last
 *   ETag; a refused renewal means someone took the lock over (we were presumed dead): the
 *   handle stops and warns.
 * - Releasing it: the record is overwritten as released, conditional on our ETag — so an
 *   old handle never frees a newer holder — and left in place (R2's `delete` takes no
 *   condition, so a delete could remove a newer holder's lock).
 */
import type { StorageLock } from '../format/checkpoint-storage.ts';
import { type R2BucketLike, type R2ConditionalLike, type RetrySettings, r2Error, withRetries } from './r2-bucket.ts';

/** The lock's object name inside the scope: `~` cannot occur in a checked path. */
export const LOCK_NAME = '.~lock';

interface LockRecord {
  token: string;
  owner: string;
  acquiredAt: string;
  expiresAt: number;
  released: boolean;
}

/** Lease settings. */
export interface R2LeaseSettings extends RetrySettings {
  /** How long a lock stays valid without renewal (a crashed holder blocks the scope this long). */
  readonly leaseMs: number;
  /** Shown to a refused taker: who holds the lock (stored in the bucket: no secrets). */
  readonly owner: string;
}

/** Takes the lock at `key` for `scope`, or throws STORAGE_LOCKED naming the holder and until when its lease runs. */
export async function takeR2Lock(bucket: R2BucketLike, key: string, scope: string, lease: R2LeaseSettings): Promise<StorageLock> {
  const token = randomToken();
  const record = (): LockRecord => ({
    token,
    owner: lease.owner,
    acquiredAt: new Date().toISOString(),
    expiresAt: Date.now() + lease.leaseMs,
    released: false,
  });
  const what = `lock "${scope}"`;
  const created = await conditionalPut(bucket, key, what, record(), { etagDoesNotMatch: '*' }, lease);
  if (created !== undefined) return new R2Lock(bucket, key, scope, token, created, lease);
  const current = await withRetries(what, lease, () => bucket.get(key));
  if (current === null) throw locked(scope, 'its lock changed hands while it was being taken; try again');
  const held = parse(new Uint8Array(await current.arrayBuffer()));
  if (held === undefined) throw locked(scope, `its lock object ${key} cannot be read; if no writer is running, delete it`);
  if (!held.released && held.expiresAt > Date.now()) {
    throw locked(
      scope,
      `it is held by ${held.owner} (since ${held.acquiredAt}; its lease runs until ${new Date(held.expiresAt).toISOString()} unless renewed)`,
    );
  }
  const taken = await conditionalPut(bucket, key, what, record(), { etagMatches: current.etag }, lease);
  if (taken === undefined) throw locked(scope, 'another writer took it at the same moment');
  if (!held.released) {
    console.warn(
      `[eddy] [storage:r2] took over the lock of scope "${scope}" from ${held.owner}: its lease ran out at ${new Date(held.expiresAt).toISOString()} (a crashed writer?)`,
    );
  }
  return new R2Lock(bucket, key, scope, token, taken, lease);
}

/** A held lease. */
class R2Lock implements StorageLock {
  #etag: string;
  readonly #timer: ReturnType<typeof setInterval>;
  #released = false;
  #renewing: Promise<void> = Promise.resolve();
  #inFlight = false;
  readonly #acquiredAt = new Date().toISOString();

  constructor(
    private readonly bucket: R2BucketLike,
    private readonly key: string,
    private readonly scope: string,
    private readonly token: string,
    etag: string,
    private readonly lease: R2LeaseSettings,
  ) {
    this.#etag = etag;
    this.#timer = setInterval(
      () => {
        // One renewal at a time: two conditional on the same ETag would refuse each other.
        if (this.#inFlight) return;
        this.#inFlight = true;
        this.#renewing = this.#renew().finally(() => {
          this.#inFlight = false;
        });
      },
      Math.max(10, Math.floor(lease.leaseMs / 3)),
    );
    // A held lock alone must not keep a Node process alive (a binding reached from Node, e.g. miniflare's).
    (this.#timer as { unref?: () => void }).unref?.();
  }

  async #renew(): Promise<void> {
    if (this.#released) return;
    const next: LockRecord = {
      token: this.token,
      owner: this.lease.owner,
      acquiredAt: this.#acquiredAt,
      expiresAt: Date.now() + this.lease.leaseMs,
      released: false,
    };
    try {
      const etag = await conditionalPut(this.bucket, this.key, `renew lock "${this.scope}"`, next, { etagMatches: this.#etag }, this.lease);
      if (etag !== undefined) {
        // Also when release() started meanwhile: it waits for us and needs the current ETag.
        this.#etag = etag;
        return;
      }
      if (!this.#released) {
        this.#stop();
        console.warn(
          `[eddy] [storage:r2] the lock of scope "${this.scope}" was taken over by another writer (this one was presumed dead): stop writing checkpoints of this job`,
        );
      }
    } catch (error) {
      // Transient trouble: the next renewal tries again; the lease is long enough for a few misses.
      console.warn(`[eddy] [storage:r2] renewing the lock of scope "${this.scope}" failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  #stop(): void {
    this.#released = true;
    clearInterval(this.#timer);
  }

  /** Marks the lease released if it is still ours (idempotent; a stale handle changes nothing). */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#stop();
    await this.#renewing;
    const gone: LockRecord = { token: this.token, owner: this.lease.owner, acquiredAt: this.#acquiredAt, expiresAt: 0, released: true };
    await conditionalPut(this.bucket, this.key, `release lock "${this.scope}"`, gone, { etagMatches: this.#etag }, this.lease);
  }
}

/**
 * A conditional put of a lock record: its new ETag, or undefined when the condition failed.
 * A refusal after an attempt that may have landed is checked against the record: our own
 * earlier write counts as success.
 */
async function conditionalPut(
  bucket: R2BucketLike,
  key: string,
  what: string,
  record: LockRecord,
  onlyIf: R2ConditionalLike,
  retry: RetrySettings,
): Promise<string | undefined> {
  const body = JSON.stringify(record);
  return withRetries(what, retry, async (ambiguous) => {
    const written = await bucket.put(key, body, { onlyIf });
    if (written !== null) return written.etag;
    if (!ambiguous) return undefined;
    const now = await bucket.get(key);
    if (now === null) return undefined;
    const seen = parse(new Uint8Array(await now.arrayBuffer()));
    return seen?.token === record.token && seen.released === record.released && seen.expiresAt === record.expiresAt ? now.etag : undefined;
  });
}

function parse(bytes: Uint8Array): LockRecord | undefined {
  try {
    const r = JSON.parse(new TextDecoder().decode(bytes)) as Partial<LockRecord>;
    if (typeof r.token !== 'string' || typeof r.expiresAt !== 'number') return undefined;
    return { token: r.token, owner: String(r.owner), acquiredAt: String(r.acquiredAt), expiresAt: r.expiresAt, released: r.released === true };
  } catch {
    return undefined;
  }
}

function locked(scope: string, why: string) {
  return r2Error('STORAGE_LOCKED', `scope "${scope}" is locked: ${why}`);
}

/** 128 random bits as hex; `crypto` is looked up only when it is needed. */
export function randomToken(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
