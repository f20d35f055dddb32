// Run by hidden-class.test.ts as
//   node --allow-natives-syntax --expose-gc --import tsx test/ttl/hidden-class-probe.ts
// Runs a job with a value, a list and a map state with TTL, then prints whether the idle
// TTL tables kept by ttl-states.ts (see hidden-class.ts) — and the context and record time
// they hold — share their hidden classes with the real ones the job used (V8's
// %HaveSameMap, which that flag allows; `new Function` because the `%` syntax is V8's only).
import {
  KeyedProcessFunction,
  ListStateDescriptor,
  MapStateDescriptor,
  StateTtlConfig,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  type RuntimeContext,
  type SyncListState,
  type SyncMapState,
  type SyncValueState,
} from '../../src/index.ts';
import { keptObjects } from '../../src/state/hidden-class.ts';

type Table = { ctx: { clock: object } };
const TTL = StateTtlConfig.newBuilder(3_600_000).build();
const tables: Record<'value' | 'list' | 'map', Table | undefined> = { value: undefined, list: undefined, map: undefined };
// White-box: a synchronous state's table (a TTL table here) and what it holds.
const tableOf = (state: unknown): Table => (state as { table: Table }).table;

class Count extends KeyedProcessFunction<string, string, number> {
  private count!: SyncValueState<number>;
  private seen!: SyncListState<number>;
  private byRound!: SyncMapState<number, number>;
  override open(ctx: RuntimeContext): void {
    this.count = ctx.getSyncState(new ValueStateDescriptor<number>('count').enableTimeToLive(TTL));
    this.seen = ctx.getSyncListState(new ListStateDescriptor<number>('seen').enableTimeToLive(TTL));
    this.byRound = ctx.getSyncMapState(new MapStateDescriptor<number, number>('byRound').enableTimeToLive(TTL));
    tables.value = tableOf(this.count);
    tables.list = tableOf(this.seen);
    tables.map = tableOf(this.byRound);
  }
  override processElement(_: string): void {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    if (n % 50 === 0) this.seen.add(n);
    this.byRound.put(n % 4, n);
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
const result: Record<string, boolean> = {};
for (const [kind, real] of Object.entries(tables)) {
  const idle = keptObjects().find((o) => o.constructor === real!.constructor) as Table | undefined;
  result[`${kind}Table`] = idle !== undefined && same(idle, real!);
  result[`${kind}Context`] = idle !== undefined && same(idle.ctx, real!.ctx);
  result[`${kind}RecordTime`] = idle !== undefined && same(idle.ctx.clock, real!.ctx.clock);
}
console.log(JSON.stringify(result));
