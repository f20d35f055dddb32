/**
 * The S3 HTTP client of `S3CheckpointStorage`: builds object URLs, signs each request
 * (SigV4 through `aws4fetch`, or the caller's own `presign` function), and retries with
 * bounded exponential backoff on 5xx, 429, timeouts and network errors. Only `fetch` is
 * used, looked up when the first request is made, so the same code runs in browsers,
 * Deno, Node and workerd.
 *
 * Credentials never leave this file in readable form: error messages name the method, the
 * object key, the HTTP status and S3's error `Code`/`Message` — never a URL's query (a
 * presigned URL carries a signature), never headers, never the rest of S3's error XML
 * (a `SignatureDoesNotMatch` body echoes the access key id) — and every text that does go
 * into an error passes `scrub`, which blanks the access key id, secret and session token.
 */
import { AwsClient } from 'aws4fetch';
import { CheckpointStorageError } from '../../api/errors.ts';

/** AWS-style credentials (prefer short-lived ones, e.g. from STS, in a browser). */
export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** An unsigned request, as handed to a {@link S3Presign} function. */
export interface S3UnsignedRequest {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD';
  /** The full URL, query included (e.g. `?uploads`, `?list-type=2&prefix=…`). */
  readonly url: string;
  /** Headers that must be signed with the request (conditions, metadata). */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Signs a request somewhere else — typically the user's own server, which holds the
 * credentials and returns a presigned URL (and headers to send with it). Lets a browser
 * write checkpoints without ever holding a secret.
 */
export type S3Presign = (request: S3UnsignedRequest) => Promise<{ url: string; headers?: Record<string, string> }>;

/** Connection and retry settings shared by every request. */
export interface S3ClientOptions {
  /** e.g. `https://s3.eu-west-1.amazonaws.com`, `https://<account>.r2.cloudflarestorage.com`, `http://127.0.0.1:9000`. */
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly credentials?: S3Credentials;
  readonly presign?: S3Presign;
  /** Defaults to the global `fetch`, looked up at the first request. */
  readonly fetch?: typeof fetch;
  /** Attempts per request before giving up (default 6). */
  readonly maxAttempts?: number;
  /** First backoff delay in ms, doubled per attempt with jitter, capped at 2 s (default 50). */
  readonly retryBaseMs?: number;
  /** A request (headers and body) that takes longer is aborted and retried (default 120 000). */
  readonly requestTimeoutMs?: number;
  /** Bucket as a host name (`bucket.endpoint`) instead of the first path segment (default false: path style, which MinIO, R2 and moto accept). */
  readonly virtualHosted?: boolean;
}

/** What a request may carry. */
export interface S3RequestInit {
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | string;
  /** Statuses the caller handles itself (e.g. 404, 412): returned, not retried or thrown. */
  readonly accept?: readonly number[];
  /** Reads the body as bytes within the retried attempt; the response is returned with `bytes`. */
  readonly readBody?: boolean;
  /** Checks a complete response (e.g. its length); a string return is a transient fault and the request is retried. */
  readonly verify?: (response: Response, bytes: Uint8Array | undefined) => string | undefined;
}

/** A response with its body already read when `readBody` was asked for. */
export interface S3Response {
  readonly status: number;
  readonly headers: Headers;
  readonly bytes?: Uint8Array;
  /** How many attempts it took (1 = no retry), and whether an earlier attempt may have reached the server. */
  readonly attempts: number;
  readonly ambiguous: boolean;
}

/** The component name in messages: `[storage:s3]`. */
export const COMPONENT = 'storage:s3';

/**
 * Transient by nature: S3's "slow down", timeouts, the gateway family, and 409
 * ConditionalRequestConflict (AWS: a concurrent conditional write to the key is in
 * progress; retried, the loser then gets its 412).
 */
const RETRYABLE_CODES = new Set([
  'ConditionalRequestConflict',
  'RequestTimeout',
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeTooSkewed',
  'BadDigest',
  'IncompleteBody',
]);

/** Signs and sends S3 requests with retries; one per storage. */
export class S3Client {
  readonly #options: S3ClientOptions;
  readonly #secrets: string[];
  #signer: AwsClient | undefined;
  readonly #base: string;

  constructor(options: S3ClientOptions) {
    this.#options = options;
    const c = options.credentials;
    this.#secrets = c ? [c.accessKeyId, c.secretAccessKey, c.sessionToken ?? ''].filter((s) => s.length >= 4) : [];
    const endpoint = options.endpoint.replace(/\/+$/, '');
    if (options.virtualHosted) {
      const url = new URL(endpoint);
      url.hostname = `${options.bucket}.${url.hostname}`;
      this.#base = url.toString().replace(/\/+$/, '');
    } else {
      this.#base = `${endpoint}/${encodeURIComponent(options.bucket)}`;
    }
  }

  /** The URL of an object key (keys are checked paths plus a prefix: URL-safe as they are). */
  url(key: string, query?: Readonly<Record<string, string>>): string {
    let url = key === '' ? `${this.#base}/` : `${this.#base}/${key.split('/').map(encodeURIComponent).join('/')}`;
    if (query) {
      const q = Object.entries(query)
        .map(([k, v]) => (v === '' ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`))
        .join('&');
      if (q) url += `?${q}`;
    }
    return url;
  }

  /** Blanks every credential in a text, and any presigned query string. */
  scrub(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join('***');
    return out.replace(/([?&]X-Amz-(?:Credential|Signature|Security-Token)=)[^&\s"']*/gi, '$1***');
  }

  /** A storage error naming the operation and key; its cause, if any, is a scrubbed copy. */
  error(code: 'STORAGE_FAILURE' | 'STORAGE_LOCKED' | 'INVALID_ARGUMENT', message: string, cause?: unknown): CheckpointStorageError {
    return new CheckpointStorageError(
      code,
      this.scrub(message),
      { component: COMPONENT },
      cause === undefined ? undefined : { cause: this.#cleanCause(cause) },
    );
  }

  /**
   * Sends one request, retrying transient failures; `what` (e.g. `put "job/chk-1/x"`)
   * names it in errors. Non-2xx statuses not in `accept` become a STORAGE_FAILURE.
   */
  async send(method: S3UnsignedRequest['method'], key: string, what: string, init: S3RequestInit = {}): Promise<S3Response> {
    const maxAttempts = this.#options.maxAttempts ?? 6;
    const base = this.#options.retryBaseMs ?? 50;
    let ambiguous = false;
    let last = '';
    let lastCause: unknown;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) await sleep(Math.min(2000, base * 2 ** (attempt - 2)) * (0.5 + Math.random()));
      let response: Response;
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(), this.#options.requestTimeoutMs ?? 120_000);
      try {
        try {
          response = await this.#fetch(method, key, init, timeout.signal);
        } catch (error) {
          if (error instanceof CheckpointStorageError) throw error; // signing or configuration: not transient
          // The request may have reached the server before the connection broke.
          ambiguous = method !== 'GET' && method !== 'HEAD';
          last = timeout.signal.aborted ? 'the request timed out' : `network error (${describe(error)})`;
          lastCause = error;
          continue;
        }
        if (response.status >= 200 && response.status < 300) {
          let bytes: Uint8Array | undefined;
          if (init.readBody) {
            try {
              bytes = new Uint8Array(await response.arrayBuffer());
            } catch (error) {
              last = timeout.signal.aborted ? 'the response timed out' : `the response body broke off (${describe(error)})`;
              lastCause = error;
              continue;
            }
          } else if (method !== 'HEAD') {
            await response.body?.cancel().catch(() => {});
          }
          const fault = init.verify?.(response, bytes);
          if (fault !== undefined) {
            last = fault;
            lastCause = undefined;
            continue;
          }
          return { status: response.status, headers: response.headers, bytes, attempts: attempt, ambiguous };
        }
        if (init.accept?.includes(response.status)) {
          await response.body?.cancel().catch(() => {});
          return { status: response.status, headers: response.headers, attempts: attempt, ambiguous };
        }
        const text = method === 'HEAD' ? '' : await response.text().catch(() => '');
        const s3 = parseError(text);
        last = `HTTP ${response.status}${s3.code ? ` ${s3.code}` : ''}${s3.message ? `: ${s3.message}` : ''}`;
        lastCause = undefined;
        const transient = response.status >= 500 || response.status === 429 || (s3.code !== undefined && RETRYABLE_CODES.has(s3.code));
        if (response.status >= 500) ambiguous ||= method !== 'GET' && method !== 'HEAD';
        if (!transient) throw this.error('STORAGE_FAILURE', `${what} failed: ${last}${hint(response.status, s3.code)}`);
      } finally {
        clearTimeout(timer);
      }
    }
    throw this.error('STORAGE_FAILURE', `${what} failed after ${maxAttempts} attempts: ${last}`, lastCause);
  }

  async #fetch(method: S3UnsignedRequest['method'], key: string, init: S3RequestInit, signal: AbortSignal): Promise<Response> {
    const doFetch = this.#options.fetch ?? globalThis.fetch;
    if (typeof doFetch !== 'function') throw this.error('STORAGE_FAILURE', 'no fetch() in this runtime: pass options.fetch');
    const url = this.url(key, init.query);
    const headers: Record<string, string> = { ...init.headers };
    const body = init.body;
    if (this.#options.presign) {
      let signed: { url: string; headers?: Record<string, string> };
      try {
        signed = await this.#options.presign({ method, url, headers });
      } catch (error) {
        throw this.error('STORAGE_FAILURE', `the presign function failed for ${method} ${key}: ${describe(error)}`, error);
      }
      return doFetch(new Request(signed.url, { method, headers: { ...headers, ...signed.headers }, body: body as BodyInit | undefined, signal }));
    }
    // The payload is not part of the signature (UNSIGNED-PAYLOAD, as aws4fetch does for S3 anyway:
    // hashing would cost a pass over every part), so the signer never sees the body — its
    // Request would copy the bytes once more.
    const request = await this.#aws().sign(url, { method, headers: { ...headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    // Handed over as a Request, as aws4fetch does: in Node 20 a PUT of a Uint8Array given in the
    // init took about 1.5x the client CPU (4 parallel 25 MiB PUTs: ~480 ms against ~320 ms).
    return doFetch(new Request(request.url, { method, headers: request.headers, body: body as BodyInit | undefined, signal }));
  }

  #aws(): AwsClient {
    if (this.#signer) return this.#signer;
    const c = this.#options.credentials!;
    // aws4fetch's own retries are not used: ours also cover network errors and verified bodies.
    this.#signer = new AwsClient({
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      sessionToken: c.sessionToken,
      service: 's3',
      region: this.#options.region,
      retries: 0,
    });
    return this.#signer;
  }

  /** A plain Error carrying only the scrubbed name, message and code of the original (no request objects, no headers). */
  #cleanCause(cause: unknown): Error {
    const clean = new Error(this.scrub(describe(cause)));
    clean.name = cause instanceof Error ? cause.name : 'Error';
    clean.stack = `${clean.name}: ${clean.message}`;
    return clean;
  }
}

/** S3's `<Code>` and `<Message>` — nothing else of its XML (which may echo the access key id). */
export function parseError(xml: string): { code?: string; message?: string } {
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(xml)?.[1];
  const message = /<Message>([^<]{1,500})<\/Message>/.exec(xml)?.[1];
  return { code, message: message === undefined ? undefined : unescapeXml(message) };
}

/** The five predefined XML entities and numeric references. */
export function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)));
    return ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" } as Record<string, string>)[e]!;
  });
}

function hint(status: number, code: string | undefined): string {
  if (status === 403) return ' (check the credentials, their permissions on the bucket, and the clock)';
  if (code === 'NoSuchBucket') return ' (create the bucket first)';
  return '';
}

/** An error's name, code and message, one line (no stack, no attached objects). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const inner = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.name}${typeof code === 'string' ? ` ${code}` : ''}: ${error.message}${inner}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
