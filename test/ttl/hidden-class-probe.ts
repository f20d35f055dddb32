// Run by hidden-class.test.ts as
//   node --allow-natives-syntax --expose-gc --import tsx test/ttl/hidden-class-probe.ts
// Runs a job with a TTL value state, then prints whether the idle TTL table kept by
// hidden-class.ts — and the context and record time it holds — share their hidden classes
// with the real ones the job used (V8's %HaveSameMap, which this flag allows).
import {
  KeyedProcessFunction,
  StateTtlConfig,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  type RuntimeContext,
  type SyncValueState,
} from '../../src/index.ts';
import { keptObjects } from '../../src/state/hidden-class.ts';

type Probe = { ctx: { clock: object } };
let real: Probe | undefined;

class Count extends KeyedProcessFunction<string, string, number> {
  private count!: SyncValueState<number>;
  override open(ctx: RuntimeContext): void {
    this.count = ctx.getSyncState(new ValueStateDescriptor<number>('count').enableTimeToLive(StateTtlConfig.newBuilder(3_600_000).build()));
    // White-box: the state's table (a TtlValueTable) and what it holds.
    real = (this.count as unknown as { table: Probe }).table;
  }
  override processElement(_: string): void {
    this.count.update((this.count.value() ?? 0) + 1);
  }
}

const events = Array.from({ length: 20_000 }, (_, i) => `k${i % 100}`);
await StreamExecutionEnvironment.getExecutionEnvironment()
  .fromCollection(events)
  .keyBy((e) => e)
  .process(new Count())
  .executeAndCollect();
(globalThis as unknown as { gc: () => void }).gc();

const same = (a: object, b: object): boolean => new Function('a', 'b', 'return %HaveSameMap(a, b)')(a, b) as boolean;
const idle = keptObjects().find((o) => o.constructor === (real as object).constructor) as Probe;
console.log(JSON.stringify({ table: same(idle, real!), context: same(idle.ctx, real!.ctx), recordTime: same(idle.ctx.clock, real!.ctx.clock) }));
