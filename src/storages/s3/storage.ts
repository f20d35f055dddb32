/**
 * `S3CheckpointStorage`: checkpoints as objects in an S3-compatible bucket (AWS S3,
 * Cloudflare R2's S3 API, MinIO, …) over `fetch` alone, so the same storage runs in a
 * browser, Deno, Node and workerd. Flink keeps its checkpoints in S3 the same way.
 *
 * - A manifest (`…/_metadata`) is the commit point of a checkpoint and is written with
 *   `If-None-Match: *`: of two writers committing the same checkpoint exactly one wins,
 *   the other gets `STORAGE_LOCKED`. Every other object is a plain PUT (parts are
 *   written once and never changed by eddy; a put over an existing part replaces it, as
 *   the contract says).
 * - Objects from `multipartThreshold` bytes up go up as multipart uploads, their parts
 *   in parallel, each a view of the caller's bytes (no copy); the stored size is then
 *   checked with a HEAD before the put resolves.
 * - A `get` checks the body's length against the size recorded at put time
 *   (`x-amz-meta-eddy-size`) and retries a short body; parts' checksums are checked
 *   against the manifest on restore, as for every storage.
 * - `lock(scope)` is a renewed lease object taken with conditional writes (see `lock.ts`).
 */
import { CheckpointStorageError } from '../../api/errors.ts';
import { MANIFEST_NAME } from '../../format/checkpoint-storage.ts';
import { checkPath, type CheckpointStorage, type StorageLock } from '../../format/checkpoint-storage.ts';
import { COMPONENT, S3Client, type S3Credentials, type S3Presign, unescapeXml } from './client.ts';
import { LOCK_NAME, randomToken } from '../../format/lease-lock.ts';
import { takeS3Lock } from './lock.ts';
import { uploadMultipart } from './multipart.ts';

const MiB = 1024 * 1024;
const SIZE_HEADER = 'x-amz-meta-eddy-size';
const WRITE_HEADER = 'x-amz-meta-eddy-write';

/** How to reach the bucket and how to behave there. */
export interface S3CheckpointStorageOptions {
  /** The S3 API endpoint, e.g. `https://s3.us-east-1.amazonaws.com` or `https://<account>.r2.cloudflarestorage.com`. */
  readonly endpoint: string;
  readonly bucket: string;
  /** The signing region (`auto` for R2, `us-east-1` for MinIO by default). */
  readonly region: string;
  /** Keys are `<prefix>/<path>`; a checked path (letters, digits, `.`, `_`, `-`, `/`). Default: the bucket's root. */
  readonly prefix?: string;
  /** Keys to sign with; in a browser, short-lived ones only (see the README). Exactly one of `credentials` and `presign`. */
  readonly credentials?: S3Credentials;
  /** Signs each request elsewhere (e.g. presigned URLs from the user's own server). */
  readonly presign?: S3Presign;
  /** The fetch to use (default: the global one, looked up at the first request). */
  readonly fetch?: typeof fetch;
  /**
   * Objects of at least this many bytes use a multipart upload (default 100 MiB, the size from
   * which AWS recommends it; at least 5 MiB). Below it one PUT is cheaper: on moto a multipart
   * upload of 25 MiB takes 2.5x as long as one PUT (bench s3-checkpoint).
   */
  readonly multipartThreshold?: number;
  /** Bytes per multipart part (default 16 MiB, at least 5 MiB as S3 requires). */
  readonly partSize?: number;
  /** Multipart parts in flight at once per object (default 4). */
  readonly uploadConcurrency?: number;
  /** Attempts per request before a STORAGE_FAILURE (default 6; backoff from `retryBaseMs`, default 50 ms, doubling, capped at 2 s). */
  readonly maxAttempts?: number;
  readonly retryBaseMs?: number;
  /** A request slower than this is aborted and retried (default 120 s). */
  readonly requestTimeoutMs?: number;
  /** A lock not renewed for this long may be taken over (default 60 s): how long a crashed writer blocks its job. */
  readonly lockLeaseMs?: number;
  /** Who holds a lock, as shown to a refused writer (stored in the bucket: no secrets). Default: `eddy writer <random id>`. */
  readonly owner?: string;
  /** `https://bucket.host/key` instead of `https://host/bucket/key` (default false). */
  readonly virtualHosted?: boolean;
}

/** Keeps checkpoint objects in an S3-compatible bucket. */
export class S3CheckpointStorage implements CheckpointStorage {
  /** Shows up in error messages as `[storage:s3]`. */
  readonly name = 's3';
  readonly #client: S3Client;
  readonly #prefix: string;
  readonly #threshold: number;
  readonly #partSize: number;
  readonly #concurrency: number;
  readonly #leaseMs: number;
  readonly #owner: string | undefined;

  constructor(options: S3CheckpointStorageOptions) {
    const bad = (why: string) => new CheckpointStorageError('INVALID_ARGUMENT', `invalid options: ${why}`, { component: COMPONENT });
    if (typeof options?.endpoint !== 'string' || !/^https?:\/\/[^/]/.test(options.endpoint)) throw bad('endpoint must be an http(s) URL');
    if (typeof options.bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(options.bucket)) throw bad('bucket must be a valid S3 bucket name');
    if (typeof options.region !== 'string' || options.region.length === 0) throw bad('region must be a non-empty string (e.g. "us-east-1", or "auto" for R2)');
    if ((options.credentials === undefined) === (options.presign === undefined)) throw bad('give exactly one of credentials and presign');
    const c = options.credentials;
    if (c !== undefined && (typeof c.accessKeyId !== 'string' || !c.accessKeyId || typeof c.secretAccessKey !== 'string' || !c.secretAccessKey)) {
      throw bad('credentials need a non-empty accessKeyId and secretAccessKey');
    }
    const prefix = (options.prefix ?? '').replace(/\/+$/, '');
    if (prefix !== '' && checkPath(prefix) !== undefined) throw bad(`prefix: ${checkPath(prefix)}`);
    this.#prefix = prefix === '' ? '' : `${prefix}/`;
    this.#partSize = Math.max(5 * MiB, options.partSize ?? 16 * MiB);
    this.#threshold = Math.max(5 * MiB, options.multipartThreshold ?? 100 * MiB);
    this.#concurrency = Math.max(1, options.uploadConcurrency ?? 4);
    this.#leaseMs = Math.max(100, options.lockLeaseMs ?? 60_000);
    this.#owner = options.owner;
    this.#client = new S3Client(options);
  }

  /**
   * Takes the scope's lease (`<scope>/.~lock`, never listed). A scope held by anyone —
   * this storage included — is refused with `STORAGE_LOCKED`; a lease its holder stopped
   * renewing for `lockLeaseMs` is taken over with a warning.
   */
  async lock(scope: string): Promise<StorageLock> {
    this.#check(scope, 'scope');
    const owner = this.#owner ?? `eddy writer ${randomToken().slice(0, 8)}`;
    return takeS3Lock(this.#client, this.#key(`${scope}/${LOCK_NAME}`), scope, { leaseMs: this.#leaseMs, owner, now: Date.now });
  }

  /**
   * Stores `data` at `path`. A manifest (`…/_metadata`) is created only if absent: when
   * another writer committed it first, the put fails with `STORAGE_LOCKED`.
   */
  async put(path: string, data: Uint8Array): Promise<void> {
    this.#check(path, 'path');
    if (Object.prototype.toString.call(data) !== '[object Uint8Array]') {
      throw new CheckpointStorageError('INVALID_ARGUMENT', `put "${path}": data must be a Uint8Array`, { component: COMPONENT });
    }
    const key = this.#key(path);
    const what = `put "${path}"`;
    const manifest = path === MANIFEST_NAME || path.endsWith(`/${MANIFEST_NAME}`);
    const headers: Record<string, string> = { [SIZE_HEADER]: String(data.byteLength) };
    if (!manifest && data.byteLength >= this.#threshold) {
      await uploadMultipart(this.#client, key, data, headers, { partSize: this.#partSize, concurrency: this.#concurrency }, what);
      const head = await this.#client.send('HEAD', key, what, { accept: [404] });
      const stored = head.status === 404 ? undefined : Number(head.headers.get('content-length'));
      if (stored !== data.byteLength) {
        throw this.#client.error(
          'STORAGE_FAILURE',
          `${what}: the multipart upload completed but the object holds ${stored ?? 'nothing'} instead of ${data.byteLength} bytes`,
        );
      }
      return;
    }
    if (!manifest) {
      await this.#client.send('PUT', key, what, { body: data, headers });
      return;
    }
    const write = randomToken();
    const response = await this.#client.send('PUT', key, what, {
      body: data,
      headers: { ...headers, [WRITE_HEADER]: write, 'if-none-match': '*' },
      accept: [412],
    });
    if (response.status < 300) return;
    if (response.ambiguous) {
      // An earlier attempt may have landed before its answer was lost: then the object is ours.
      const head = await this.#client.send('HEAD', key, what, { accept: [404] });
      if (head.status !== 404 && head.headers.get(WRITE_HEADER) === write) return;
    }
    throw this.#client.error(
      'STORAGE_LOCKED',
      `${what}: another writer committed this checkpoint first (the manifest already exists; manifests are created only once)`,
    );
  }

  /** The object's bytes, or `undefined` when there is none; a body shorter than its recorded size is fetched again. */
  async get(path: string): Promise<Uint8Array | undefined> {
    this.#check(path, 'path');
    const response = await this.#client.send('GET', this.#key(path), `get "${path}"`, {
      readBody: true,
      accept: [404],
      verify: (r, bytes) => {
        const expected = r.headers.get(SIZE_HEADER) ?? r.headers.get('content-length');
        return expected !== null && Number(expected) !== bytes!.byteLength
          ? `the body was ${bytes!.byteLength} bytes, the object holds ${expected}`
          : undefined;
      },
    });
    return response.status === 404 ? undefined : response.bytes;
  }

  /** Paths starting with `prefix` (a plain string prefix), in code-unit order; lock objects and foreign names are left out. */
  async list(prefix: string): Promise<string[]> {
    if (typeof prefix !== 'string') throw new CheckpointStorageError('INVALID_ARGUMENT', 'a list prefix must be a string', { component: COMPONENT });
    const out: string[] = [];
    let token: string | undefined;
    do {
      const query: Record<string, string> = { 'list-type': '2', prefix: this.#prefix + prefix };
      if (token !== undefined) query['continuation-token'] = token;
      const response = await this.#client.send('GET', '', `list "${prefix}"`, { query, readBody: true });
      const xml = new TextDecoder().decode(response.bytes);
      for (const m of xml.matchAll(/<Contents>[\s\S]*?<Key>([^<]*)<\/Key>[\s\S]*?<\/Contents>/g)) {
        const path = unescapeXml(m[1]!).slice(this.#prefix.length);
        if (path.startsWith(prefix) && checkPath(path) === undefined) out.push(path);
      }
      const truncated = /<IsTruncated>true<\/IsTruncated>/.test(xml);
      const next = /<NextContinuationToken>([^<]+)<\/NextContinuationToken>/.exec(xml)?.[1];
      token = truncated && next !== undefined ? unescapeXml(next) : undefined;
    } while (token !== undefined);
    return out.sort();
  }

  /** Removes the object; a missing one is fine. */
  async delete(path: string): Promise<void> {
    this.#check(path, 'path');
    await this.#client.send('DELETE', this.#key(path), `delete "${path}"`, { accept: [404] });
  }

  #key(path: string): string {
    return this.#prefix + path;
  }

  #check(path: string, what: 'path' | 'scope'): void {
    const problem = checkPath(path);
    if (problem !== undefined) {
      throw new CheckpointStorageError('INVALID_ARGUMENT', what === 'scope' ? `invalid lock scope: ${problem}` : problem, { component: COMPONENT });
    }
  }
}
