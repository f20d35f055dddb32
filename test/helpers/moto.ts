/**
 * A real S3-compatible server for tests: moto's `moto_server` (Python; it answers a second
 * `If-None-Match: *` create with 412 and honours `If-Match`), started on a free loopback
 * port and stopped by the caller. Node only (it spawns a process); browser tests get the
 * endpoint from `moto-global-setup.ts`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { AwsClient } from 'aws4fetch';

/** Test credentials: moto accepts any; these are distinctive so leak tests can search for them. */
export const MOTO_CREDENTIALS = { accessKeyId: 'AKIAEDDYTESTKEY12345', secretAccessKey: 'eddyTestSecret/9f8e7d6c5b4a3928171605ZZ' } as const;
export const MOTO_REGION = 'us-east-1';
/**
 * moto checks `If-None-Match: *` and then writes, without a lock (moto/s3/responses.py,
 * put_object), and its server is threaded: two racing creates can both succeed, which
 * real S3 never lets happen. Seen once in CI under load with 8 racing lock() calls.
 */
export const MOTO_RACY_CONDITIONAL_WRITES = "moto's conditional PUT is check-then-write without a lock, so racing creates can both win there";

/** Why S3 tests cannot run here, or undefined when `moto_server` is available. */
export function motoMissing(): string | undefined {
  const probe = spawnSync('moto_server', ['--help'], { stdio: 'ignore', timeout: 20_000 });
  if (probe.error)
    return `moto_server is not on PATH (${(probe.error as NodeJS.ErrnoException).code ?? probe.error.message}); install moto[server] to run the S3 tests`;
  return probe.status === 0 ? undefined : `moto_server --help exited with ${probe.status}`;
}

/** A free loopback port (the OS picks it; released just before moto binds it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A running moto server. */
export interface Moto {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Starts `moto_server -H 127.0.0.1 -p PORT` and waits until it answers. */
export async function startMoto(): Promise<Moto> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const endpoint = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    let up = false;
    while (Date.now() < deadline) {
      const done = await Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 100))]);
      if (done) break;
      up = await fetch(`${endpoint}/moto-api/`).then(
        (r) => (r.body?.cancel(), true),
        () => false,
      );
      if (up) break;
    }
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    };
    if (up) return { endpoint, stop };
    await stop();
    // The port may have been taken between our probe and moto's bind: try another.
    if (attempt >= 3) throw new Error(`moto_server did not start on port ${port}: ${stderr}`);
  }
}

/** Creates `bucket` (idempotent) and optionally sets its CORS rules and bucket policy. */
export async function createBucket(endpoint: string, bucket: string, cors?: string, policy?: object): Promise<void> {
  const aws = new AwsClient({ ...MOTO_CREDENTIALS, service: 's3', region: MOTO_REGION, retries: 0 });
  const created = await aws.fetch(`${endpoint}/${bucket}`, { method: 'PUT' });
  if (!created.ok && created.status !== 409) throw new Error(`creating bucket ${bucket}: HTTP ${created.status} ${await created.text()}`);
  await created.body?.cancel();
  if (cors !== undefined) {
    const set = await aws.fetch(`${endpoint}/${bucket}?cors`, { method: 'PUT', body: cors, headers: { 'content-type': 'application/xml' } });
    if (!set.ok) throw new Error(`PutBucketCors on ${bucket}: HTTP ${set.status} ${await set.text()}`);
  }
  if (policy !== undefined) {
    const set = await aws.fetch(`${endpoint}/${bucket}?policy`, {
      method: 'PUT',
      body: JSON.stringify(policy),
      headers: { 'content-type': 'application/json' },
    });
    if (!set.ok) throw new Error(`PutBucketPolicy on ${bucket}: HTTP ${set.status} ${await set.text()}`);
  }
}
