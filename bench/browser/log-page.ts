/**
 * The browser side of the `durable-log` bench (served by Vite, driven by
 * bench/durable-log.ts through Playwright): events/s appended to a `DurableLog` on
 * `IndexedDbInputLogStore` (strict durability) vs raw IndexedDB puts of the same encoded
 * events, 1,000 per strict transaction. Each run uses a fresh log / database; timed in
 * the page, interleaved.
 */
import { openDB } from 'idb';
import { DurableLog } from '../../src/engine/input-log/durable-log.ts';
import { serializeValue } from '../../src/format/value-codec.ts';
import { IndexedDbInputLogStore } from '../../src/storages/indexeddb-input-log.ts';

/** What the Node side asks for. */
export interface LogBenchConfig {
  events: number;
  runs: number;
}

const BATCH = 1000;
const event = (i: number) => ({ k: `user-${i % 1000}`, ts: 1_700_000_000_000 + i, x: i % 640 });
let counter = 0;

async function logSide(events: number): Promise<void> {
  const log = await DurableLog.open(new IndexedDbInputLogStore(`bench-${Date.now()}-${++counter}`), { tailCapacity: 0 });
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

async function runLogBench(c: LogBenchConfig): Promise<{ log: number[]; raw: number[] }> {
  const out = { log: [] as number[], raw: [] as number[] };
  await logSide(c.events);
  await rawSide(c.events);
  for (let r = 0; r < c.runs; r++) {
    for (const [name, side] of [
      ['log', logSide],
      ['raw', rawSide],
    ] as const) {
      const t0 = performance.now();
      await side(c.events);
      out[name].push(performance.now() - t0);
    }
  }
  return out;
}

(globalThis as unknown as { runLogBench: typeof runLogBench }).runLogBench = runLogBench;
