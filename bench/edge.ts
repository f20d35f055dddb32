/**
 * edge: events/s through one Durable Object in workerd (miniflare), eddy's keyed job on
 * `DurableObjectStateBackend` vs a hand-written object doing the same count with raw
 * `ctx.storage.sql` upserts (`edge-worker.ts`), and the workerd process's CPU time per event.
 *
 * Both sides get the same pre-generated batches through the same Worker, posted one after
 * the other from Node (`dispatchFetch`), then one batch of `report` events asking every
 * key's count, verified inside the timed run. Every run starts a fresh workerd (not timed).
 *
 * CPU time is read from /proc (utime + stime of the workerd process, all threads, Worker
 * and object together): the object itself cannot time its CPU work, since on Cloudflare's
 * servers the clock does not advance while JavaScript runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { gc, median, report, round } from './common.ts';

const EVENTS = Number(process.env.EDGE_BENCH_EVENTS ?? 20_000);
const KEYS = 1_000;
const BATCH = Number(process.env.EDGE_BENCH_BATCH ?? 500);
const FLOOR = 0.5;

interface EdgeEvent {
  k: string;
  report?: boolean;
}

/** utime + stime (ms) of the workerd processes this process started; undefined off Linux. */
function workerdCpuMs(): number | undefined {
  let ticks = 0;
  let found = false;
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue;
      }
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (comm !== 'workerd' || Number(fields[1]) !== process.pid) continue;
      ticks += Number(fields[11]) + Number(fields[12]);
      found = true;
    }
  } catch {
    return undefined;
  }
  // Linux reports in clock ticks of 1/100 s (USER_HZ).
  return found ? ticks * 10 : undefined;
}

function batchesOf(): Array<{ id: string; events: EdgeEvent[] }> {
  const out = [];
  for (let i = 0; i < EVENTS; i += BATCH) {
    const events: EdgeEvent[] = [];
    for (let j = i; j < Math.min(i + BATCH, EVENTS); j++) events.push({ k: `k${j % KEYS}` });
    out.push({ id: `b${i}`, events });
  }
  out.push({ id: 'report', events: Array.from({ length: KEYS }, (_, k) => ({ k: `k${k}`, report: true })) });
  return out;
}

/** One timed run of a side in a fresh workerd: wall ms and workerd CPU ms. */
async function runSide(script: string, path: string, batches: ReturnType<typeof batchesOf>): Promise<{ ms: number; cpuMs: number | undefined }> {
  const mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: '2026-07-01',
    durableObjects: {
      EDDY_JOB: { className: 'EddyJobObject', useSQLite: true },
      HEAP_JOB: { className: 'HeapJobObject', useSQLite: true },
      RAW: { className: 'RawCountObject', useSQLite: true },
    },
  });
  try {
    await mf.ready;
    gc();
    const cpu0 = workerdCpuMs();
    const t0 = performance.now();
    let counts: Array<[string, number]> = [];
    for (const b of batches) {
      const response = await mf.dispatchFetch(`http://localhost${path}`, { method: 'POST', body: JSON.stringify(b) });
      const answer = (await response.json()) as { output: Array<[string, number]> };
      if (!response.ok) throw new Error(`${path}: ${JSON.stringify(answer)}`);
      counts = answer.output;
    }
    const perKey = EVENTS / KEYS;
    if (counts.length !== KEYS || counts.some(([, c]) => c !== perKey))
      throw new Error(`${path}: wrong counts (${counts.length} keys, e.g. ${JSON.stringify(counts[0])})`);
    const ms = performance.now() - t0;
    const cpu1 = workerdCpuMs();
    return { ms, cpuMs: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0 };
  } finally {
    await mf.dispose();
  }
}

/** Two JSON lines: eddy (DurableObjectStateBackend, then heap state) events/s ÷ raw events/s, and CPU µs per event. */
export async function edge(runs: number): Promise<void> {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./edge-worker.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    external: ['node:*'],
    target: 'es2022',
    logLevel: 'silent',
  });
  const script = bundle.outputFiles[0]!.text;
  const batches = batchesOf();
  const sides = [
    { name: 'eddy', path: '/events' },
    { name: 'raw', path: '/raw' },
    { name: 'heap', path: '/heap/events' },
  ];
  for (const s of sides) await runSide(script, s.path, batches); // warm-up
  const results = sides.map(() => ({ ms: [] as number[], cpu: [] as number[] }));
  for (let r = 0; r < runs; r++) {
    for (let i = 0; i < sides.length; i++) {
      const { ms, cpuMs } = await runSide(script, sides[i]!.path, batches);
      results[i]!.ms.push(ms);
      if (cpuMs !== undefined) results[i]!.cpu.push(cpuMs);
    }
  }
  const [eddy, raw, heap] = results as [(typeof results)[0], (typeof results)[0], (typeof results)[0]];
  const eddyEps = EVENTS / (median(eddy.ms) / 1000);
  const rawEps = EVENTS / (median(raw.ms) / 1000);
  const ratio = eddyEps / rawEps;
  const cpuPerEvent = (cpu: number[]) => (cpu.length === 0 ? null : round((median(cpu) * 1000) / EVENTS, 2));
  report({
    bench: 'edge',
    events: EVENTS,
    keys: KEYS,
    batch: BATCH,
    objects: 1,
    input:
      "same pre-generated batches on both sides, posted one after the other through the Worker (miniflare dispatchFetch), then one batch asking every key's count (verified, timed)",
    engine:
      'keyedJob (parallelism 1) on DurableObjectStateBackend: KeyedProcessFunction counting in ValueState<number>, each batch in one storage transaction with its id and output',
    baseline: 'hand-written Durable Object: per batch one transactionSync of raw ctx.storage.sql UPSERTs (INSERT … ON CONFLICT DO UPDATE) plus the batch id',
    stat: `median of ${runs} interleaved runs after 1 warm-up each, a fresh workerd per run`,
    engineEventsPerSec: Math.round(eddyEps),
    baselineEventsPerSec: Math.round(rawEps),
    ratio: round(ratio, 4),
    engineCpuMicrosPerEvent: cpuPerEvent(eddy.cpu),
    baselineCpuMicrosPerEvent: cpuPerEvent(raw.cpu),
    cpu: 'utime + stime of the workerd process (Worker and object) per event, from /proc; null where /proc is missing',
    engineMs: eddy.ms.map((x) => round(x, 1)),
    baselineMs: raw.ms.map((x) => round(x, 1)),
    floor: FLOOR,
    pass: ratio >= FLOOR,
  });
  const heapEps = EVENTS / (median(heap.ms) / 1000);
  report({
    bench: 'edge',
    variant: 'heap-state',
    events: EVENTS,
    engine: "the same keyedJob with keyed state on the heap (HashMapStateBackend), its snapshot written to the object's storage with every batch",
    baseline: 'the hand-written Durable Object of the first line (same runs)',
    engineEventsPerSec: Math.round(heapEps),
    baselineEventsPerSec: Math.round(rawEps),
    ratio: round(heapEps / rawEps, 4),
    engineCpuMicrosPerEvent: cpuPerEvent(heap.cpu),
    baselineCpuMicrosPerEvent: cpuPerEvent(raw.cpu),
    engineMs: heap.ms.map((x) => round(x, 1)),
    floor: null,
    pass: null,
  });
}
