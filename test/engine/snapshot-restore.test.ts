import { describe, expect, it } from 'vitest';
import {
  KeyedProcessFunction,
  ListStateDescriptor,
  MapStateDescriptor,
  ValueStateDescriptor,
  type CheckpointedFunction,
  type Collector,
  type FunctionInitializationContext,
  type KeyedProcessContext,
  type ListState,
  type OnTimerContext,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { KeyedProcessOperator } from '../../src/engine/operators/process.ts';
import { MapOperator } from '../../src/engine/operators/simple.ts';
import { redistributeOperatorState } from '../../src/state/operator-state.ts';
import { OperatorHarness, restoreFrom } from '../helpers/harness.ts';

/** Counts per key and registers an event-time timer at 100 that reports the count. */
class CountWithTimer extends KeyedProcessFunction<string, string, string> {
  private count!: ValueState<number>;
  override open(ctx: RuntimeContext) {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
  }
  async processElement(_v: string, ctx: KeyedProcessContext<string>) {
    await this.count.update(((await this.count.value()) ?? 0) + 1);
    ctx.timerService().registerEventTimeTimer(100);
  }
  override async onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>) {
    out.collect(`${ctx.getCurrentKey()}=${await this.count.value()}@${ts}`);
  }
}

const words = ['a', 'b', 'c', 'a', 'b', 'a', 'd', 'e', 'f', 'g'];

describe('operator snapshots and restore', () => {
  it('keyed state and timers survive a snapshot and restore into a new operator', async () => {
    const first = await OperatorHarness.open(new KeyedProcessOperator(new CountWithTimer()));
    await first.process(words, (w) => w);
    const snapshot = await first.snapshot();
    // Writes after the snapshot must not show up in it.
    await first.process(['a', 'a'], (w) => w);
    await first.close();

    const second = await OperatorHarness.open(new KeyedProcessOperator(new CountWithTimer()), {}, restoreFrom([snapshot]));
    const fired = await second.watermark(100);
    expect(fired.sort()).toEqual(['a=3@100', 'b=2@100', 'c=1@100', 'd=1@100', 'e=1@100', 'f=1@100', 'g=1@100']);
  });

  it('restores keyed state and timers at another parallelism by key-group range', async () => {
    const old = await Promise.all([0, 1].map((i) => OperatorHarness.open(new KeyedProcessOperator(new CountWithTimer()), { parallelism: 2, subtaskIndex: i })));
    const { keyGroupForKey, subtaskForKeyGroup } = await import('../../src/format/key-groups.ts');
    for (let i = 0; i < 2; i++)
      await old[i].process(
        words.filter((w) => subtaskForKeyGroup(128, 2, keyGroupForKey(w, 128)) === i),
        (w) => w,
      );
    const snapshots = await Promise.all(old.map((h) => h.snapshot()));

    for (const parallelism of [1, 3, 4]) {
      const fired: unknown[] = [];
      for (let i = 0; i < parallelism; i++) {
        const h = await OperatorHarness.open(new KeyedProcessOperator(new CountWithTimer()), { parallelism, subtaskIndex: i }, restoreFrom(snapshots));
        fired.push(...(await h.watermark(1000)));
      }
      expect(fired.sort(), `parallelism ${parallelism}`).toEqual(['a=3@100', 'b=2@100', 'c=1@100', 'd=1@100', 'e=1@100', 'f=1@100', 'g=1@100']);
    }
  });

  it('operator list, union and broadcast state redistribute as in Flink', async () => {
    const restoredFlags: boolean[] = [];
    class Buffering implements CheckpointedFunction {
      buffer!: ListState<number>;
      union!: ListState<string>;
      settings!: import('../../src/index.ts').BroadcastState<string, number>;
      map(v: number) {
        return v;
      }
      async initializeState(ctx: FunctionInitializationContext) {
        restoredFlags.push(ctx.isRestored());
        this.buffer = ctx.getOperatorStateStore().getListState(new ListStateDescriptor<number>('buffer'));
        this.union = ctx.getOperatorStateStore().getUnionListState(new ListStateDescriptor<string>('offsets'));
        this.settings = ctx.getOperatorStateStore().getBroadcastState(new MapStateDescriptor<string, number>('settings'));
      }
      snapshotState() {}
    }
    const fns = [new Buffering(), new Buffering()];
    const old = [];
    for (let i = 0; i < 2; i++) {
      const h = await OperatorHarness.open(new MapOperator(fns[i]), { keyed: false, parallelism: 2, subtaskIndex: i });
      await fns[i].buffer.addAll(i === 0 ? [1, 2, 3] : [4, 5]);
      await fns[i].union.add(`offset-${i}`);
      await fns[i].settings.put('threshold', 10 + i);
      old.push(await h.snapshot());
    }
    expect(restoredFlags).toEqual([false, false]);

    const redistributed = redistributeOperatorState(
      old.map((s) => s.operatorState),
      3,
    );
    const restoredFns = [new Buffering(), new Buffering(), new Buffering()];
    for (let i = 0; i < 3; i++) {
      await OperatorHarness.open(new MapOperator(restoredFns[i]), { keyed: false, parallelism: 3, subtaskIndex: i }, restoreFrom([], redistributed[i]));
    }
    expect(restoredFlags.slice(2)).toEqual([true, true, true]);
    const lists = await Promise.all(restoredFns.map((f) => f.buffer.get()));
    expect(lists.flat().sort()).toEqual([1, 2, 3, 4, 5]);
    expect(lists.map((l) => l.length).sort()).toEqual([1, 2, 2]);
    for (const f of restoredFns) {
      expect((await f.union.get()).sort()).toEqual(['offset-0', 'offset-1']);
      expect(await f.settings.get('threshold')).toBe(10);
    }
  });

  it('operator state registered under two modes is refused', async () => {
    const fn = {
      map: (v: number) => v,
      initializeState(ctx: FunctionInitializationContext) {
        ctx.getOperatorStateStore().getListState(new ListStateDescriptor<number>('x'));
        ctx.getOperatorStateStore().getUnionListState(new ListStateDescriptor<number>('x'));
      },
      snapshotState() {},
    };
    await expect(OperatorHarness.open(new MapOperator(fn), { keyed: false })).rejects.toMatchObject({ code: 'STATE_KIND_MISMATCH' });
  });

  it('snapshotState of the function is called before the state is captured', async () => {
    class Flusher implements CheckpointedFunction {
      pending: number[] = [];
      state!: ListState<number>;
      map(v: number) {
        this.pending.push(v);
        return v;
      }
      initializeState(ctx: FunctionInitializationContext) {
        this.state = ctx.getOperatorStateStore().getListState(new ListStateDescriptor<number>('pending'));
      }
      async snapshotState() {
        await this.state.update(this.pending);
      }
    }
    const fn = new Flusher();
    const h = await OperatorHarness.open(new MapOperator(fn), { keyed: false });
    await h.process([7, 8]);
    const snap = await h.snapshot(3);
    const restored = new Flusher();
    await OperatorHarness.open(new MapOperator(restored), { keyed: false }, restoreFrom([], snap.operatorState));
    expect(await restored.state.get()).toEqual([7, 8]);
  });
});
