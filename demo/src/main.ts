/**
 * The page: settings, faults, the invariant, charts, checkpoints and the state inspector.
 * The job runs in a host worker (`host.worker.ts`) reached through comlink, which also
 * judges the committed output; the page polls it twice a second and draws what it says in
 * one animation frame, so its main thread stays idle while the job runs.
 */
import { wrap, type Remote } from 'comlink';
import { LiveChart } from './charts.ts';
import type { DemoConfig, DemoHostApi, HostSnapshot } from './host.worker.ts';
import { CARDS, cardName, PROFILE_UID, SPLITS, type BackendName } from './scenario.ts';
import { claimTab } from './tab.ts';
import { bytes, renderCheckpoints, renderCounters, renderProblem, renderRecovery, renderState, resetView } from './view.ts';

/** What the page keeps across reloads (localStorage), so a reload resumes the same job. */
interface Saved {
  jobName: string;
  config: DemoConfig;
  positions: number[];
  savepoint?: string;
  reloadAt?: number;
}
const KEY = 'eddy-demo';
const load = (): Saved | undefined => JSON.parse(localStorage.getItem(KEY) ?? 'null') ?? undefined;
const save = (s: Saved) => localStorage.setItem(KEY, JSON.stringify(s));

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const host: Remote<DemoHostApi> = wrap(new Worker(new URL('./host.worker.ts', import.meta.url), { type: 'module', name: 'eddy-demo-host' }));

let saved = load();
let paused = false;

/** The rate slider is logarithmic: 0 → 10/s, 100 → 100,000/s. */
const rateOf = (v: number) => Math.round(10 * 10 ** (v / 25));
const rate = () => rateOf(Number($<HTMLInputElement>('rate').value));

function settings(): DemoConfig {
  return {
    backend: $<HTMLSelectElement>('backend').value as BackendName,
    parallelism: Number($<HTMLSelectElement>('parallelism').value),
    checkpointIntervalMs: Math.max(100, Number($<HTMLInputElement>('interval').value) || 1000),
    incremental: $<HTMLInputElement>('incremental').checked,
    checkpointing: $<HTMLInputElement>('checkpointing').checked,
    rate: rate(),
    paused,
  };
}

function showSettings(c: DemoConfig): void {
  $<HTMLSelectElement>('backend').value = c.backend;
  $<HTMLSelectElement>('parallelism').value = String(c.parallelism);
  $<HTMLInputElement>('interval').value = String(c.checkpointIntervalMs);
  $<HTMLInputElement>('incremental').checked = c.incremental;
  $<HTMLInputElement>('checkpointing').checked = c.checkpointing;
  checkpointControls();
  $<HTMLInputElement>('rate').value = String(Math.round(25 * Math.log10(c.rate / 10)));
  setPaused(c.paused);
}

/** The interval and incremental settings mean nothing without checkpointing: greyed out then. */
function checkpointControls(): void {
  const off = !$<HTMLInputElement>('checkpointing').checked;
  $<HTMLInputElement>('interval').disabled = off;
  $<HTMLInputElement>('incremental').disabled = off;
}

function setPaused(p: boolean): void {
  paused = p;
  $('pause').setAttribute('aria-pressed', String(p));
  $('pause').textContent = p ? 'Resume' : 'Pause';
  $('rate-out').textContent = rate().toLocaleString('en');
}

/**
 * Starts a new job with `config` (the form as it was submitted). The submit handler only
 * takes the form's values and resets the frame measurements; this runs after the browser
 * painted the click's frame, in two tasks of its own (clearing the view, then the message
 * to the host), so that no task of the start comes near 50 ms: the click's frame stays short.
 */
async function startFresh(config: DemoConfig): Promise<void> {
  await afterPaint();
  const previous = saved?.jobName;
  const jobName = `demo-${Date.now().toString(36)}`;
  saved = { jobName, config, positions: new Array(SPLITS).fill(0) };
  save(saved);
  history = [];
  resetView();
  await afterPaint();
  await host.start(jobName, config, { kind: 'fresh', previousJob: previous });
}

/** A job that could not start says why beside the Start button (and in the console, with its stack). */
function showStartError(err: unknown): void {
  console.warn('eddy demo: the job did not start', err);
  const el = $('start-error');
  el.textContent = `The job did not start: ${(err as Error)?.message ?? String(err)}`;
  el.hidden = false;
}

/** Resolves after the next frame was painted (at once in a hidden tab, where no frame comes). */
function afterPaint(): Promise<void> {
  return new Promise((resolve) => {
    if (document.visibilityState === 'hidden') setTimeout(resolve, 0);
    else requestAnimationFrame(() => setTimeout(resolve, 0));
  });
}

/** Forgets the longest task and frame: from here on they are the new job's (its start included). */
function resetMeasures(): void {
  longest = 0;
  ownScript = 0;
  worstFrame = 0;
  delete $('longtask').dataset.ownScriptWhat;
  delete $('longtask').dataset.worstFrame;
}

/** After a reload: the same job, from its newest checkpoint in OPFS, without a click. */
async function resume(s: Saved, takenOverAt?: number): Promise<void> {
  showSettings(s.config);
  const reloadedAt = s.reloadAt;
  save({ ...s, reloadAt: undefined });
  await host.start(s.jobName, s.config, { kind: 'resume', positions: s.positions, savepoint: s.savepoint, reloadedAt, takenOverAt });
}

// Charts: throughput, latency, per-worker load, state size.
const charts = $('charts');
const throughput = new LiveChart(charts, 'Throughput', 'transactions/s', ['generated', 'processed', 'committed']);
// From the newest transaction of the newest committed window being generated: to its window firing, and to its commit (the sink's own commit time).
const latency = new LiveChart(charts, 'End-to-end latency', 'ms', ['window fired', 'committed (exactly once)']);
const WORKERS = ['worker 1', 'worker 2', 'worker 3', 'worker 4'];
const load_ = new LiveChart(charts, 'Load per worker', 'records in/s', WORKERS);
const stateSize = new LiveChart(charts, 'State size', 'checkpointed', ['state size'], bytes);
/** Samples of the last few seconds: rates are taken over ~2 s, so commits (once per checkpoint) do not saw-tooth. */
let history: Array<{ t: number; generated: number; committed: number }> = [];

let longest = 0;
/** The longest time the page's own scripts ran in one frame (Chromium's Long Animation Frames API), apart from the browser's work. */
let ownScript = 0;
/** The longest animation frame, and what it spent on scripts and on rendering. */
let worstFrame = 0;
let measuring = false;
/** Firefox and Safari have no Long Tasks API (and ignore the observer): the page then says it cannot measure, rather than "none". */
const longTasksMeasured = typeof PerformanceObserver !== 'undefined' && (PerformanceObserver.supportedEntryTypes ?? []).includes('longtask');
try {
  new PerformanceObserver((list) => {
    // Only while a job runs: loading the page itself is not what the number is about.
    if (measuring) for (const e of list.getEntries()) longest = Math.max(longest, e.duration);
  }).observe({ type: 'longtask' });
} catch {
  // No PerformanceObserver at all: longTasksMeasured is false.
}
try {
  type Script = { sourceURL: string; sourceFunctionName: string; invoker: string; duration: number };
  type Frame = { startTime: number; duration: number; renderStart: number; scripts: Script[] };
  new PerformanceObserver((list) => {
    if (!measuring) return;
    const own = $('longtask').dataset;
    for (const frame of list.getEntries() as unknown as Frame[]) {
      for (const script of frame.scripts)
        if (script.sourceURL.startsWith(location.origin) && script.duration > ownScript) {
          ownScript = script.duration;
          // Which script it was, for whoever wants to make it shorter.
          own.ownScriptWhat = `${script.invoker} ${script.sourceFunctionName} (${script.sourceURL.slice(location.origin.length)})`;
        }
      if (frame.duration > worstFrame) {
        worstFrame = frame.duration;
        const scripts = frame.scripts.reduce((a, x) => a + x.duration, 0);
        const render = frame.renderStart > 0 ? frame.startTime + frame.duration - frame.renderStart : 0;
        own.worstFrame = `${Math.round(frame.duration)} ms: scripts ${Math.round(scripts)} ms, rendering ${Math.round(render)} ms`;
      }
    }
  }).observe({ type: 'long-animation-frame', buffered: false });
} catch {
  // Chromium only (123+).
}

function plot(s: HostSnapshot): void {
  const t = Date.now();
  const v = s.verdict;
  const committed = v?.committedTransactions ?? 0;
  history.push({ t, generated: s.generated, committed });
  while (history.length > 2 && t - history[1]!.t >= 3000) history.shift();
  const first = history[0]!;
  const dt = (t - first.t) / 1000;
  const rate = (now: number, before: number) => (dt > 0 ? Math.max(0, (now - before) / dt) : undefined);
  const subtasks = s.telemetry.subtasks;
  const profile = subtasks.filter((m) => m.uid === PROFILE_UID);
  const processed = profile.length ? profile.reduce((a, m) => a + m.numRecordsInPerSecond, 0) : undefined;
  throughput.push(t, [rate(s.generated, first.generated), processed, rate(committed, first.committed)]);
  const w = v?.newest;
  latency.push(t, [w && w.firedAt - w.lastAt, w?.committedAt === undefined ? undefined : w.committedAt - w.lastAt]);
  const workers = s.config?.parallelism ?? 1;
  load_.show(workers);
  const perWorker = WORKERS.map((_, i) => {
    const mine = subtasks.filter((m) => m.worker === i);
    return mine.length ? mine.reduce((a, m) => a + m.numRecordsInPerSecond, 0) : undefined;
  });
  load_.push(t, perWorker);
  stateSize.push(t, [s.telemetry.latestCompleted?.stateSizeBytes]);
}

async function tick(): Promise<void> {
  const s = await host.snapshot();
  // A snapshot of the job before a "Start" that happened meanwhile is stale: skip it.
  if (!saved || s.jobName !== saved.jobName) return;
  saved = { ...saved, positions: [...s.positions], config: s.config ?? saved.config, savepoint: s.savepoint ?? saved.savepoint };
  save(saved);
  measuring = s.status === 'RUNNING';
  if (latest === undefined) requestAnimationFrame(draw);
  latest = s;
}

/** The newest snapshot not drawn yet: all DOM writes of a refresh happen in one animation frame. */
let latest: HostSnapshot | undefined;
function draw(): void {
  const s = latest;
  latest = undefined;
  if (!s || s.jobName !== saved?.jobName) return;
  document.body.dataset.job = s.jobName;
  renderCounters(s, s.verdict, longTasksMeasured ? longest : undefined, ownScript);
  renderRecovery(s);
  renderProblem(s);
  renderCheckpoints(s.telemetry.checkpoints, s.telemetry.completed);
  // The charts take one sample a second (the poll is twice a second).
  const now = Date.now();
  if (now - plotted >= 950) {
    plotted = now;
    plot(s);
  }
}
let plotted = 0;

/** Which run of the demo in this tab polls: a tab that lost the demo to another and took it back starts a new one. */
let running = 0;
function poll(run: number): void {
  if (run !== running) return;
  tick()
    .catch((e) => console.warn('eddy demo: refresh failed', e))
    .finally(() => setTimeout(() => poll(run), 500));
}

function act(button: string, what: () => Promise<unknown>): void {
  $(button).addEventListener('click', async () => {
    const b = $<HTMLButtonElement>(button);
    b.disabled = true;
    try {
      await what();
    } catch (e) {
      $('recovery').textContent = `${b.textContent}: ${(e as Error).message}`;
    } finally {
      b.disabled = false;
    }
  });
}

$('settings').addEventListener('submit', (e) => {
  e.preventDefault();
  // Synchronously only what belongs to the click: the values submitted, and a Start that cannot be pressed twice while the job starts.
  const config = settings();
  const start = $<HTMLButtonElement>('start');
  start.disabled = true;
  $('start-error').hidden = true;
  resetMeasures();
  startFresh(config)
    .catch((err) => showStartError(err))
    .finally(() => {
      start.disabled = false;
    });
});
$('checkpointing').addEventListener('change', checkpointControls);
$('rate').addEventListener('input', () => {
  setPaused(paused);
  void host.control(rate(), paused);
});
$('pause').addEventListener('click', () => {
  setPaused(!paused);
  void host.control(rate(), paused);
});
let victim = 0;
act('kill', () => host.kill(victim++));
act('reload', async () => {
  // Kept in memory too: a refresh of the page's state before the reload saves it again.
  if (saved) save((saved = { ...saved, reloadAt: Date.now() }));
  location.reload();
});
act('rescale', async () => {
  const p = Number($<HTMLSelectElement>('rescale-to').value);
  await host.rescale(p);
  $<HTMLSelectElement>('parallelism').value = String(p);
});
async function inspect(card: string): Promise<void> {
  try {
    renderState(card, await host.queryState(card));
  } catch (err) {
    renderState(card, undefined, (err as Error).message);
  }
}
$('inspect').addEventListener('submit', (e) => {
  e.preventDefault();
  void inspect($<HTMLInputElement>('card').value.trim());
});
// A few cards one click away (the input takes any of the 100).
for (const n of [0, 7, 42, 99]) {
  const b = Object.assign(document.createElement('button'), { type: 'button', textContent: cardName(n), className: 'pick' });
  b.addEventListener('click', () => {
    $<HTMLInputElement>('card').value = cardName(n);
    void inspect(cardName(n));
  });
  $('card-picks').append(b);
}
$('cards').append(...Array.from({ length: CARDS }, (_, i) => Object.assign(document.createElement('option'), { value: cardName(i) })));

/** Runs the demo in this tab: the job saved by the last tab that ran it, from its newest checkpoint, or a new one. */
async function run(takenOverAt?: number): Promise<void> {
  const me = ++running;
  $('elsewhere').hidden = true;
  document.querySelector('main')!.inert = false;
  saved = load();
  if (saved) await resume(saved, takenOverAt).catch(showStartError);
  else await startFresh(settings()).catch(showStartError);
  poll(me);
}

/** The demo runs in another tab: this one says so, stands by, and offers to take it over. */
function standBy(lost: boolean): void {
  running++;
  $('elsewhere-text').textContent = lost
    ? 'The demo moved to another tab of this browser: this tab stopped its job (all tabs share one storage, so one runs the demo at a time).'
    : 'The demo already runs in another tab of this browser. All tabs share one storage (checkpoints, output), so one runs the demo at a time; this tab takes over when that one closes.';
  $('elsewhere').hidden = false;
  document.querySelector('main')!.inert = true;
  if (lost) void host.stop();
}
$('take-over').addEventListener('click', () => {
  const at = Date.now();
  claimTab(
    true,
    () => void run(at),
    () => standBy(true),
  );
});

setPaused(false);
resetMeasures();
// A tab that reloads gets the demo back as soon as its old page let go of it: the notice waits a second for that.
let granted = false;
const notice = setTimeout(() => granted || standBy(false), 1000);
claimTab(
  false,
  () => {
    granted = true;
    clearTimeout(notice);
    void run();
  },
  () => standBy(true),
);
