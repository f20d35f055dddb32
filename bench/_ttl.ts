import { HashMapStateBackend, StateTtlConfig, StreamExecutionEnvironment, ValueStateDescriptor, type RuntimeContext } from '../src/index.ts';
import { generateEvents, verifyCounts } from './common.ts';
import { SyncCounter } from './engine-count.ts';
const TTL = StateTtlConfig.newBuilder(3_600_000).build();
class SyncTtlCounter extends SyncCounter {
  override open(ctx: RuntimeContext): void {
    this.count = ctx.getSyncState(new ValueStateDescriptor<number>('count').enableTimeToLive(TTL));
  }
}
const events = generateEvents(1_000_000, 10_000);
const run = (c: SyncCounter) => StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1).setStateBackend(new HashMapStateBackend()).fromCollection(events).keyBy((e) => e.k).process(c).executeAndCollect();
const only = process.argv[3];
for (let r = 0; r < Number(process.argv[2] ?? 6); r++) {
  let line = `run ${r}:`;
  for (const [name, make] of [['plain', () => new SyncCounter()], ['ttl', () => new SyncTtlCounter()]] as const) {
    if (only && only !== name) continue;
    const c0 = process.cpuUsage();
    verifyCounts(await run(make()), 10_000, 100, name);
    const c = process.cpuUsage(c0);
    line += ` ${name} ${((c.user + c.system) / 1000).toFixed(0)} ms cpu`;
  }
  console.log(line);
}
