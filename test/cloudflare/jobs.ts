/**
 * The jobs the Cloudflare tests run both in workerd (hosted in Durable Objects) and in
 * Node (the local executor), with their deterministic input.
 */
import { ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor } from '../../src/api/descriptors.ts';
import { KeyedProcessFunction, type Collector, type KeyedProcessContext, type OnTimerContext, type RuntimeContext } from '../../src/api/functions.ts';
import { OutputTag } from '../../src/api/output-tag.ts';
import type { ListState, MapState, ValueState } from '../../src/api/state.ts';
import { WatermarkStrategy } from '../../src/api/watermarks.ts';
import { prng } from '../helpers/prng.ts';

/** An input event of the tally job. */
export interface Reading {
  key: string;
  kind: 'a' | 'b' | 'c';
  amount: number;
  ts: number;
}

/** Large readings go to this side output. */
export const LARGE = new OutputTag<Reading>('large');

/**
 * Per key: a running count (ValueState), the last three amounts (ListState), a count per
 * kind (MapState), and one event-time timer per 10 s window that reports the window's
 * count. No output depends on when a watermark arrives relative to the records, so runs
 * with other watermark timing (per object here, per source in Node) give the same output.
 */
export class Tally extends KeyedProcessFunction<string, Reading, unknown> {
  private count!: ValueState<number>;
  private recent!: ListState<number>;
  private kinds!: MapState<string, number>;
  private windows!: MapState<number, number>;

  override open(ctx: RuntimeContext): void {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
    this.recent = ctx.getListState(new ListStateDescriptor<number>('recent'));
    this.kinds = ctx.getMapState(new MapStateDescriptor<string, number>('kinds'));
    this.windows = ctx.getMapState(new MapStateDescriptor<number, number>('windows'));
  }

  async processElement(r: Reading, ctx: KeyedProcessContext<string>, out: Collector<unknown>): Promise<void> {
    const n = ((await this.count.value()) ?? 0) + 1;
    await this.count.update(n);
    const recent = [...((await this.recent.get()) ?? []), r.amount].slice(-3);
    await this.recent.update(recent);
    const kind = ((await this.kinds.get(r.kind)) ?? 0) + 1;
    await this.kinds.put(r.kind, kind);
    const end = Math.floor(r.ts / 10_000) * 10_000 + 9_999;
    await this.windows.put(end, ((await this.windows.get(end)) ?? 0) + 1);
    ctx.timerService().registerEventTimeTimer(end);
    if (r.amount > 900) ctx.output(LARGE, r);
    out.collect({ key: r.key, n, recent, kind: r.kind, kindCount: kind });
  }

  override async onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<unknown>): Promise<void> {
    const inWindow = await this.windows.get(ts);
    await this.windows.remove(ts);
    out.collect({ key: ctx.getCurrentKey(), window: ts, count: inWindow });
  }
}

/** Event time of the tally job: 2 s out of order. */
export function tallyWatermarks(): WatermarkStrategy<Reading> {
  return WatermarkStrategy.forBoundedOutOfOrderness<Reading>(2_000).withTimestampAssigner((r) => r.ts);
}

/** `count` readings over `keys` keys, timestamps rising with a little disorder per key stream. */
export function readings(count: number, keys = 12, seed = 7): Reading[] {
  const random = prng(seed);
  const out: Reading[] = [];
  for (let i = 0; i < count; i++) {
    const kinds = ['a', 'b', 'c'] as const;
    out.push({ key: `k${Math.floor(random() * keys)}`, kind: kinds[Math.floor(random() * 3)], amount: Math.floor(random() * 1000), ts: i * 250 });
  }
  return out;
}

/** Splits events into batches of `size`. */
export function batches<T>(events: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < events.length; i += size) out.push(events.slice(i, i + size));
  return out;
}

/** A canonical order for comparing outputs as multisets. */
export function sorted(values: readonly unknown[]): string[] {
  return values.map((v) => JSON.stringify(v)).sort();
}

/** Reports a key once no reading came for it for `idleMs` of processing time (a session timeout). */
export class IdleTimeout extends KeyedProcessFunction<string, Reading, unknown> {
  private deadline!: ValueState<number>;
  private seen!: ValueState<number>;
  constructor(private readonly idleMs: number) {
    super();
  }
  override open(ctx: RuntimeContext): void {
    this.deadline = ctx.getState(new ValueStateDescriptor<number>('deadline'));
    this.seen = ctx.getState(new ValueStateDescriptor<number>('seen'));
  }
  async processElement(_r: Reading, ctx: KeyedProcessContext<string>): Promise<void> {
    const old = await this.deadline.value();
    if (old !== undefined) ctx.timerService().deleteProcessingTimeTimer(old);
    const deadline = ctx.timerService().currentProcessingTime() + this.idleMs;
    ctx.timerService().registerProcessingTimeTimer(deadline);
    await this.deadline.update(deadline);
    await this.seen.update(((await this.seen.value()) ?? 0) + 1);
  }
  override async onTimer(_ts: number, ctx: OnTimerContext<string>, out: Collector<unknown>): Promise<void> {
    out.collect({ key: ctx.getCurrentKey(), idle: true, seen: await this.seen.value(), domain: ctx.timeDomain() });
    await this.deadline.clear();
  }
}
