/**
 * `R2CheckpointStorage`: checkpoints as objects in a Cloudflare R2 bucket, reached through
 * the Worker's bucket binding (no credentials, no signing, no HTTP). Flink keeps its
 * checkpoints in an object store the same way; the design is the S3 storage's:
 *
 * - A manifest (`…/_metadata`) is the commit point of a checkpoint and is created with
 *   `onlyIf: { etagDoesNotMatch: '*' }`: of two writers committing the same checkpoint
 *   exactly one wins, the other gets `STORAGE_LOCKED`. Every other object is a plain put
 *   (parts are written once and never changed by eddy; a put over an existing part
 *   replaces it, as the contract says).
 * - Every put records the object's size in its custom metadata and checks the size R2
 *   reports back; a `get` checks the body's length against it and reads a short body again.
 *   Parts' checksums are checked against the manifest on restore, as for every storage.
 * - `lock(scope)` is a renewed lease object taken with conditional puts (see `r2-lock.ts`).
 * - A binding call that throws (R2's transient faults) is retried with backoff.
 */
import { MANIFEST_NAME, checkPath, type CheckpointStorage, type StorageLock } from '../format/checkpoint-storage.ts';
import { type R2BucketLike, type RetrySettings, r2Error, withRetries } from './r2-bucket.ts';
import { LOCK_NAME, randomToken } from '../format/lease-lock.ts';
import { takeR2Lock } from './r2-lock.ts';

export type { R2BucketLike, R2ConditionalLike, R2ObjectBodyLike, R2ObjectLike } from './r2-bucket.ts';

const SIZE_KEY = 'eddy-size';
const WRITE_KEY = 'eddy-write';

/** Where in the bucket and how to behave there. */
export interface R2CheckpointStorageOptions {
  /** Keys are `<prefix>/<path>`; a checked path (letters, digits, `.`, `_`, `-`, `/`). Default: the bucket's root. */
  readonly prefix?: string;
  /** Attempts per binding call before a STORAGE_FAILURE (default 4; pauses from `retryBaseMs`, default 50 ms, doubling, capped at 2 s). */
  readonly maxAttempts?: number;
  readonly retryBaseMs?: number;
  /** A lock not renewed for this long may be taken over (default 60 s): how long a crashed writer blocks its job. */
  readonly lockLeaseMs?: number;
  /** Who holds a lock, as shown to a refused writer (stored in the bucket: no secrets). Default: `eddy writer <random id>`. */
  readonly owner?: string;
}

/**
 * Keeps checkpoint objects in an R2 bucket through its Worker binding:
 *
 *   new R2CheckpointStorage(env.CHECKPOINTS, { prefix: 'eddy' })
 */
export class R2CheckpointStorage implements CheckpointStorage {
  /** Shows up in error messages as `[storage:r2]`. */
  readonly name = 'r2';
  readonly #bucket: R2BucketLike;
  readonly #prefix: string;
  readonly #retry: RetrySettings;
  readonly #leaseMs: number;
  readonly #owner: string | undefined;

  /** @param bucket the R2 bucket binding (`env.<BINDING>`). */
  constructor(bucket: R2BucketLike, options: R2CheckpointStorageOptions = {}) {
    const bad = (why: string) => r2Error('INVALID_ARGUMENT', `invalid options: ${why}`);
    for (const method of ['put', 'get', 'head', 'list', 'delete'] as const) {
      if (typeof (bucket as Partial<R2BucketLike> | undefined)?.[method] !== 'function')
        throw bad(`bucket must be an R2 bucket binding (it has no ${method}())`);
    }
    const prefix = (options.prefix ?? '').replace(/\/+$/, '');
    if (prefix !== '' && checkPath(prefix) !== undefined) throw bad(`prefix: ${checkPath(prefix)}`);
    this.#bucket = bucket;
    this.#prefix = prefix === '' ? '' : `${prefix}/`;
    this.#retry = { maxAttempts: Math.max(1, options.maxAttempts ?? 4), retryBaseMs: Math.max(0, options.retryBaseMs ?? 50) };
    this.#leaseMs = Math.max(100, options.lockLeaseMs ?? 60_000);
    this.#owner = options.owner;
  }

  /**
   * Takes the scope's lease (`<scope>/.~lock`, never listed). A scope held by anyone —
   * this storage included — is refused with `STORAGE_LOCKED`; a lease its holder stopped
   * renewing for `lockLeaseMs` is taken over with a warning.
   */
  async lock(scope: string): Promise<StorageLock> {
    this.#check(scope, 'scope');
    const owner = this.#owner ?? `eddy writer ${randomToken().slice(0, 8)}`;
    return takeR2Lock(this.#bucket, this.#key(`${scope}/${LOCK_NAME}`), scope, { ...this.#retry, leaseMs: this.#leaseMs, owner });
  }

  /**
   * Stores `data` at `path`. A manifest (`…/_metadata`) is created only if absent: when
   * another writer committed it first, the put fails with `STORAGE_LOCKED`.
   */
  async put(path: string, data: Uint8Array): Promise<void> {
    this.#check(path, 'path');
    if (Object.prototype.toString.call(data) !== '[object Uint8Array]') throw r2Error('INVALID_ARGUMENT', `put "${path}": data must be a Uint8Array`);
    const key = this.#key(path);
    const what = `put "${path}"`;
    const size = String(data.byteLength);
    // No copy: a Worker has 128 MB. The binding reads the bytes while put runs (found in workerd: a change made
    // before put resolves can land in the object), so, as with every storage, callers leave them alone until then.
    const body = data;
    if (!(path === MANIFEST_NAME || path.endsWith(`/${MANIFEST_NAME}`))) {
      const stored = await withRetries(what, this.#retry, () => this.#bucket.put(key, body, { customMetadata: { [SIZE_KEY]: size } }));
      this.#checkStored(what, stored?.size, data.byteLength);
      return;
    }
    const write = randomToken();
    const stored = await withRetries(what, this.#retry, async (ambiguous) => {
      const created = await this.#bucket.put(key, body, { onlyIf: { etagDoesNotMatch: '*' }, customMetadata: { [SIZE_KEY]: size, [WRITE_KEY]: write } });
      if (created !== null || !ambiguous) return created;
      // An earlier attempt may have landed before its answer was lost: then the object is ours.
      const head = await this.#bucket.head(key);
      return head?.customMetadata?.[WRITE_KEY] === write ? head : null;
    });
    if (stored === null) {
      throw r2Error('STORAGE_LOCKED', `${what}: another writer committed this checkpoint first (the manifest already exists; manifests are created only once)`);
    }
    this.#checkStored(what, stored.size, data.byteLength);
  }

  /** The object's bytes, or `undefined` when there is none; a body shorter than its recorded size is read again. */
  async get(path: string): Promise<Uint8Array | undefined> {
    this.#check(path, 'path');
    const what = `get "${path}"`;
    return withRetries(what, this.#retry, async () => {
      const object = await this.#bucket.get(this.#key(path));
      if (object === null) return undefined;
      const bytes = new Uint8Array(await object.arrayBuffer());
      const expected = Number(object.customMetadata?.[SIZE_KEY] ?? object.size);
      // A plain Error is retried; the last one becomes the STORAGE_FAILURE.
      if (bytes.byteLength !== expected) throw new Error(`${what}: the body was ${bytes.byteLength} bytes, the object holds ${expected}`);
      return bytes;
    });
  }

  /** Paths starting with `prefix` (a plain string prefix), in code-unit order; lock objects and foreign names are left out. */
  async list(prefix: string): Promise<string[]> {
    if (typeof prefix !== 'string') throw r2Error('INVALID_ARGUMENT', 'a list prefix must be a string');
    const out: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await withRetries(`list "${prefix}"`, this.#retry, () => this.#bucket.list({ prefix: this.#prefix + prefix, cursor, limit: 1000 }));
      for (const object of page.objects) {
        const path = object.key.slice(this.#prefix.length);
        if (object.key.startsWith(this.#prefix) && path.startsWith(prefix) && checkPath(path) === undefined) out.push(path);
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor !== undefined);
    return out.sort();
  }

  /** Removes the object; a missing one is fine. */
  async delete(path: string): Promise<void> {
    this.#check(path, 'path');
    await withRetries(`delete "${path}"`, this.#retry, () => this.#bucket.delete(this.#key(path)));
  }

  #key(path: string): string {
    return this.#prefix + path;
  }

  #checkStored(what: string, stored: number | undefined, expected: number): void {
    if (stored !== expected) throw r2Error('STORAGE_FAILURE', `${what}: R2 stored ${stored ?? 'nothing'} instead of ${expected} bytes`);
  }

  #check(path: string, what: 'path' | 'scope'): void {
    const problem = checkPath(path);
    if (problem !== undefined) throw r2Error('INVALID_ARGUMENT', what === 'scope' ? `invalid lock scope: ${problem}` : problem);
  }
}
