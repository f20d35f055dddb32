/**
 * A fully synchronous KeyedProcessFunction (no Promise returned, no await) with the five
 * synchronous state kinds and event-time timers, run as a job on every backend: records'
 * keys are resident through the batch prefetch, timers' keys through the timer prefetch,
 * also when IndexedDB's tiny cache flushes and evicts all the time.
 */
import { IDBKeyRange as FakeKeyRange, IDBFactory as FakeFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import {
  AggregatingStateDescriptor,
  HashMapStateBackend,
  KeyedProcessFunction,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  WatermarkStrategy,
  type Collector,
  type KeyedProcessContext,
  type OnTimerContext,
  type RuntimeContext,
  type StateBackend,
  type SyncAggregatingState,
  type SyncListState,
  type SyncMapState,
  type SyncReducingState,
  type SyncValueState,
} from '../../src/index.ts';
import { IndexedDbStateBackend } from '../../src/backends/indexeddb/index.ts';
import { SqliteStateBackend } from '../../src/backends/sqlite/index.ts';
import { pacedSource } from '../helpers/sources.ts';

interface Ev {
  k: string;
  t: number;
}

const END = 1_000_000;

/** Per key: counts, the last three timestamps, buckets of t % 3, fired timers and the mean timestamp; reported at END. */
class SyncSummary extends KeyedProcessFunction<string, Ev, string> {
  private count!: SyncValueState<number>;
  private last!: SyncListState<number>;
  private buckets!: SyncMapState<number, number>;
  private fired!: SyncReducingState<number>;
  private mean!: SyncAggregatingState<number, number>;

  override open(ctx: RuntimeContext): void {
    this.count = ctx.getSyncState(new ValueStateDescriptor<number>('count', { defaultValue: 0 }));
    this.last = ctx.getSyncListState(new ListStateDescriptor<number>('last'));
    this.buckets = ctx.getSyncMapState(new MapStateDescriptor<number, number>('buckets'));
    this.fired = ctx.getSyncReducingState(new ReducingStateDescriptor<number>('fired', (a, b) => a + b));
    this.mean = ctx.getSyncAggregatingState(
      new AggregatingStateDescriptor('mean', {
        createAccumulator: () => [0, 0] as [number, number],
        add: (v: number, [s, n]: [number, number]): [number, number] => [s + v, n + 1],
        getResult: ([s, n]: [number, number]) => s / n,
      }),
    );
  }

  processElement(e: Ev, ctx: KeyedProcessContext<string>, _out: Collector<string>): void {
    this.count.update(this.count.value()! + 1);
    const last = this.last.get();
    this.last.update([...last, e.t].slice(-3));
    this.buckets.put(e.t % 3, (this.buckets.get(e.t % 3) ?? 0) + 1);
    this.mean.add(e.t);
    ctx.timerService().registerEventTimeTimer(e.t + 5);
    ctx.timerService().registerEventTimeTimer(END);
  }

  override onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
    if (ts !== END) {
      this.fired.add(1);
      return;
    }
    const buckets = [...this.buckets.entries()].sort((a, b) => a[0] - b[0]).map(([b, n]) => `${b}:${n}`);
    out.collect(
      `${ctx.getCurrentKey()} count=${this.count.value()} last=${this.last.get()} buckets=${buckets} fired=${this.fired.get()} mean=${this.mean.get()}`,
    );
  }
}

const KEYS = 61;
const N = 610;
const ev = (i: number): Ev => ({ k: `k${(i * 5) % KEYS}`, t: i });

/** What SyncSummary must report, computed directly. */
function expected(): string[] {
  const lines: string[] = [];
  for (let k = 0; k < KEYS; k++) {
    const ts = Array.from({ length: N }, (_, i) => ev(i))
      .filter((e) => e.k === `k${k}`)
      .map((e) => e.t);
    const buckets = [0, 1, 2].map((b) => [b, ts.filter((t) => t % 3 === b).length]).filter(([, n]) => n > 0);
    const mean = ts.reduce((a, b) => a + b, 0) / ts.length;
    lines.push(`k${k} count=${ts.length} last=${ts.slice(-3)} buckets=${buckets.map(([b, n]) => `${b}:${n}`)} fired=${ts.length} mean=${mean}`);
  }
  return lines.sort();
}

const BACKENDS: Record<string, () => StateBackend> = {
  hashmap: () => new HashMapStateBackend(),
  sqlite: () => new SqliteStateBackend({ vfs: 'memory' }),
  'indexeddb (tiny cache: flushes and evictions mid-batch)': () =>
    new IndexedDbStateBackend({ indexedDB: new FakeFactory(), IDBKeyRange: FakeKeyRange, writeBehind: 8, cacheSize: 16 }),
};

describe('a synchronous KeyedProcessFunction with synchronous state and timers', () => {
  for (const [name, backend] of Object.entries(BACKENDS)) {
    it(`computes per-key results identical to a direct computation on ${name}`, async () => {
      const out = await StreamExecutionEnvironment.getExecutionEnvironment()
        .setParallelism(2)
        .setStateBackend(backend())
        .fromSource(
          pacedSource(N, ev, 25),
          WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.t),
          'events',
        )
        .setParallelism(1)
        .keyBy((e) => e.k)
        .process(new SyncSummary())
        .executeAndCollect(`sync-process-${name}`);
      expect(out.sort()).toEqual(expected());
    });
  }
});
