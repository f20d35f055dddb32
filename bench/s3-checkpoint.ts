/**
 * s3-checkpoint: writing and reading back a 100 MiB checkpoint (4 parts of 25 MiB, written
 * in parallel, then a manifest) through S3CheckpointStorage, against raw SigV4-signed PUTs
 * and GETs of the same objects (aws4fetch, one request per object, no retries, no checks).
 * Default options: parts below 100 MiB go up in one PUT each; a third side forces
 * multipart (no floor). All go to the same moto_server on loopback, started here. Floor: 0.8 of the raw rate,
 * for writing and for reading each; the ratio reported is the lower of the two.
 */
import { AwsClient } from 'aws4fetch';
import { S3CheckpointStorage } from '../src/storages/s3/index.ts';
import { createBucket, MOTO_CREDENTIALS, MOTO_REGION, motoMissing, startMoto } from '../test/helpers/moto.ts';
import { gc, median, report, round } from './common.ts';

const MiB = 1024 * 1024;
const PARTS = 4;
const PART_BYTES = 25 * MiB;
const FLOOR = 0.8;

function partBytes(seed: number): Uint8Array {
  const out = new Uint8Array(PART_BYTES);
  const words = new Uint32Array(out.buffer);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return out;
}

function same(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return (
    a !== undefined &&
    a.byteLength === b.byteLength &&
    Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0
  );
}

export async function s3Checkpoint(runs: number): Promise<void> {
  const missing = motoMissing();
  if (missing) {
    report({ bench: 's3-checkpoint', skipped: missing, floor: FLOOR, pass: true });
    return;
  }
  const moto = await startMoto();
  try {
    await createBucket(moto.endpoint, 'bench');
    const parts = Array.from({ length: PARTS }, (_, i) => partBytes(i + 1));
    const manifest = new Uint8Array(2048).fill(7);
    const storage = new S3CheckpointStorage({ endpoint: moto.endpoint, bucket: 'bench', region: MOTO_REGION, credentials: MOTO_CREDENTIALS, prefix: 'eddy' });
    // The same with every part forced into a multipart upload (8 MiB parts, 4 in flight): no floor, it shows what multipart costs on this server.
    const forced = new S3CheckpointStorage({
      endpoint: moto.endpoint,
      bucket: 'bench',
      region: MOTO_REGION,
      credentials: MOTO_CREDENTIALS,
      prefix: 'forced',
      multipartThreshold: 5 * MiB,
      partSize: 8 * MiB,
    });
    const aws = new AwsClient({ ...MOTO_CREDENTIALS, service: 's3', region: MOTO_REGION, retries: 0 });
    let n = 0;

    const through = (storage: S3CheckpointStorage) => async (): Promise<[number, number]> => {
      const dir = `job/chk-${++n}`;
      const t0 = performance.now();
      await Promise.all(parts.map((p, i) => storage.put(`${dir}/op-${i}`, p)));
      await storage.put(`${dir}/_metadata`, manifest);
      const t1 = performance.now();
      if (!same(await storage.get(`${dir}/_metadata`), manifest)) throw new Error('eddy: manifest differs');
      const back = await Promise.all(parts.map((_, i) => storage.get(`${dir}/op-${i}`)));
      const t2 = performance.now();
      back.forEach((b, i) => {
        if (!same(b, parts[i]!)) throw new Error(`eddy: part ${i} differs`);
      });
      return [t1 - t0, t2 - t1];
    };
    const eddy = through(storage);
    const multipart = through(forced);
    const raw = async (): Promise<[number, number]> => {
      const dir = `${moto.endpoint}/bench/raw/job/chk-${++n}`;
      const put = async (url: string, body: Uint8Array) => {
        const r = await aws.fetch(url, { method: 'PUT', body: body as unknown as BodyInit });
        if (!r.ok) throw new Error(`raw PUT ${r.status}`);
        await r.body?.cancel();
      };
      const get = async (url: string) => {
        const r = await aws.fetch(url);
        if (!r.ok) throw new Error(`raw GET ${r.status}`);
        return new Uint8Array(await r.arrayBuffer());
      };
      const t0 = performance.now();
      await Promise.all(parts.map((p, i) => put(`${dir}/op-${i}`, p)));
      await put(`${dir}/_metadata`, manifest);
      const t1 = performance.now();
      if (!same(await get(`${dir}/_metadata`), manifest)) throw new Error('raw: manifest differs');
      const back = await Promise.all(parts.map((_, i) => get(`${dir}/op-${i}`)));
      const t2 = performance.now();
      back.forEach((b, i) => {
        if (!same(b, parts[i]!)) throw new Error(`raw: part ${i} differs`);
      });
      return [t1 - t0, t2 - t1];
    };

    // moto keeps every object in memory: each run's objects are deleted (untimed) so that
    // the server's heap does not grow from run to run and slow the later sides down.
    const clean = async () => {
      for (const prefix of ['eddy/', 'forced/']) {
        const s = prefix === 'eddy/' ? storage : forced;
        for (const p of await s.list('')) await s.delete(p);
      }
      const listing = await (await aws.fetch(`${moto.endpoint}/bench?list-type=2&prefix=raw/`)).text();
      for (const m of listing.matchAll(/<Key>([^<]+)<\/Key>/g)) await (await aws.fetch(`${moto.endpoint}/bench/${m[1]}`, { method: 'DELETE' })).body?.cancel();
    };
    const timed = async (side: () => Promise<[number, number]>, into: Array<[number, number]>) => {
      gc();
      into.push(await side());
      await clean();
    };
    // One warm-up each, then measured runs in A B B A order so that neither side always runs first.
    await timed(eddy, []);
    await timed(raw, []);
    const e: Array<[number, number]> = [];
    const r: Array<[number, number]> = [];
    for (let i = 0; i < runs; i++) {
      if (i % 2 === 0) {
        await timed(eddy, e);
        await timed(raw, r);
      } else {
        await timed(raw, r);
        await timed(eddy, e);
      }
    }
    // Forced multipart after the measured pairs (fewer runs: it is slow on moto and has no floor).
    const m: Array<[number, number]> = [];
    for (let i = 0; i < Math.min(3, runs); i++) await timed(multipart, m);
    const mib = (PARTS * PART_BYTES + manifest.byteLength) / MiB;
    const rate = (ms: number[]) => mib / (median(ms) / 1000);
    const eddyWrite = rate(e.map((x) => x[0]));
    const eddyRead = rate(e.map((x) => x[1]));
    const rawWrite = rate(r.map((x) => x[0]));
    const rawRead = rate(r.map((x) => x[1]));
    const ratio = Math.min(eddyWrite / rawWrite, eddyRead / rawRead);
    report({
      bench: 's3-checkpoint',
      server: 'moto_server 5.2.1 on 127.0.0.1 (started by the bench)',
      checkpointMiB: round(mib, 2),
      parts: `${PARTS} x ${PART_BYTES / MiB} MiB in parallel, then a 2 KiB manifest (If-None-Match create); default options (multipart from 100 MiB, so one PUT per part)`,
      stat: `median of ${runs} runs per side after 1 warm-up each, pairs in A B / B A order, objects deleted between runs; forced multipart: median of ${m.length} runs after them`,
      eddyWriteMiBPerSec: round(eddyWrite, 1),
      eddyReadMiBPerSec: round(eddyRead, 1),
      rawWriteMiBPerSec: round(rawWrite, 1),
      rawReadMiBPerSec: round(rawRead, 1),
      baseline: 'raw aws4fetch-signed PUT/GET of the same objects (one request each, no retries, no size checks)',
      writeRatio: round(eddyWrite / rawWrite, 3),
      readRatio: round(eddyRead / rawRead, 3),
      ratio: round(ratio, 3),
      forcedMultipartWriteMiBPerSec: round(rate(m.map((x) => x[0])), 1),
      forcedMultipartReadMiBPerSec: round(rate(m.map((x) => x[1])), 1),
      forcedMultipart:
        'the same through S3CheckpointStorage with multipartThreshold 5 MiB (8 MiB parts, 4 in flight); no floor: moto assembles parts in Python',
      eddyMs: e.map((x) => x.map((y) => round(y, 0))),
      rawMs: r.map((x) => x.map((y) => round(y, 0))),
      forcedMultipartMs: m.map((x) => x.map((y) => round(y, 0))),
      floor: FLOOR,
      pass: ratio >= FLOOR,
    });
  } finally {
    await moto.stop();
  }
}
