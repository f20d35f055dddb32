/**
 * The browser side of the `durable-log` bench (served by Vite, driven by
 * bench/durable-log.ts through Playwright): events/s appended to a `DurableLog` on
 * `IndexedDbInputLogStore` (strict durability) vs raw IndexedDB puts of the same encoded
 * events, 1,000 per strict transaction; and the same on `OpfsInputLogStore` vs raw OPFS
 * files of the same framed bytes, one `createWritable()` file per 1,000. Each run uses a
 * fresh log / database / directory; timed in the page, interleaved per store, the order
 * within a pair swapped every run, with a GC before each run.
 */
import { openDB } from 'idb';
import { DurableLog } from '../../src/engine/input-log/durable-log.ts';
import { serializeValue } from '../../src/format/value-codec.ts';
import { IndexedDbInputLogStore } from '../../src/storages/indexeddb-input-log.ts';
import { OpfsInputLogStore } from '../../src/storages/opfs-input-log.ts';
import { measureLatency } from '../durable-log-latency.ts';

/** What the Node side asks for. */
export interface LogBenchConfig {
  events: number;
  runs: number;
}

/** What the Node side asks of the latency part. */
export interface LatencyConfig {
  events: number;
  intervalMs: number;
  runs: number;
}

const BATCH = 1000;
const event = (i: number) => ({ k: `user-${i % 1000}`, ts: 1_700_000_000_000 + i, x: i % 640 });
let counter = 0;

async function logSide(events: number, opfs = false): Promise<void> {
  const name = `bench-${Date.now()}-${++counter}`;
  const log = await DurableLog.open(opfs ? new OpfsInputLogStore(name) : new IndexedDbInputLogStore(name), { tailCapacity: 0 });
  let pending: Promise<number>[] = [];
  for (let i = 0; i < events; i++) {
    pending.push(log.append(event(i)));
    if (pending.length === BATCH) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  if (log.durableOffset !== events) throw new Error(`log holds ${log.durableOffset}, expected ${events}`);
  await log.close();
}

async function rawSide(events: number): Promise<void> {
  const db = await openDB(`bench-raw-${Date.now()}-${++counter}`, 1, { upgrade: (d) => void d.createObjectStore('e') });
  for (let i = 0; i < events; i += BATCH) {
    const tx = db.transaction('e', 'readwrite', { durability: 'strict' });
    const store = tx.objectStore('e');
    for (let j = i; j < Math.min(events, i + BATCH); j++) void store.put(serializeValue(event(j)), j);
    await tx.done;
  }
  if ((await db.count('e')) !== events) throw new Error('raw side lost events');
  db.close();
}

async function rawOpfsSide(events: number): Promise<void> {
  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle(`bench-raw-${Date.now()}-${++counter}`, { create: true });
  for (let i = 0; i < events; i += BATCH) {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let j = i; j < Math.min(events, i + BATCH); j++) {
      const b = serializeValue(event(j));
      parts.push(b);
      total += 4 + b.byteLength;
    }
    const buf = new Uint8Array(total);
    const view = new DataView(buf.buffer);
    let at = 0;
    for (const p of parts) {
      view.setUint32(at, p.byteLength, true);
      buf.set(p, at + 4);
      at += 4 + p.byteLength;
    }
    const w = await (await dir.getFileHandle(`b-${i}`, { create: true })).createWritable();
    await w.write(buf);
    await w.close();
  }
}

type Sides = 'log' | 'raw' | 'opfsLog' | 'opfsRaw';

/** GC before a timed run when Chromium exposes it (`--js-flags=--expose-gc`), as the Node benches do. */
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

async function runLogBench(c: LogBenchConfig): Promise<Record<Sides, number[]>> {
  const out: Record<Sides, number[]> = { log: [], raw: [], opfsLog: [], opfsRaw: [] };
  const pairs: [Sides, (n: number) => Promise<void>][][] = [
    [
      ['log', (n) => logSide(n)],
      ['raw', rawSide],
    ],
    [
      ['opfsLog', (n) => logSide(n, true)],
      ['opfsRaw', rawOpfsSide],
    ],
  ];
  // One store's pair at a time (IndexedDB's background writes must not land in an OPFS run), the
  // first side of the pair swapped every run, so that neither side always follows the other.
  for (const pair of pairs) {
    for (const [, side] of pair) await side(c.events);
    for (let r = 0; r < c.runs; r++) {
      for (const [name, side] of r % 2 === 0 ? pair : [...pair].reverse()) {
        gc();
        const t0 = performance.now();
        await side(c.events);
        out[name].push(performance.now() - t0);
      }
    }
  }
  return out;
}

/** Latencies (ms) of every event of every run: straight from an EventTarget, through an IndexedDB log, through an OPFS log; interleaved. */
async function runLatencyBench(c: LatencyConfig): Promise<Record<'direct' | 'indexeddb' | 'opfs', number[]>> {
  const out = { direct: [] as number[], indexeddb: [] as number[], opfs: [] as number[] };
  for (let r = 0; r < c.runs; r++) {
    const name = `bench-latency-${Date.now()}-${++counter}`;
    out.direct.push(...(await measureLatency(undefined, c.events, c.intervalMs)));
    out.indexeddb.push(...(await measureLatency(() => DurableLog.open(new IndexedDbInputLogStore(name)), c.events, c.intervalMs)));
    out.opfs.push(...(await measureLatency(() => DurableLog.open(new OpfsInputLogStore(name)), c.events, c.intervalMs)));
  }
  return out;
}

(globalThis as unknown as { runLogBench: typeof runLogBench; runLatencyBench: typeof runLatencyBench }).runLogBench = runLogBench;
(globalThis as unknown as { runLatencyBench: typeof runLatencyBench }).runLatencyBench = runLatencyBench;
