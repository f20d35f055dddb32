/**
 * A job with every two-input operator fed by one tagged source, and its reference model.
 * One source subtask, one record per poll, and filters chained to it: each parallel
 * instance of a two-input operator then receives both inputs in source order (one
 * producer task feeds both channels of its gate, a FIFO), so the output is deterministic
 * even though it depends on how rules and events interleave.
 */
import {
  defineJob,
  KeyedBroadcastProcessFunction,
  KeyedCoProcessFunction,
  MapStateDescriptor,
  ProcessJoinFunction,
  ValueStateDescriptor,
  WatermarkStrategy,
  type Collector,
  type DataStream,
  type KeyedBroadcastContext,
  type KeyedProcessContext,
  type KeyedReadOnlyBroadcastContext,
  type OnTimerContext,
  type ProcessJoinContext,
  type RuntimeContext,
  type StreamExecutionEnvironment,
  type ValueState,
} from '../../src/index.ts';
import { prng } from '../helpers/prng.ts';
import { pacedSource } from '../helpers/sources.ts';

export type Rule = { kind: 'rule'; name: string; factor: number; halve: boolean; seq: number; ts: number };
export type Ev = { kind: 'event'; key: string; rule: string; v: number; seq: number; ts: number };
export type Item = Rule | Ev;

/** `n` items (every 9th a rule, every 4th rule also halves the keyed totals), timestamps 10 ms apart. */
export function items(seed: number, n: number): Item[] {
  const r = prng(seed);
  let rules = 0;
  return Array.from({ length: n }, (_, seq): Item => {
    const ts = seq * 10;
    if (seq % 9 === 4) return { kind: 'rule', name: r() < 0.5 ? 'x' : 'y', factor: 1 + Math.floor(r() * 5), halve: rules++ % 4 === 3, seq, ts };
    return { kind: 'event', key: `k${Math.floor(r() * 6)}`, rule: r() < 0.5 ? 'x' : 'y', v: 1 + Math.floor(r() * 9), seq, ts };
  });
}

export const RULES = new MapStateDescriptor<string, number>('rules');
export const TOTAL = new ValueStateDescriptor<number>('total');

/** Per event: its key's running total of v × the event's rule factor; a 'halve' rule halves every key's total. */
export class RuleApplier extends KeyedBroadcastProcessFunction<string, Ev, Rule, string> {
  private total!: ValueState<number>;
  override open(ctx: RuntimeContext) {
    this.total = ctx.getState(TOTAL);
  }
  async processElement(e: Ev, ctx: KeyedReadOnlyBroadcastContext<string>, out: Collector<string>) {
    const factor = (await ctx.getBroadcastState(RULES).get(e.rule)) ?? 1;
    const total = ((await this.total.value()) ?? 0) + e.v * factor;
    await this.total.update(total);
    out.collect(`E|${ctx.getCurrentKey()}|${e.seq}|${total}`);
  }
  async processBroadcastElement(rule: Rule, ctx: KeyedBroadcastContext<string>) {
    await ctx.getBroadcastState(RULES).put(rule.name, rule.factor);
    if (rule.halve) await ctx.applyToKeyedState(TOTAL, async (_key, state) => state.update(Math.floor(((await state.value()) ?? 0) / 2)));
  }
}

/** Per key, at the end of input: the sums and counts of both inputs (even and odd events). */
export class SumBoth extends KeyedCoProcessFunction<string, Ev, Ev, string> {
  private sums!: ValueState<[number, number, number]>;
  override open(ctx: RuntimeContext) {
    this.sums = ctx.getState(new ValueStateDescriptor<[number, number, number]>('sums'));
  }
  private async add(e: Ev, input: 1 | 2, ctx: KeyedProcessContext<string>) {
    const s = (await this.sums.value()) ?? [0, 0, 0];
    s[0] += e.v;
    s[input]++;
    await this.sums.update(s);
    ctx.timerService().registerEventTimeTimer(1e9);
  }
  processElement1(e: Ev, ctx: KeyedProcessContext<string>) {
    return this.add(e, 1, ctx);
  }
  processElement2(e: Ev, ctx: KeyedProcessContext<string>) {
    return this.add(e, 2, ctx);
  }
  override async onTimer(_ts: number, ctx: OnTimerContext<string>, out: Collector<string>) {
    out.collect(`S|${ctx.getCurrentKey()}|${(await this.sums.value())!.join('|')}`);
  }
}

export class JoinPairs extends ProcessJoinFunction<Ev, Ev, string> {
  processElement(l: Ev, r: Ev, ctx: ProcessJoinContext, out: Collector<string>) {
    out.collect(`J|${l.seq}|${r.seq}|${ctx.getTimestamp()}`);
  }
}

export const JOIN_LOWER = -30;
export const JOIN_UPPER = 20;

/** The job over `source` (the tagged items, one subtask): keyed broadcast, keyed co-process and interval join. */
export function twoInputJob(source: DataStream<Item>): DataStream<string> {
  const rules = source
    .filter((i: Item) => i.kind === 'rule')
    .setParallelism(1)
    .uid('rule-filter') as DataStream<Rule>;
  const events = source
    .filter((i: Item) => i.kind === 'event')
    .setParallelism(1)
    .uid('event-filter') as DataStream<Ev>;
  const even = events
    .filter((e) => e.seq % 2 === 0)
    .setParallelism(1)
    .uid('even');
  const odd = events
    .filter((e) => e.seq % 2 === 1)
    .setParallelism(1)
    .uid('odd');
  const applied = events
    .keyBy((e) => e.key)
    .connect(rules.broadcast(RULES))
    .process(new RuleApplier())
    .uid('rule-applier');
  const sums = even
    .connect(odd)
    .keyBy(
      (e) => e.key,
      (e) => e.key,
    )
    .process(new SumBoth())
    .uid('sum-both');
  const joined = even
    .keyBy((e) => e.key)
    .intervalJoin(odd.keyBy((e) => e.key))
    .between(JOIN_LOWER, JOIN_UPPER)
    .process(new JoinPairs())
    .uid('join');
  return applied.union(sums, joined);
}

/** The tagged items from one source subtask, one per poll, timestamps monotonous. */
export function itemSource(env: StreamExecutionEnvironment, all: readonly Item[]): DataStream<Item> {
  return env
    .fromSource(
      pacedSource(all.length, (i) => all[i], 1),
      WatermarkStrategy.forMonotonousTimestamps<Item>().withTimestampAssigner((i) => i.ts),
      'items',
    )
    .setParallelism(1)
    .uid('items');
}

/** What {@link twoInputJob} outputs for `all`, computed directly. */
export function twoInputModel(all: readonly Item[]): string[] {
  const out: string[] = [];
  const rules = new Map<string, number>();
  const totals = new Map<string, number>();
  const sums = new Map<string, [number, number, number]>();
  const even: Ev[] = [];
  const odd: Ev[] = [];
  for (const i of all) {
    if (i.kind === 'rule') {
      rules.set(i.name, i.factor);
      if (i.halve) for (const [k, t] of totals) totals.set(k, Math.floor(t / 2));
      continue;
    }
    const total = (totals.get(i.key) ?? 0) + i.v * (rules.get(i.rule) ?? 1);
    totals.set(i.key, total);
    out.push(`E|${i.key}|${i.seq}|${total}`);
    const s = sums.get(i.key) ?? [0, 0, 0];
    s[0] += i.v;
    s[i.seq % 2 === 0 ? 1 : 2]++;
    sums.set(i.key, s);
    (i.seq % 2 === 0 ? even : odd).push(i);
  }
  for (const [k, s] of sums) out.push(`S|${k}|${s.join('|')}`);
  for (const l of even) {
    for (const r of odd) {
      const d = r.ts - l.ts;
      if (l.key === r.key && d >= JOIN_LOWER && d <= JOIN_UPPER) out.push(`J|${l.seq}|${r.seq}|${Math.max(l.ts, r.ts)}`);
    }
  }
  return out.sort();
}

/** {@link twoInputJob} over `items(seed, count)`, defined so that worker threads can build it too. */
export const twoInputJobDefinition = defineJob(import.meta.url, 'twoInputJobDefinition', (env, args: { seed: number; count: number }) =>
  twoInputJob(itemSource(env, items(args.seed, args.count))),
);
