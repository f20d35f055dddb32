/**
 * The browser side of the `opfs-checkpoint` bench: a checkpoint of `parts` parts plus a
 * small manifest, written and read back through OpfsCheckpointStorage (main thread,
 * createWritable), against the same objects in IndexedDB used as a blob store (one
 * readwrite transaction per object, as a storage's atomic put needs). Bytes are verified.
 */
import { OpfsCheckpointStorage } from '../../src/index.ts';

/** The runner's request. */
export interface OpfsBenchConfig {
  partBytes: number;
  parts: number;
  runs: number;
}

function pattern(bytes: number, seed: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < bytes; i += 4096) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function check(got: Uint8Array | undefined, want: Uint8Array, what: string): void {
  if (got === undefined || got.byteLength !== want.byteLength) throw new Error(`${what}: ${got?.byteLength} bytes, expected ${want.byteLength}`);
  for (let i = 0; i < want.byteLength; i += 4096) if (got[i] !== want[i]) throw new Error(`${what}: byte ${i} differs`);
}

let seq = 0;

async function opfs(parts: Uint8Array[]): Promise<void> {
  const storage = new OpfsCheckpointStorage({ directory: 'eddy-bench' });
  const dir = `job-${Date.now().toString(36)}-${++seq}/chk-1`;
  await Promise.all(parts.map((p, i) => storage.put(`${dir}/part-${i}`, p)));
  await storage.put(`${dir}/_metadata`, new Uint8Array(256));
  const back = await Promise.all(parts.map((_, i) => storage.get(`${dir}/part-${i}`)));
  back.forEach((b, i) => check(b, parts[i], `opfs part ${i}`));
  for (const p of await storage.list(`${dir}/`)) await storage.delete(p);
}

const done = (tx: IDBTransaction) => new Promise<void>((resolve, reject) => ((tx.oncomplete = () => resolve()), (tx.onabort = () => reject(tx.error))));

async function idb(parts: Uint8Array[]): Promise<void> {
  const name = `eddy-bench-blobs-${Date.now().toString(36)}-${++seq}`;
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const r = indexedDB.open(name, 1);
    r.onupgradeneeded = () => r.result.createObjectStore('objects');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const put = async (path: string, bytes: Uint8Array) => {
    const tx = db.transaction('objects', 'readwrite');
    tx.objectStore('objects').put(bytes, path);
    await done(tx);
  };
  await Promise.all(parts.map((p, i) => put(`chk-1/part-${i}`, p)));
  await put('chk-1/_metadata', new Uint8Array(256));
  const back = await Promise.all(
    parts.map(async (_, i) => {
      const tx = db.transaction('objects', 'readonly');
      const r = tx.objectStore('objects').get(`chk-1/part-${i}`);
      await done(tx);
      return r.result as Uint8Array;
    }),
  );
  back.forEach((b, i) => check(b, parts[i], `idb part ${i}`));
  db.close();
  await new Promise((r) => (indexedDB.deleteDatabase(name).onsuccess = r));
}

/** The same checkpoint through sync access handles in a dedicated worker (bench/browser/opfs-worker.ts). */
function inWorker(parts: Uint8Array[], runs: number): Promise<number[]> {
  const worker = new Worker(new URL('./opfs-worker.ts', import.meta.url), { type: 'module' });
  return new Promise<number[]>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<{ ms?: number[]; error?: string }>) => (e.data.ms ? resolve(e.data.ms) : reject(new Error(e.data.error)));
    worker.onerror = (e) => reject(new Error(e.message));
    worker.postMessage({ parts, runs });
  }).finally(() => worker.terminate());
}

/** Times both sides interleaved (one warm-up each), in ms per write + read-back; then the worker path. */
async function runOpfsBench(c: OpfsBenchConfig): Promise<{ opfs: number[]; idb: number[]; workerSyncAccess: number[] }> {
  const parts = Array.from({ length: c.parts }, (_, i) => pattern(c.partBytes, i + 1));
  const ms = { opfs: [] as number[], idb: [] as number[] };
  await opfs(parts);
  await idb(parts);
  for (let r = 0; r < c.runs; r++) {
    let t0 = performance.now();
    await opfs(parts);
    ms.opfs.push(performance.now() - t0);
    t0 = performance.now();
    await idb(parts);
    ms.idb.push(performance.now() - t0);
  }
  return { ...ms, workerSyncAccess: await inWorker(parts, c.runs) };
}

(globalThis as { runOpfsBench?: typeof runOpfsBench }).runOpfsBench = runOpfsBench;
