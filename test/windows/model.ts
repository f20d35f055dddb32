/**
 * A reference model of event-time windows with Flink's semantics, written directly (no
 * engine): per key, windows with their records; a watermark that advances after every
 * record; EventTimeTrigger firing, allowed lateness, cleanup and late records. The tests
 * run the same events through a job and compare the multisets of outputs.
 */
import type { TimeWindow } from '../../src/index.ts';
import { prng } from '../helpers/prng.ts';

export type Ev = { key: string; ts: number; v: number; seq: number };

/**
 * `n` events over `keys` keys, time advancing `step` ms per event on average, mostly
 * out of order by up to `jitter` ms, and every `lateEvery`-th event far behind (late).
 */
export function events(seed: number, n: number, keys = 5, step = 7, jitter = 40, lateEvery = 17, lateBy = 400): Ev[] {
  const r = prng(seed);
  return Array.from({ length: n }, (_, i) => {
    let ts = i * step - Math.floor(r() * jitter);
    if (i % lateEvery === lateEvery - 1) ts -= Math.floor(r() * lateBy);
    return { key: `k${Math.floor(r() * keys)}`, ts: Math.max(0, ts), v: 1 + Math.floor(r() * 9), seq: i };
  });
}

/** The watermark after each record: the largest timestamp so far − bound − 1 (forBoundedOutOfOrderness). */
export function watermarks(evs: readonly Ev[], bound: number): number[] {
  let max = -Infinity;
  return evs.map((e) => {
    max = Math.max(max, e.ts);
    return max - bound - 1;
  });
}

/** What a fired window reports: key, window and its records (in arrival order). */
export type Fired = (key: string, w: TimeWindow, records: Ev[]) => string;

interface OpenWindow {
  key: string;
  w: TimeWindow;
  records: Ev[];
}

/**
 * Tumbling/sliding/session windows with EventTimeTrigger. `assign` gives an event's
 * windows; `merging` merges sessions. Returns the outputs and the late records.
 */
export function model(
  evs: readonly Ev[],
  bound: number,
  lateness: number,
  assign: (e: Ev) => TimeWindow[],
  merging: boolean,
  fired: Fired,
): { out: string[]; late: Ev[] } {
  const wms = watermarks(evs, bound);
  const open = new Map<string, OpenWindow[]>();
  const out: string[] = [];
  const late: Ev[] = [];
  let wm = -Infinity;
  const cleanup = (w: TimeWindow) => w.maxTimestamp() + lateness;
  const advance = (to: number) => {
    if (to <= wm) return;
    for (const list of open.values()) {
      for (const o of [...list]) {
        if (o.w.maxTimestamp() > wm && o.w.maxTimestamp() <= to) out.push(fired(o.key, o.w, o.records));
        if (cleanup(o.w) <= to) list.splice(list.indexOf(o), 1);
      }
    }
    wm = to;
  };
  evs.forEach((e, i) => {
    const list = open.get(e.key) ?? [];
    open.set(e.key, list);
    let skipped = true;
    for (const assigned of assign(e)) {
      let target: OpenWindow | undefined;
      if (merging) {
        const overlapping = list.filter((o) => o.w.intersects(assigned));
        if (overlapping.length === 0) {
          if (cleanup(assigned) <= wm) continue;
          target = { key: e.key, w: assigned, records: [] };
          list.push(target);
        } else {
          let cover = assigned;
          for (const o of overlapping) cover = cover.cover(o.w);
          const records = overlapping.flatMap((o) => o.records).sort((a, b) => a.seq - b.seq);
          for (const o of overlapping) list.splice(list.indexOf(o), 1);
          target = { key: e.key, w: cover, records };
          list.push(target);
        }
      } else {
        if (cleanup(assigned) <= wm) continue;
        target = list.find((o) => o.w.equals(assigned));
        if (target === undefined) list.push((target = { key: e.key, w: assigned, records: [] }));
      }
      skipped = false;
      target.records.push(e);
      // EventTimeTrigger: a window the watermark already passed fires at once (late but within lateness).
      if (target.w.maxTimestamp() <= wm) out.push(fired(e.key, target.w, target.records));
    }
    if (skipped && e.ts + lateness <= wm) late.push(e);
    advance(wms[i]);
  });
  advance(Number.MAX_SAFE_INTEGER);
  return { out, late };
}
