/**
 * The write lock of a scope in an S3 bucket: a lease object `<scope>/.~lock` (a name no
 * checked path can have, so `list` never shows it), holding
 * `{token, owner, acquiredAt, expiresAt, released}`.
 *
 * - Taking it: a create with `If-None-Match: *` — of racing takers exactly one gets 200,
 *   the others 412. An existing record that is released, or whose lease ran out (its
 *   holder died without releasing), is replaced with `If-Match: <its ETag>`, so again
 *   only one taker wins.
 * - Holding it: the lease is renewed every third of its length with `If-Match` on our
 *   own last ETag; a renewal refused with 412 means someone took the lock over (we were
 *   presumed dead): the handle is marked lost and a warning is printed.
 * - Releasing it: the record is overwritten as released with `If-Match` on our ETag —
 *   so an old handle can never free a newer holder — and left in place (an
 *   unconditional DELETE could remove a newer holder's lock; conditional deletes are not
 *   available on every S3-compatible server).
 */
import type { StorageLock } from '../../format/checkpoint-storage.ts';
import type { S3Client } from './client.ts';

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
export interface LeaseSettings {
  /** How long a lock stays valid without renewal (a crashed holder blocks the scope this long). */
  readonly leaseMs: number;
  /** Shown to a refused taker: who holds the lock (no secrets: it is stored in the bucket). */
  readonly owner: string;
  /** The clock (ms since the epoch). */
  readonly now: () => number;
}

/**
 * Takes the lock at `key` for `scope`, or throws STORAGE_LOCKED naming the holder and
 * until when its lease runs.
 */
export async function takeS3Lock(client: S3Client, key: string, scope: string, lease: LeaseSettings): Promise<StorageLock> {
  const token = randomToken();
  const record = (): LockRecord => ({
    token,
    owner: lease.owner,
    acquiredAt: new Date(lease.now()).toISOString(),
    expiresAt: lease.now() + lease.leaseMs,
    released: false,
  });
  const what = `lock "${scope}"`;
  const created = await conditionalPut(client, key, what, record(), { 'if-none-match': '*' }, token);
  if (created !== undefined) return new S3Lock(client, key, scope, token, created, lease);
  // It exists: judge it.
  const current = await client.send('GET', key, what, { readBody: true, accept: [404] });
  if (current.status === 404) throw locked(client, scope, 'its lock changed hands while it was being taken; try again');
  const etag = current.headers.get('ETag');
  const held = parse(current.bytes!);
  if (held === undefined || etag === null) throw locked(client, scope, `its lock object ${key} cannot be read; if no writer is running, delete it`);
  if (!held.released && held.expiresAt > lease.now()) {
    throw locked(
      client,
      scope,
      `it is held by ${held.owner} (since ${held.acquiredAt}; its lease runs until ${new Date(held.expiresAt).toISOString()} unless renewed)`,
    );
  }
  const taken = await conditionalPut(client, key, what, record(), { 'if-match': etag }, token);
  if (taken === undefined) throw locked(client, scope, 'another writer took it at the same moment');
  if (!held.released) {
    console.warn(
      `[eddy] [storage:s3] took over the lock of scope "${scope}" from ${held.owner}: its lease ran out at ${new Date(held.expiresAt).toISOString()} (a crashed writer?)`,
    );
  }
  return new S3Lock(client, key, scope, token, taken, lease);
}

/** A held lease. */
class S3Lock implements StorageLock {
  #etag: string;
  #timer: ReturnType<typeof setInterval> | undefined;
  #released = false;
  #renewing: Promise<void> = Promise.resolve();
  #inFlight = false;
  readonly #acquiredAt: string;

  constructor(
    private readonly client: S3Client,
    private readonly key: string,
    private readonly scope: string,
    private readonly token: string,
    etag: string,
    private readonly lease: LeaseSettings,
  ) {
    this.#etag = etag;
    this.#acquiredAt = new Date(lease.now()).toISOString();
    this.#timer = setInterval(
      () => {
        // One renewal at a time: two with the same If-Match would refuse each other.
        if (this.#inFlight) return;
        this.#inFlight = true;
        this.#renewing = this.#renew().finally(() => {
          this.#inFlight = false;
        });
      },
      Math.max(10, Math.floor(lease.leaseMs / 3)),
    );
    // A held lock alone must not keep a Node or Deno process alive.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  async #renew(): Promise<void> {
    if (this.#released) return;
    const next: LockRecord = {
      token: this.token,
      owner: this.lease.owner,
      acquiredAt: this.#acquiredAt,
      expiresAt: this.lease.now() + this.lease.leaseMs,
      released: false,
    };
    try {
      const etag = await conditionalPut(this.client, this.key, `renew lock "${this.scope}"`, next, { 'if-match': this.#etag }, this.token);
      if (etag !== undefined) {
        // Also when release() started meanwhile: it waits for us and needs the current ETag.
        this.#etag = etag;
        return;
      }
      if (!this.#released) {
        this.#stop();
        console.warn(
          `[eddy] [storage:s3] the lock of scope "${this.scope}" was taken over by another writer (this one was presumed dead): stop writing checkpoints of this job`,
        );
      }
    } catch (error) {
      // Transient trouble: the next renewal tries again; the lease is long enough for a few misses.
      console.warn(`[eddy] [storage:s3] renewing the lock of scope "${this.scope}" failed: ${error instanceof Error ? error.message : String(error)}`);
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
    const gone: LockRecord = { token: this.token, owner: this.lease.owner, acquiredAt: new Date(this.lease.now()).toISOString(), expiresAt: 0, released: true };
    await conditionalPut(this.client, this.key, `release lock "${this.scope}"`, gone, { 'if-match': this.#etag }, this.token);
  }
}

/**
 * A conditional PUT of a lock record: its new ETag, or undefined on 412 (the condition
 * failed). A 412 after an attempt that may have landed is checked against the token:
 * our own earlier write counts as success.
 */
async function conditionalPut(
  client: S3Client,
  key: string,
  what: string,
  record: LockRecord,
  condition: Record<string, string>,
  token: string,
): Promise<string | undefined> {
  const body = JSON.stringify(record);
  const response = await client.send('PUT', key, what, { body, headers: { 'content-type': 'application/json', ...condition }, accept: [412] });
  if (response.status >= 200 && response.status < 300) {
    const etag = response.headers.get('ETag');
    if (etag === null) throw client.error('STORAGE_FAILURE', `${what}: the server sent no ETag (a browser needs the bucket's CORS to expose ETag)`);
    return etag;
  }
  if (!response.ambiguous) return undefined;
  const now = await client.send('GET', key, what, { readBody: true, accept: [404] });
  if (now.status === 404) return undefined;
  const seen = parse(now.bytes!);
  return seen?.token === token && seen.released === record.released && seen.expiresAt === record.expiresAt ? (now.headers.get('ETag') ?? undefined) : undefined;
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

function locked(client: S3Client, scope: string, why: string) {
  return client.error('STORAGE_LOCKED', `scope "${scope}" is locked: ${why}`);
}

/** 128 random bits as hex; `crypto` is looked up only when a lock is taken. */
export function randomToken(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
