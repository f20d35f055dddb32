/**
 * Profiling harness for workers-speedup-chromium (not part of `npm run bench`): runs the
 * bench page under a Chromium trace (every thread of the page's renderer: the main thread
 * and both Web Workers, with V8's sampling profiler) and prints, per run and thread, the
 * busy time (wall and thread CPU of its tasks), the GC time and the top functions by
 * self time from the samples; first a summary per run: thread CPU of the page (main
 * thread + workers) and of the busiest worker, and V8's optimizing compiles and deopts
 * (with `disabled-by-default-v8.compile` and `v8` in PROFILE_CATEGORIES), and how long each
 * worker waited between its tasks (for messages; on a loaded machine also for a core).
 * `top` 0 prints only that. `PROFILE_CREDITS=n` runs the workers with n credits per channel,
 * `PROFILE_BATCH=n` with source batches of n records, `PROFILE_WORKERS=1` the workers side on one worker (no exchange: what a worker costs beside the page), `PROFILE_B_BATCH=n` / `PROFILE_B_CREDITS=n` a second workers side with that batch size / credits after the first in every round (runs `workersB <i>`: two settings under the same load), `PROFILE_YIELD_MS=n` with input turns every n ms.
 *   node --import tsx bench/profile-workers-chromium.ts [runs] [top]
 *   node --import tsx bench/profile-workers-chromium.ts saved-trace.json [top]   (analyse a kept trace)
 * `PROFILE_CONSOLE=1` echoes the page's and workers' console. `PROFILE_CHROMIUM_ARGS='--js-flags=--trace-deopt'` adds Chromium arguments (with `DEBUG=pw:browser` V8's output shows). `PROFILE_TRACE=/tmp/x.json` keeps the raw trace (loadable in chrome://tracing or Perfetto).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { openChromium } from '../test/helpers/chromium-page.ts';
import type { WorkersBenchConfig, WorkersBenchResult } from './browser/workers-page.ts';

const saved = process.argv[2]?.endsWith('.json') ? process.argv[2] : undefined;
const runs = saved ? 0 : Number(process.argv[2] ?? 3);
const top = Number(process.argv[3] ?? 8);

interface TraceEvent {
  name: string;
  cat: string;
  ph: string;
  ts: number;
  dur?: number;
  tdur?: number;
  pid: number;
  tid: number;
  id?: string;
  args?: {
    name?: string;
    data?: {
      startTime: number;
      cpuProfile?: {
        nodes?: Array<{ id: number; callFrame: { functionName?: string; url?: string; lineNumber?: number } }>;
        samples?: number[];
      };
      timeDeltas?: number[];
    };
  };
}

if (saved) analyse((JSON.parse(readFileSync(saved, 'utf8')) as { traceEvents: TraceEvent[] }).traceEvents);
else await profile();

async function profile(): Promise<void> {
  const session = await openChromium(process.env.PROFILE_CHROMIUM_ARGS?.split(' ') ?? []);
  try {
    const { page, origin, browser } = session;
    await page.goto(`${origin}/bench/browser/workers.html`);
    if (process.env.PROFILE_CONSOLE) page.on('console', (m) => console.log('[page]', m.text()));
    await page.waitForFunction(() => 'runWorkersBench' in globalThis, undefined, { timeout: 60_000 });
    await browser.startTracing(page, {
      categories: (process.env.PROFILE_CATEGORIES ?? 'toplevel,blink.user_timing,devtools.timeline,disabled-by-default-v8.cpu_profiler,v8.execute').split(','),
    });
    const c: WorkersBenchConfig = {
      events: Number(process.env.PROFILE_EVENTS ?? 200_000),
      keys: 1_000,
      rounds: Number(process.env.BENCH_ROUNDS ?? 200),
      runs,
      ...(process.env.PROFILE_CREDITS ? { credits: Number(process.env.PROFILE_CREDITS) } : {}),
      ...(process.env.PROFILE_B_BATCH || process.env.PROFILE_B_CREDITS
        ? {
            variantB: {
              ...(process.env.PROFILE_B_BATCH ? { sourceBatchSize: Number(process.env.PROFILE_B_BATCH) } : {}),
              ...(process.env.PROFILE_B_CREDITS ? { credits: Number(process.env.PROFILE_B_CREDITS) } : {}),
            },
          }
        : {}),
      ...(process.env.PROFILE_WORKERS ? { workerCount: Number(process.env.PROFILE_WORKERS) } : {}),
      ...(process.env.PROFILE_BATCH ? { sourceBatchSize: Number(process.env.PROFILE_BATCH) } : {}),
      ...(process.env.PROFILE_YIELD_MS ? { inputYieldIntervalMs: Number(process.env.PROFILE_YIELD_MS) } : {}),
    };
    const load0 = loadavg()[0]!;
    const ms = (await page.evaluate(
      (x) => (globalThis as unknown as { runWorkersBench(c: WorkersBenchConfig): Promise<WorkersBenchResult> }).runWorkersBench(x),
      c,
    )) as WorkersBenchResult;
    const trace = await browser.stopTracing();
    if (process.env.PROFILE_TRACE) writeFileSync(process.env.PROFILE_TRACE, trace);
    console.log(
      `workers ms ${ms.workers.map((x) => x.toFixed(0)).join(' ')} | local ms ${ms.local.map((x) => x.toFixed(0)).join(' ')} | load ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`,
    );
    analyse((JSON.parse(trace.toString('utf8')) as { traceEvents: TraceEvent[] }).traceEvents);
  } finally {
    await session.close();
  }
}

function analyse(events: TraceEvent[]): void {
  const threadName = new Map<string, string>();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') threadName.set(`${e.pid}:${e.tid}`, e.args!.name!);
  // The runs: the page's performance.measure() spans.
  const open = new Map<string, number>();
  const windows: Array<{ name: string; start: number; end: number }> = [];
  for (const e of events) {
    if (e.cat !== 'blink.user_timing') continue;
    if (e.ph === 'b') open.set(e.name, e.ts);
    else if (e.ph === 'e' && open.has(e.name)) windows.push({ name: e.name, start: open.get(e.name)!, end: e.ts });
  }
  windows.sort((a, b) => a.start - b.start);
  const mainPid = events.find((e) => e.cat === 'blink.user_timing')?.pid;
  const threads = [...new Set(events.filter((e) => e.pid === mainPid).map((e) => `${e.pid}:${e.tid}`))].filter((t) =>
    /CrRendererMain|DedicatedWorker/.test(threadName.get(t) ?? ''),
  );

  // Samples per thread: [timestamp µs, node id] with the node table of its profile.
  const samples = new Map<string, Array<{ ts: number; label: string }>>();
  const profiles = new Map<string, { thread: string; ts: number; nodes: Map<number, string> }>();
  for (const e of events) {
    if (e.name === 'Profile') profiles.set(`${e.pid}:${e.id}`, { thread: `${e.pid}:${e.tid}`, ts: e.args!.data!.startTime, nodes: new Map() });
    if (e.name !== 'ProfileChunk') continue;
    const p = profiles.get(`${e.pid}:${e.id}`);
    if (!p) continue;
    const d = e.args!.data!;
    for (const n of d.cpuProfile?.nodes ?? []) {
      const cf = n.callFrame;
      const file = (cf.url ?? '').replace(/^.*\/(src|bench)\//, '$1/').replace(/\?.*$/, '');
      p.nodes.set(n.id, `${cf.functionName || '(anonymous)'}${file ? ` ${file}:${(cf.lineNumber ?? 0) + 1}` : ''}`);
    }
    const list = samples.get(p.thread) ?? [];
    samples.set(p.thread, list);
    const ids: number[] = d.cpuProfile?.samples ?? [];
    const deltas: number[] = d.timeDeltas ?? [];
    for (let i = 0; i < ids.length; i++) {
      p.ts += deltas[i] ?? 0;
      list.push({ ts: p.ts, label: p.nodes.get(ids[i]!) ?? `#${ids[i]}` });
    }
  }

  // Thread CPU per run: the whole page (main thread + workers) and the busiest worker; V8's compile and deopt counts.
  const summary = { workers: [] as string[], local: [] as string[] };
  for (const w of windows) {
    const side = /^(workers|local) \d+$/.exec(w.name)?.[1] as keyof typeof summary | undefined;
    if (!side) continue;
    const cpu = new Map<string, number>();
    // Per worker: the end of its previous task, and the time it waited between tasks (idle, or not scheduled).
    const waits = new Map<string, { end: number; idle: number }>();
    let compiles = 0;
    let deopts = 0;
    for (const e of events) {
      if (e.ts < w.start || e.ts >= w.end || e.ph !== 'X') continue;
      if (e.name === 'V8.TurbofanTask' || e.name === 'V8.MaglevTask') compiles++;
      if (e.name === 'V8.DeoptimizeCode') deopts++;
      const t = `${e.pid}:${e.tid}`;
      if (e.cat !== 'toplevel' || e.name !== 'ThreadControllerImpl::RunTask' || !threads.includes(t)) continue;
      cpu.set(t, (cpu.get(t) ?? 0) + (e.tdur ?? 0) / 1000);
      if (!/DedicatedWorker/.test(threadName.get(t) ?? '')) continue;
      const g = waits.get(t);
      if (g) g.idle += Math.max(0, e.ts - g.end) / 1000;
      waits.set(t, { end: e.ts + (e.dur ?? 0), idle: g?.idle ?? 0 });
    }
    const total = [...cpu.values()].reduce((a, b) => a + b, 0);
    const busiest = Math.max(0, ...[...cpu].filter(([t]) => /DedicatedWorker/.test(threadName.get(t) ?? '')).map(([, v]) => v));
    const idle = [...waits.values()].map((g) => g.idle.toFixed(0)).join(' / ');
    summary[side].push(
      `${w.name}: ${((w.end - w.start) / 1000).toFixed(0)} ms, cpu ${total.toFixed(0)} ms${side === 'workers' ? ` (busiest worker ${busiest.toFixed(0)}; between tasks ${idle} ms)` : ''}, compiles ${compiles}, deopts ${deopts}`,
    );
  }
  console.log(`${summary.workers.join('\n')}\n${summary.local.join('\n')}`);

  if (top === 0) return;
  for (const w of windows) {
    console.log(`\n=== ${w.name}: ${((w.end - w.start) / 1000).toFixed(0)} ms`);
    for (const t of threads) {
      const inside = (e: TraceEvent) => e.ts >= w.start && e.ts < w.end && `${e.pid}:${e.tid}` === t;
      let wall = 0;
      let cpu = 0;
      let tasks = 0;
      let gc = 0;
      for (const e of events) {
        if (!inside(e) || e.ph !== 'X') continue;
        if (e.cat === 'toplevel' && /RunTask/.test(e.name)) {
          wall += e.dur ?? 0;
          cpu += e.tdur ?? 0;
          tasks++;
        }
        if (/^(MinorGC|MajorGC|V8\.GC_.*)$/.test(e.name) && e.cat.includes('devtools.timeline')) gc += e.dur ?? 0;
      }
      const own = (samples.get(t) ?? []).filter((s) => s.ts >= w.start && s.ts < w.end);
      const count = new Map<string, number>();
      for (const s of own) count.set(s.label, (count.get(s.label) ?? 0) + 1);
      const busy = own.filter((s) => s.label !== '(idle)' && !s.label.startsWith('(program)')).length;
      console.log(
        `  ${threadName.get(t)} [${t}]: tasks ${tasks}, busy wall ${(wall / 1000).toFixed(0)} ms, thread cpu ${(cpu / 1000).toFixed(0)} ms, GC ${(gc / 1000).toFixed(0)} ms, samples ${own.length} (${busy} busy)`,
      );
      for (const [label, n] of [...count].sort((a, b) => b[1] - a[1]).slice(0, top))
        console.log(`      ${((100 * n) / Math.max(1, own.length)).toFixed(1).padStart(5)}%  ${label}`);
    }
  }
}
