/** The engine side shared by keyed-count and keyed-count-rxjs: a per-key counter in ValueState. */
import {
  KeyedProcessFunction,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  type Collector,
  type KeyedProcessContext,
  type OnTimerContext,
  type RuntimeContext,
  type SyncValueState,
  type ValueState,
} from '../src/index.ts';
import type { Ev } from './common.ts';

/** Counts per key; emits [key, count] once, at the final watermark of the bounded input. */
export class Counter extends KeyedProcessFunction<string, Ev, [string, number]> {
  count!: ValueState<number>;

  override open(ctx: RuntimeContext): void {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
  }

  async processElement(_v: Ev, ctx: KeyedProcessContext<string>, _out: Collector<[string, number]>): Promise<void> {
    const c = (await this.count.value()) ?? 0;
    // Fires at the final watermark of a bounded input.
    if (c === 0) ctx.timerService().registerEventTimeTimer(Number.MAX_SAFE_INTEGER - 1);
    await this.count.update(c + 1);
  }

  override async onTimer(_ts: number, ctx: OnTimerContext<string>, out: Collector<[string, number]>): Promise<void> {
    out.collect([ctx.getCurrentKey(), (await this.count.value())!]);
  }
}

/** Runs the counting job at parallelism 1 over a pre-generated array (fromCollection). */
export async function runEngineCount(events: readonly Ev[]): Promise<[string, number][]> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
  return env
    .fromCollection(events)
    .keyBy((e) => e.k)
    .process(new Counter())
    .executeAndCollect();
}

/** The same counter written synchronously: SyncValueState, no Promise, no await. */
export class SyncCounter extends KeyedProcessFunction<string, Ev, [string, number]> {
  count!: SyncValueState<number>;

  override open(ctx: RuntimeContext): void {
    this.count = ctx.getSyncState(new ValueStateDescriptor<number>('count'));
  }

  processElement(_v: Ev, ctx: KeyedProcessContext<string>, _out: Collector<[string, number]>): void {
    const c = this.count.value() ?? 0;
    if (c === 0) ctx.timerService().registerEventTimeTimer(Number.MAX_SAFE_INTEGER - 1);
    this.count.update(c + 1);
  }

  override onTimer(_ts: number, ctx: OnTimerContext<string>, out: Collector<[string, number]>): void {
    out.collect([ctx.getCurrentKey(), this.count.value()!]);
  }
}

/** {@link runEngineCount} with the synchronous {@link SyncCounter}. */
export async function runEngineCountSync(events: readonly Ev[]): Promise<[string, number][]> {
  return StreamExecutionEnvironment.getExecutionEnvironment()
    .setParallelism(1)
    .fromCollection(events)
    .keyBy((e) => e.k)
    .process(new SyncCounter())
    .executeAndCollect();
}
