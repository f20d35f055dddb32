/**
 * The write lock of a scope in an object store with conditional writes (S3, R2): a lease
 * object `<scope>/.~lock` (a name no checked path can have, so `list` never shows it)
 * holding `{token, owner, acquiredAt, expiresAt, released}`. Each store supplies only its
 * conditional put and its read ({@link LeaseObject}); the protocol lives here once.
 *
 * - Taking it: a create-only put — of racing takers exactly one succeeds. An existing
 *   record that is released, or whose lease ran out (its holder died without releasing),
 *   is replaced with a put conditional on its ETag, so again only one taker wins.
 * - Holding it: the lease is renewed every third of its length, conditional on our own
 *   last ETag; a refused renewal means someone took the lock over (we were presumed dead):
 *   the handle stops and warns.
 * - Releasing it: the record is overwritten as released, conditional on our ETag — so an
 *   old handle never frees a newer holder — and left in place (an unconditional delete
 *   could remove a newer holder's lock, and not every store offers a conditional one).
 */
import type { EddyError } from '../api/errors.ts';
import type { StorageLock } from './checkpoint-storage.ts';

/** The lock's object name inside the scope: `~` cannot occur in a checked path. */
export const LOCK_NAME = '.~lock';

/** What a lease object holds. */
export interface LockRecord {
  readonly token: string;
  readonly owner: string;
  readonly acquiredAt: string;
  readonly expiresAt: number;
  readonly released: boolean;
}

/** A lease write's precondition: create only, or replace the version with this ETag. */
export type LeaseCondition = { readonly create: true } | { readonly etag: string };

/** The lease object as one store reaches it. */
export interface LeaseObject {
  /**
   * Writes `body` if the object does not exist (`{ create: true }`) or still has `etag`:
   * the new ETag, or no ETag when the condition failed — `ambiguous` when an earlier
   * attempt of this put (retried after a lost reply) may have landed.
   */
  put(body: string, condition: LeaseCondition, what: string): Promise<{ readonly etag?: string; readonly ambiguous?: boolean }>;
  /** The object's bytes and ETag, or null when it does not exist. */
  get(what: string): Promise<{ readonly bytes: Uint8Array; readonly etag: string | undefined } | null>;
}

/** Lease settings. */
export interface LeaseSettings {
  /** How long a lock stays valid without renewal (a crashed holder blocks the scope this long). */
  readonly leaseMs: number;
  /** Shown to a refused taker: who holds the lock (stored in the bucket: no secrets). */
  readonly owner: string;
  /** The clock (ms since the epoch). */
  readonly now: () => number;
  /** The storage's name in warnings, e.g. `storage:s3`. */
  readonly component: string;
  /** Makes the storage's typed error (STORAGE_LOCKED here). */
  readonly error: (code: 'STORAGE_LOCKED', message: string) => EddyError;
}

/** Takes the lock for `scope`, or throws STORAGE_LOCKED naming the holder and until when its lease runs. */
export async function takeLeaseLock(object: LeaseObject, key: string, scope: string, lease: LeaseSettings): Promise<StorageLock> {
  const token = randomToken();
  const acquiredAt = new Date(lease.now()).toISOString();
  const record: LockRecord = { token, owner: lease.owner, acquiredAt, expiresAt: lease.now() + lease.leaseMs, released: false };
  const what = `lock "${scope}"`;
  const locked = (why: string) => lease.error('STORAGE_LOCKED', `scope "${scope}" is locked: ${why}`);
  const created = await putRecord(object, record, { create: true }, what);
  if (created !== undefined) return new LeaseLock(object, scope, record, created, lease);
  const current = await object.get(what);
  if (current === null) throw locked('its lock changed hands while it was being taken; try again');
  const held = parseRecord(current.bytes);
  if (held === undefined || current.etag === undefined) throw locked(`its lock object ${key} cannot be read; if no writer is running, delete it`);
  if (!held.released && held.expiresAt > lease.now()) {
    throw locked(`it is held by ${held.owner} (since ${held.acquiredAt}; its lease runs until ${new Date(held.expiresAt).toISOString()} unless renewed)`);
  }
  const taken = await putRecord(object, record, { etag: current.etag }, what);
  if (taken === undefined) throw locked('another writer took it at the same moment');
  if (!held.released) {
    console.warn(
      `[eddy] [${lease.component}] took over the lock of scope "${scope}" from ${held.owner}: its lease ran out at ${new Date(held.expiresAt).toISOString()} (a crashed writer?)`,
    );
  }
  return new LeaseLock(object, scope, record, taken, lease);
}

/** A held lease. */
class LeaseLock implements StorageLock {
  #etag: string;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #released = false;
  #renewing: Promise<void> = Promise.resolve();

  constructor(
    private readonly object: LeaseObject,
    private readonly scope: string,
    private readonly record: LockRecord,
    etag: string,
    private readonly lease: LeaseSettings,
  ) {
    this.#etag = etag;
    this.#schedule();
  }

  /** Renews every third of the lease; the next renewal is scheduled once this one ended, so two never race on one ETag. */
  #schedule(): void {
    if (this.#released) return;
    this.#timer = setTimeout(
      () => {
        this.#renewing = this.#renew().finally(() => this.#schedule());
      },
      Math.max(10, Math.floor(this.lease.leaseMs / 3)),
    );
    // A held lock alone must not keep a Node or Deno process alive.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  async #renew(): Promise<void> {
    if (this.#released) return;
    const next: LockRecord = { ...this.record, expiresAt: this.lease.now() + this.lease.leaseMs };
    try {
      const etag = await putRecord(this.object, next, { etag: this.#etag }, `renew lock "${this.scope}"`);
      if (etag !== undefined) {
        // Also when release() started meanwhile: it waits for us and needs the current ETag.
        this.#etag = etag;
        return;
      }
      if (!this.#released) {
        this.#stop();
        console.warn(
          `[eddy] [${this.lease.component}] the lock of scope "${this.scope}" was taken over by another writer (this one was presumed dead): stop writing checkpoints of this job`,
        );
      }
    } catch (error) {
      // Transient trouble: the next renewal tries again; the lease is long enough for a few misses.
      console.warn(
        `[eddy] [${this.lease.component}] renewing the lock of scope "${this.scope}" failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  #stop(): void {
    this.#released = true;
    clearTimeout(this.#timer);
  }

  /** Marks the lease released if it is still ours (idempotent; a stale handle changes nothing). */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#stop();
    await this.#renewing;
    const gone: LockRecord = { ...this.record, expiresAt: 0, released: true };
    await putRecord(this.object, gone, { etag: this.#etag }, `release lock "${this.scope}"`);
  }
}

/**
 * A conditional put of a lock record that tolerates a lost reply: when the store refuses
 * a retried put whose earlier attempt may have landed, the record is read back, and our
 * own earlier write counts as success.
 */
async function putRecord(object: LeaseObject, record: LockRecord, condition: LeaseCondition, what: string): Promise<string | undefined> {
  const { etag, ambiguous } = await object.put(JSON.stringify(record), condition, what);
  if (etag !== undefined || !ambiguous) return etag;
  const now = await object.get(what);
  if (now === null) return undefined;
  const seen = parseRecord(now.bytes);
  return seen?.token === record.token && seen.released === record.released && seen.expiresAt === record.expiresAt ? now.etag : undefined;
}

function parseRecord(bytes: Uint8Array): LockRecord | undefined {
  try {
    const r = JSON.parse(new TextDecoder().decode(bytes)) as Partial<LockRecord>;
    if (typeof r.token !== 'string' || typeof r.expiresAt !== 'number') return undefined;
    return { token: r.token, owner: String(r.owner), acquiredAt: String(r.acquiredAt), expiresAt: r.expiresAt, released: r.released === true };
  } catch {
    return undefined;
  }
}

/** 128 random bits as hex; `crypto` is looked up only when it is needed. */
export function randomToken(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
