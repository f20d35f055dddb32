/**
 * Session windows on the synchronous path: on backends that answer at once (heap,
 * SQLite) a record or timer of a merging window operator returns no Promise while the
 * trigger and window function answer at once; a trigger or function that answers a
 * Promise, and IndexedDB (state windows read on demand), take the same steps and give the
 * same output; a snapshot taken mid-session restores to the same results on every backend.
 */
import { describe, expect, it } from 'vitest';
import { OutputTag } from '../../src/api/output-tag.ts';
import { EventTimeSessionWindows, type MergingWindowAssigner } from '../../src/api/windowing/assigners.ts';
import { EventTimeTrigger, type OnMergeContext, Trigger, type TriggerContext, type TriggerResult } from '../../src/api/windowing/triggers.ts';
import type { TimeWindow, Window } from '../../src/api/windowing/windows.ts';
import type { Timer } from '../../src/engine/timers.ts';
import { isThenable } from '../../src/engine/operators/base.ts';
import type { OutputBuffer, RecordBatch } from '../../src/engine/operators/operator.ts';
import { WindowOperator, type InternalWindowFunction } from '../../src/engine/operators/window.ts';
import { OperatorHarness, restoreFrom } from '../helpers/harness.ts';
import { BACKENDS, LeftoverProbe } from './helpers.ts';

type Rec = { k: string; ts: number };
const late = new OutputTag<Rec>('late');

/** Counts the records and timers whose processing answered a Promise. */
class CountingWindowOperator extends WindowOperator<undefined> {
  records = 0;
  recordPromises = 0;
  timerCalls = 0;
  timerPromises = 0;
  protected override forEachRecord(
    batch: RecordBatch,
    out: OutputBuffer,
    what: string,
    invoke: (value: unknown, out: OutputBuffer) => unknown,
  ): void | Promise<void> {
    return super.forEachRecord(batch, out, what, (v, o) => {
      const r = invoke(v, o);
      this.records++;
      if (isThenable(r)) this.recordPromises++;
      return r;
    });
  }
  protected override onTimer(timer: Timer, out: OutputBuffer) {
    const r = super.onTimer(timer, out);
    this.timerCalls++;
    if (isThenable(r)) this.timerPromises++;
    return r;
  }
}

/** EventTimeTrigger whose every answer is a Promise (as a trigger with async state would give). */
class AsyncEventTimeTrigger extends Trigger<unknown, Window> {
  private readonly inner = EventTimeTrigger.create();
  async onElement(e: unknown, ts: number, w: Window, ctx: TriggerContext): Promise<TriggerResult> {
    return this.inner.onElement(e, ts, w, ctx);
  }
  async onEventTime(t: number, w: Window): Promise<TriggerResult> {
    return this.inner.onEventTime(t, w);
  }
  async onProcessingTime(): Promise<TriggerResult> {
    return this.inner.onProcessingTime();
  }
  async clear(w: Window, ctx: TriggerContext): Promise<void> {
    this.inner.clear(w, ctx);
  }
  override canMerge(): boolean {
    return true;
  }
  override async onMerge(w: Window, ctx: OnMergeContext): Promise<void> {
    this.inner.onMerge(w, ctx);
  }
}

const describeWindow: InternalWindowFunction = (key, window, _ctx, input, out) => {
  const w = window as TimeWindow;
  out.collect(`${String(key)}|${w.start}|${w.end}|${String(input[0])}`);
};

function sessions(options: { trigger?: Trigger<unknown, Window>; asyncFunction?: boolean } = {}): CountingWindowOperator {
  return new CountingWindowOperator(undefined, {
    assigner: EventTimeSessionWindows.withGap(30) as unknown as MergingWindowAssigner<unknown, Window>,
    trigger: options.trigger ?? (EventTimeTrigger.create() as Trigger<unknown, Window>),
    allowedLateness: 20,
    lateDataTag: late.id,
    contents: {
      kind: 'aggregate',
      fn: {
        createAccumulator: () => 0,
        add: (_r: unknown, a: unknown) => (a as number) + 1,
        getResult: (a) => a,
        merge: (a, b) => (a as number) + (b as number),
      },
    },
    apply: options.asyncFunction ? (k, w, c, i, o) => Promise.resolve().then(() => describeWindow(k, w, c, i, o)) : describeWindow,
  });
}

const keyOf = (r: Rec) => r.k;
const recs = (...rs: Array<[string, number]>): Rec[] => rs.map(([k, ts]) => ({ k, ts }));

/**
 * Gap 30, lateness 20. a: [0,30) and [20,50) merge into [0,50); [100,130) alone; [60,90)
 * alone, then a@75 bridges [60,90) and [100,130) into [60,130) (a merge of two in-flight
 * windows). Watermark 49 fires [0,50) and b's [5,35); a@10 (late, within lateness) is
 * absorbed by [0,50) and fires it again at once; b@-30 is too late (side output). The
 * steps are cut at `cutAfter` for a snapshot and restore when given.
 */
const STEPS: Array<{ records: Rec[] } | { watermark: number }> = [
  { records: recs(['a', 0], ['a', 20], ['a', 100], ['b', 5]) },
  { records: recs(['a', 60], ['a', 75]) },
  { watermark: 49 },
  { records: recs(['a', 10], ['b', -30]) },
  { watermark: 200 },
];
const EXPECTED = ['a|0|50|2', 'a|0|50|3', 'a|60|130|3', 'b|5|35|1'];

async function run(make: () => CountingWindowOperator, backend: string, cutAfter?: number) {
  // The state left by the operator that ends the run (the one closed for the restore has open sessions).
  let probe = new LeftoverProbe();
  const ops = [make()];
  let h = await OperatorHarness.open(ops[0], { stateBackend: probe.wrap(BACKENDS[backend]()) });
  const main: string[] = [];
  const lateRecords: Rec[] = [];
  const collect = (values: unknown[]) => {
    for (const v of values) main.push(v as string);
    for (const r of h.out.takeSides()?.get(late.id)?.values ?? []) lateRecords.push(r as Rec);
  };
  for (let i = 0; i < STEPS.length; i++) {
    const step = STEPS[i];
    if ('records' in step)
      collect(
        await h.process(
          step.records,
          keyOf,
          step.records.map((r) => r.ts),
        ),
      );
    else collect(await h.watermark(step.watermark));
    if (i === cutAfter) {
      const snapshot = await h.snapshot(1);
      await h.close();
      ops.push(make());
      probe = new LeftoverProbe();
      h = await OperatorHarness.open(ops[ops.length - 1], { stateBackend: probe.wrap(BACKENDS[backend]()) }, restoreFrom([snapshot], snapshot.operatorState));
    }
  }
  await h.close();
  const sum = (f: (o: CountingWindowOperator) => number) => ops.reduce((n, o) => n + f(o), 0);
  return {
    main: main.sort(),
    late: lateRecords,
    records: sum((o) => o.records),
    recordPromises: sum((o) => o.recordPromises),
    timers: sum((o) => o.timerCalls),
    timerPromises: sum((o) => o.timerPromises),
    leftovers: probe.leftovers,
  };
}

describe('session windows on the synchronous path', () => {
  for (const backend of ['heap', 'sqlite']) {
    it(`${backend}: merges, late firing, late data and cleanup with no Promise for any record or timer`, { timeout: 30_000 }, async () => {
      const r = await run(() => sessions(), backend);
      expect(r.main).toEqual(EXPECTED);
      expect(r.late).toEqual([{ k: 'b', ts: -30 }]);
      expect(r.records).toBe(8);
      // Window-end and cleanup timers of [0,50), [5,35), [60,130) at least.
      expect(r.timers).toBeGreaterThanOrEqual(4);
      expect(r.recordPromises).toBe(0);
      expect(r.timerPromises).toBe(0);
      expect(r.leftovers).toEqual([]);
    });
  }

  it('IndexedDB (state windows read on demand): the same output, no state left behind', { timeout: 30_000 }, async () => {
    const r = await run(() => sessions(), 'indexeddb');
    expect(r.main).toEqual(EXPECTED);
    expect(r.late).toEqual([{ k: 'b', ts: -30 }]);
    expect(r.leftovers).toEqual([]);
  });

  it('a trigger answering Promises (onElement, onMerge, clear) and an asynchronous window function give the same output', { timeout: 30_000 }, async () => {
    const trigger = await run(() => sessions({ trigger: new AsyncEventTimeTrigger() }), 'heap');
    expect(trigger.main).toEqual(EXPECTED);
    expect(trigger.late).toEqual([{ k: 'b', ts: -30 }]);
    expect(trigger.leftovers).toEqual([]);
    // Every record that reached a window waited for the trigger; the too-late one did not.
    expect(trigger.recordPromises).toBe(7);
    const fn = await run(() => sessions({ asyncFunction: true }), 'heap');
    expect(fn.main).toEqual(EXPECTED);
    expect(fn.leftovers).toEqual([]);
    // Only the late firing of a@10 waits for the function among the records.
    expect(fn.recordPromises).toBe(1);
  });

  for (const backend of ['heap', 'sqlite', 'indexeddb']) {
    for (const cutAfter of [1, 3]) {
      it(`${backend}: a snapshot after step ${cutAfter} (open and merged sessions) restores to the same results`, { timeout: 30_000 }, async () => {
        const r = await run(() => sessions(), backend, cutAfter);
        expect(r.main).toEqual(EXPECTED);
        expect(r.late).toEqual([{ k: 'b', ts: -30 }]);
        expect(r.leftovers).toEqual([]);
        if (backend !== 'indexeddb') expect(r.recordPromises + r.timerPromises).toBe(0);
      });
    }
  }
});
