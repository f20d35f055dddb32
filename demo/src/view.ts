/** Rendering of the page's panels from what the host and the output say (plain DOM, no framework). */
import type { HostSnapshot, Recovery } from './host.worker.ts';
import type { Verdict } from './invariant.ts';
import type { BackendName } from './scenario.ts';
import type { ShownCard, ShownKey, ShownState, ShownWindow } from './inspect.ts';
import type { CheckpointStats } from './telemetry.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const fmt = new Intl.NumberFormat('en');
const BACKENDS: Record<BackendName, string> = { memory: 'Memory', indexeddb: 'IndexedDB', sqlite: 'SQLite-WASM' };

/** Formats bytes as B/KiB/MiB. */
export function bytes(n: number | undefined): string {
  if (n === undefined) return '–';
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

/** Writes only what changed: an unchanged text costs no style or layout work. */
function setCounter(id: string, value: number | string, raw?: number): void {
  const el = $(id);
  const text = typeof value === 'number' ? fmt.format(value) : value;
  if (el.textContent !== text) el.textContent = text;
  el.dataset.value = String(raw ?? value);
}

/**
 * The counters and the invariant; `longestTaskMs` is undefined where the browser cannot
 * measure it, `ownScriptMs` the longest run of the page's own scripts in a frame (Chromium).
 */
export function renderCounters(s: HostSnapshot, v: Verdict | undefined, longestTaskMs: number | undefined, ownScriptMs: number): void {
  // The status alone: a failure's message is long, and has a place of its own (renderProblem).
  setCounter('status', s.status);
  $('status').title = s.lastFailure ?? '';
  setCounter('generated', s.generated);
  setCounter('restarts', s.restarts);
  setCounter('workers', s.workers);
  const own = ownScriptMs > 0 ? ` (page scripts ${Math.round(ownScriptMs)} ms)` : '';
  if (longestTaskMs === undefined) setCounter('longtask', 'not measurable in this browser (no Long Tasks API)', -1);
  else setCounter('longtask', longestTaskMs === 0 ? `none over 50 ms${own}` : `${Math.round(longestTaskMs)} ms${own}`, longestTaskMs);
  $('longtask').dataset.ownScript = String(ownScriptMs);
  if (!v) return;
  setCounter('committed', v.committedTransactions);
  setCounter('windows', v.windows);
  setCounter('duplicates', v.duplicates);
  const inv = $('invariant');
  // Green only once there is something it holds for: "holds" over no window says nothing yet.
  inv.dataset.ok = v.ok && v.windows === 0 ? '' : String(v.ok);
  inv.dataset.windows = String(v.windows);
  let text: string;
  if (!v.ok) text = `BROKEN: ${v.problems.join('; ')}`;
  else if (v.windows === 0)
    text =
      s.config?.checkpointing === false
        ? 'Checkpointing is off: a TwoPhaseCommitSink commits only on checkpoints, so nothing is committed.'
        : 'Nothing committed yet: the first window is committed by the first checkpoint after it closes.';
  else {
    const n = fmt.format(v.windows);
    const windows = v.windows === 1 ? 'the 1 committed 1-s window holds' : `all ${n} committed 1-s windows hold`;
    text = `Holds: ${windows} exactly 10 transactions of each of the 100 cards; ${fmt.format(v.committedTransactions)} committed = ${n} whole second${v.windows === 1 ? '' : 's'} of the ${fmt.format(s.generated)} generated; no window twice.`;
  }
  if (inv.textContent !== text) inv.textContent = text;
}

function describe(r: Recovery, s: HostSnapshot): string {
  const when = new Date(r.at).toLocaleTimeString();
  const what =
    r.cause === 'kill'
      ? `Killed a worker (${r.detail})`
      : r.cause === 'reload'
        ? 'Reloaded the tab'
        : r.cause === 'takeover'
          ? 'Took the demo over from another tab'
          : `Stopped with a savepoint (${r.detail})`;
  if (r.lost)
    return `${what} at ${when}: the job FAILED and could not recover — checkpointing is off, so there is no state to restart from (and no restart, as in Flink). ${fmt.format(s.generated)} transactions generated, their state lost; nothing was committed.`;
  if (!r.done) return `${what} at ${when}: recovering…`;
  const from = r.fromSavepoint
    ? `savepoint ${r.fromSavepoint}`
    : r.fromCheckpoint !== undefined
      ? `checkpoint ${r.fromCheckpoint}`
      : 'the start (no checkpoint had completed yet, so nothing had been committed)';
  const restore = r.restoreMs !== undefined ? ` (restore ${Math.round(r.restoreMs)} ms)` : '';
  return `${what} at ${when}: running again from ${from} after ${fmt.format(Math.round(r.durationMs ?? 0))} ms${restore}.`;
}

/**
 * A failure the page did not cause and that does not go away (the job failed, or keeps
 * failing without completing a checkpoint in between), in words beside the job's
 * settings. A fault from the Faults panel is described there instead.
 */
export function renderProblem(s: HostSnapshot): void {
  const el = $('job-problem');
  const fault = s.recoveries.at(-1);
  const explained = fault !== undefined && (!fault.done || fault.lost === true);
  const show = s.lastFailure !== undefined && !explained && s.status !== 'RUNNING' && (s.status === 'FAILED' || s.failuresInARow >= 3);
  el.hidden = !show;
  if (!show) return;
  const text =
    s.status === 'FAILED'
      ? `The job failed: ${s.lastFailure}`
      : `The job failed ${s.failuresInARow} times in a row and keeps restarting, ever more slowly: ${s.lastFailure}. A failure that repeats may mean this browser cannot run the ${BACKENDS[s.config?.backend ?? 'memory']} state backend: pick another one and start a new job.`;
  if (el.textContent !== text) el.textContent = text;
}

/** Clears what the page showed of an earlier job. */
export function resetView(): void {
  for (const id of ['committed', 'windows', 'duplicates', 'generated', 'restarts']) setCounter(id, 0);
  const inv = $('invariant');
  inv.dataset.ok = '';
  inv.textContent = 'Waiting for the first committed window…';
  $('job-problem').hidden = true;
  const rec = $('recovery');
  rec.textContent = 'No fault yet.';
  for (const k of Object.keys(rec.dataset)) delete rec.dataset[k];
  renderCheckpoints([], 0);
  delete document.body.dataset.job;
}

/** The newest fault and its recovery. */
export function renderRecovery(s: HostSnapshot): void {
  const r = s.recoveries.at(-1);
  const el = $('recovery');
  if (!r) return;
  const text = describe(r, s);
  if (el.textContent !== text) el.textContent = text;
  el.dataset.cause = r.cause;
  el.dataset.done = String(r.done);
  el.dataset.lost = String(r.lost === true);
  el.dataset.checkpoint = r.fromCheckpoint === undefined ? '' : String(r.fromCheckpoint);
  el.dataset.completedBefore = r.completedBefore === undefined ? '' : String(r.completedBefore);
  el.dataset.durationMs = r.durationMs === undefined ? '' : String(Math.round(r.durationMs));
}

/** Rows the checkpoint timeline keeps (newest first); older ones are dropped. */
const MAX_ROWS = 20;
const rowsById = new Map<number, HTMLTableRowElement>();

/**
 * The checkpoint timeline, newest first, drawn incrementally: a new checkpoint adds one row
 * at the top, a row is rewritten only when its checkpoint changed (in progress → completed),
 * and the table keeps MAX_ROWS rows, so a refresh touches a few cells at most.
 */
export function renderCheckpoints(history: readonly CheckpointStats[], completed: number): void {
  const table = $<HTMLTableElement>('checkpoints');
  table.dataset.completed = String(completed);
  const shown = history.slice(0, MAX_ROWS);
  const keep = new Set(shown.map((c) => c.checkpointId));
  for (const [id, row] of rowsById)
    if (!keep.has(id)) {
      row.remove();
      rowsById.delete(id);
    }
  const body = table.tBodies[0]!;
  // Oldest first, so each new row lands at the top above the ones before it.
  for (let i = shown.length - 1; i >= 0; i--) {
    const c = shown[i]!;
    let row = rowsById.get(c.checkpointId);
    if (!row) {
      row = body.insertRow(0);
      for (let k = 0; k < 8; k++) row.insertCell();
      rowsById.set(c.checkpointId, row);
    }
    const signature = `${c.status}|${c.endToEndDurationMs}|${c.stateSizeBytes}|${c.checkpointedSizeBytes}|${c.failureMessage ?? ''}`;
    if (row.dataset.signature !== signature) {
      row.dataset.signature = signature;
      fillRow(row, c);
    }
  }
}

function fillRow(row: HTMLTableRowElement, c: CheckpointStats): void {
  const texts = [
    String(c.checkpointId),
    c.failureMessage ? `FAILED: ${c.failureMessage}` : c.status,
    new Date(c.triggerTimestamp).toLocaleTimeString(),
    c.endToEndDurationMs === undefined ? '–' : `${Math.round(c.endToEndDurationMs)} ms`,
    c.syncDurationMs === undefined ? '–' : `${Math.round(c.syncDurationMs)} ms`,
    bytes(c.stateSizeBytes),
    bytes(c.checkpointedSizeBytes),
    c.isSavepoint ? 'savepoint' : c.incremental ? 'incremental' : 'full',
  ];
  texts.forEach((text, i) => {
    row.cells[i]!.textContent = text;
  });
  row.cells[1]!.className = c.status;
  row.cells[1]!.title = c.failureMessage ?? '';
}

/** An element with a class and a text. */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The line under a list or map cut at MAX_ROWS rows. */
function moreLine(more: number): HTMLParagraphElement {
  return el('p', 'more', `… ${fmt.format(more)} more`);
}

/** A map state's first entries (the host sorted them by key) as a small key → value table. */
function entriesTable(s: ShownState): HTMLTableElement {
  const t = el('table', 'entries');
  const head = t.createTHead().insertRow();
  for (const h of ['key', 'value']) head.append(Object.assign(el('th', '', h), { scope: 'col' }));
  const body = t.createTBody();
  for (const [k, v] of s.entries ?? []) {
    const row = body.insertRow();
    row.append(Object.assign(el('th', '', k), { scope: 'row' }), el('td', '', v));
  }
  return t;
}

/** The cell of one state's value: a value, a short list, or a map's table; a cut one says how much is left out. */
function valueCell(s: ShownState): HTMLTableCellElement {
  const td = el('td', 'value');
  if (s.kind === 'map') td.append(entriesTable(s));
  else if (s.kind === 'list') {
    const ol = el('ol', 'items');
    for (const item of s.items ?? []) ol.append(el('li', '', item));
    td.append(ol);
  } else td.textContent = s.text ?? '';
  if (s.more > 0) td.append(moreLine(s.more));
  return td;
}

function stateRow(body: HTMLTableSectionElement, s: ShownState): void {
  const row = body.insertRow();
  row.dataset.state = s.name;
  row.dataset.kind = s.kind;
  row.dataset.size = String(s.size);
  if (s.number !== undefined) row.dataset.value = String(s.number);
  const name = Object.assign(el('th', '', s.name), { scope: 'row' });
  const ttl = s.ttlRemainingMs === undefined ? '' : `, TTL ${Math.round(s.ttlRemainingMs / 1000)} s left`;
  const size = s.kind === 'map' ? `, ${fmt.format(s.size)} entr${s.size === 1 ? 'y' : 'ies'}` : s.kind === 'list' ? `, ${fmt.format(s.size)} long` : '';
  name.append(el('span', 'kind', `${s.kind} state${size}${ttl}`));
  row.append(name, valueCell(s));
}

function timerRow(body: HTMLTableSectionElement, label: string, t: ShownKey['eventTimers']): void {
  const row = body.insertRow();
  row.className = 'timers';
  const td = el('td', 'value', t.first.join(', ') || 'none');
  if (t.more > 0) td.append(moreLine(t.more));
  row.append(Object.assign(el('th', '', label), { scope: 'row' }), td);
}

/** A window in flight: its bounds, and what it holds (a state's name only when there are several). */
function windowRow(body: HTMLTableSectionElement, w: ShownWindow): void {
  const row = body.insertRow();
  row.className = 'window';
  const name = Object.assign(el('th', '', `window ${w.label}`), { scope: 'row' });
  name.append(el('span', 'kind', 'event time, ms'));
  const td = el('td', 'value');
  for (const s of w.states) {
    const cell = valueCell(s);
    if (w.states.length > 1) cell.prepend(`${s.name}: `);
    td.append(...cell.childNodes);
  }
  row.append(name, td);
}

/** One key of one operator as a table: a row per state, per window in flight, then its timers. */
function keyTable(shown: ShownKey, operator: string): HTMLTableElement {
  const table = el('table', 'state');
  table.dataset.operator = operator;
  const where = `key group ${shown.keyGroup}, subtask ${shown.subtaskIndex}${shown.worker === undefined ? '' : `, worker ${shown.worker + 1}`}`;
  table.createCaption().textContent = `${shown.key} in ${operator} — ${where}`;
  const head = table.createTHead().insertRow();
  for (const h of ['State', 'Value']) head.append(Object.assign(el('th', '', h), { scope: 'col' }));
  const body = table.createTBody();
  for (const s of shown.states) stateRow(body, s);
  for (const w of shown.windows) windowRow(body, w);
  if (shown.windowsMore > 0) {
    const row = body.insertRow();
    row.append(el('th', '', ''), el('td', 'more', `… ${fmt.format(shown.windowsMore)} more windows`));
  }
  timerRow(body, 'event-time timers', shown.eventTimers);
  timerRow(body, 'processing-time timers', shown.processingTimers);
  return table;
}

/**
 * One card's state as the inspector shows it: a table per operator (its profile, then its
 * windows in flight), a row per state (a map state's entries as a nested key → value
 * table, cut at MAX_ROWS rows), then the key's timers. The host shaped and cut it
 * (`inspect.ts`): this only builds a few dozen elements.
 */
export function renderState(card: string, shown: ShownCard | undefined, error?: string): void {
  const box = $('state');
  box.dataset.count = '';
  if (!shown?.profile && !shown?.windows) {
    box.replaceChildren(el('p', 'empty', error ? `${card}: ${error}` : `${card}: no state (no transaction of this card processed yet).`));
    return;
  }
  const tables: HTMLElement[] = [];
  if (shown.profile) tables.push(keyTable(shown.profile, 'card profile'));
  if (shown.windows) tables.push(keyTable(shown.windows, '1-s window count'));
  else tables.push(el('p', 'empty', `${card} has no 1-s window in flight.`));
  box.replaceChildren(...tables);
  const count = shown.profile?.states.find((s) => s.name === 'count')?.number;
  if (count !== undefined) box.dataset.count = String(count);
}
