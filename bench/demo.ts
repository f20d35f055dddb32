/**
 * demo: the demo page's job (demo/, built and served statically) in headless Chromium,
 * driven like a visitor: on each state backend a new job at parallelism 2 (2 eddy
 * workers) with 1-s checkpoints, the rate slider at its top (100,000 transactions/s).
 * After a warm-up, transactions generated and committed are counted over a measured span.
 * The source is paced and back-pressured, so the generated rate is what the job sustains.
 * Also reported: the longest main-thread task (Long Tasks API) while the job ran, how much
 * of a frame the page's own scripts took at most (Long Animation Frames), the long frames
 * between the click on Start and the new job running (the start itself), and the
 * invariant at the end (a broken one throws).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { buildDemo, openBrowser, serveStatic } from '../test/demo/demo-site.ts';
import { report, round } from './common.ts';

const WARMUP_MS = Number(process.env.BENCH_DEMO_WARMUP_MS ?? 5000);
const MEASURE_MS = Number(process.env.BENCH_DEMO_MEASURE_MS ?? 10_000);

/** What the page shows (a string expression: tsx would wrap a function's inner helpers in `__name`, which the page lacks). */
const read = (page: Page) =>
  page.evaluate(`(() => {
    const v = (id) => Number(document.getElementById(id).dataset.value);
    return {
      job: document.body.dataset.job,
      generated: v('generated'),
      committed: v('committed'),
      longestTaskMs: v('longtask'),
      ownScriptMs: Number(document.getElementById('longtask').dataset.ownScript),
      ownScriptWhat: document.getElementById('longtask').dataset.ownScriptWhat,
      worstFrame: document.getElementById('longtask').dataset.worstFrame,
      timeline: [...document.querySelectorAll('#checkpoints tbody tr')].slice(0, 6).map((r) => [0, 1, 3, 4].map((i) => r.cells[i].textContent).join(' ')),
      checkpoints: Number(document.getElementById('checkpoints').dataset.completed),
      ok: document.getElementById('invariant').dataset.ok,
      invariant: document.getElementById('invariant').textContent,
    };
  })()`) as Promise<{
    job?: string;
    generated: number;
    committed: number;
    longestTaskMs: number;
    ownScriptMs: number;
    ownScriptWhat?: string;
    worstFrame?: string;
    timeline: string[];
    checkpoints: number;
    ok?: string;
    invariant: string;
  }>;

/** Collects the page's long animation frames from now on (an observer of the bench's own, apart from the page's). */
const watchFrames = (page: Page) =>
  page.evaluate(`(() => {
    globalThis.benchFrames = [];
    globalThis.benchFramesFrom = performance.now();
    globalThis.benchObserver?.disconnect();
    globalThis.benchObserver = new PerformanceObserver((list) => { globalThis.benchFrames.push(...list.getEntries()); });
    globalThis.benchObserver.observe({ type: 'long-animation-frame' });
  })()`);

/** The long frames since `watchFrames`: the longest, and each with what its scripts were (invoker and ms). */
const startFrames = (page: Page) =>
  page.evaluate(`(() => {
    const frames = globalThis.benchFrames.filter((f) => f.startTime + f.duration >= globalThis.benchFramesFrom);
    return {
      longestMs: Math.max(0, ...frames.map((f) => f.duration)),
      frames: frames.map((f) => Math.round(f.duration) + ' ms: ' + (f.scripts.map((s) => s.invoker + ' ' + Math.round(s.duration) + ' ms').join(', ') || 'no script')),
    };
  })()`) as Promise<{ longestMs: number; frames: string[] }>;

/** From a Chromium trace: the CPU time of the renderer main thread's task that dispatched the click, and of its longest task. */
function mainThreadTasks(trace: Buffer): { clickCpuMs: number | null; longestCpuMs: number | null } {
  type TraceEvent = { name: string; ph: string; pid: number; tid: number; ts: number; dur?: number; tdur?: number; args?: { data?: { type?: string } } };
  const events = (JSON.parse(trace.toString()) as { traceEvents: TraceEvent[] }).traceEvents;
  const click = events.find((e) => e.name === 'EventDispatch' && e.args?.data?.type === 'click');
  if (!click) return { clickCpuMs: null, longestCpuMs: null };
  const tasks = events.filter((e) => e.pid === click.pid && e.tid === click.tid && e.name === 'RunTask' && e.ph === 'X');
  const ms = (us: number | undefined) => round((us ?? 0) / 1000, 1);
  const clickTask = tasks.find((t) => t.ts <= click.ts && t.ts + (t.dur ?? 0) >= click.ts);
  return { clickCpuMs: clickTask ? ms(clickTask.tdur) : null, longestCpuMs: ms(Math.max(0, ...tasks.map((t) => t.tdur ?? 0))) };
}

export async function demo(_runs: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'eddy-demo-bench-'));
  await buildDemo(dir);
  const site = await serveStatic(dir);
  const session = await openBrowser(site.origin);
  try {
    const { page } = session;
    // The main thread's CPU time (not wall time: the machine may be shared), through the DevTools protocol.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const mainThread = async () => {
      const { metrics } = await cdp.send('Performance.getMetrics');
      const m = (name: string) => (metrics.find((x) => x.name === name)?.value ?? 0) * 1000;
      return { cpu: m('ThreadTime'), script: m('ScriptDuration'), layout: m('LayoutDuration') + m('RecalcStyleDuration') };
    };
    await page.goto(`${site.origin}/index.html`);
    await page.waitForFunction(() => document.getElementById('status')?.dataset.value === 'RUNNING', undefined, { timeout: 120_000 });
    for (const backend of (process.env.BENCH_DEMO_BACKENDS ?? 'memory,indexeddb,sqlite').split(',')) {
      await page.selectOption('#backend', backend);
      await page.selectOption('#parallelism', '2');
      await page.fill('#interval', '1000');
      await page.setChecked('#incremental', true);
      await page.setChecked('#checkpointing', true);
      // The slider before the start: the job starts at 100,000/s (a change to a running job reaches its workers within 250 ms).
      await page.locator('#rate').fill('100');
      const before = (await read(page)).job;
      await watchFrames(page);
      await session.browser.startTracing(page, { categories: ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline'] });
      await page.click('#start');
      await page.waitForFunction((b) => document.body.dataset.job !== b && document.getElementById('status')?.dataset.value === 'RUNNING', before, {
        timeout: 120_000,
      });
      const start = await startFrames(page);
      const startTasks = mainThreadTasks(await session.browser.stopTracing());
      await page.waitForTimeout(WARMUP_MS);
      const a = await read(page);
      const ma = await mainThread();
      const t0 = Date.now();
      await page.waitForTimeout(MEASURE_MS);
      const b = await read(page);
      const mb = await mainThread();
      const seconds = (Date.now() - t0) / 1000;
      // '' is "nothing committed yet" (the page shows no verdict over no window): a slow run, not a broken invariant.
      if (b.ok === 'false') throw new Error(`demo bench (${backend}): the invariant broke: ${b.invariant}`);
      report({
        bench: 'demo',
        backend,
        browser: 'Chromium (installed, headless); job in a host worker + 2 eddy workers',
        stat: `one ${MEASURE_MS / 1000}-s span after a ${WARMUP_MS / 1000}-s warm-up; rate slider at 100,000/s; 1-s incremental checkpoints to OPFS`,
        eventsPerSecond: round((b.generated - a.generated) / seconds, 0),
        committedPerSecond: round((b.committed - a.committed) / seconds, 0),
        checkpointsCompleted: b.checkpoints - a.checkpoints,
        longestMainThreadTaskMs: round(b.longestTaskMs, 0),
        // The start alone: from the click on Start until the new job runs (frames over 50 ms only, as the API reports).
        startLongestFrameMs: round(start.longestMs, 0),
        startLongFrames: start.frames,
        // The same span in CPU time (trace events' thread time), which a loaded machine does not inflate: the click's task and the longest task of the page's main thread.
        startClickTaskCpuMs: startTasks.clickCpuMs,
        startLongestTaskCpuMs: startTasks.longestCpuMs,
        // How much of that was the page's own scripts (Long Animation Frames script attribution, Chromium): the rest is the browser's work (GC, style, layout, IPC).
        longestPageScriptMs: round(b.ownScriptMs, 0),
        longestPageScript: b.ownScriptWhat ?? null,
        worstFrame: b.worstFrame ?? null,
        // What the page costs its main thread per second of the run: CPU time, and of it scripts and style/layout.
        mainThreadCpuMsPerSecond: round((mb.cpu - ma.cpu) / seconds, 1),
        mainThreadScriptMsPerSecond: round((mb.script - ma.script) / seconds, 1),
        mainThreadLayoutMsPerSecond: round((mb.layout - ma.layout) / seconds, 1),
        loadAverage: round(loadavg()[0]!, 1),
        // The newest checkpoints: id, status, end-to-end duration, synchronous part.
        timeline: b.timeline,
        invariant: b.ok === 'true' ? 'holds' : 'nothing committed yet',
        floor: null,
        pass: true,
      });
    }
    if (session.errors.length > 0) throw new Error(`demo bench: the page logged errors: ${session.errors.join('\n')}`);
  } finally {
    await session.close();
    await site.close();
    await rm(dir, { recursive: true, force: true });
  }
}
