/**
 * The jobs of the worker benches. Workers import this module to rebuild them (see
 * `defineJob`), so it only defines things.
 */
import {
  defineJob,
  KeyedProcessFunction,
  MapStateDescriptor,
  ValueStateDescriptor,
  type Collector,
  type KeyedProcessContext,
  type MapState,
  type OnTimerContext,
  type RuntimeContext,
  type Source,
  type ValueState,
} from '../src/index.ts';

/** An event of the CPU-heavy job. */
export interface HeavyEvent {
  readonly k: string;
  readonly v: number;
}

/** Per-event CPU work: `rounds` rounds of a 32-bit multiply-xorshift hash over the key and value. */
export function heavyHash(k: string, v: number, rounds: number): number {
  let h = 0x811c9dc5 ^ v;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193);
    h ^= h >>> 13;
    h = Math.imul(h, 0x5bd1e995);
  }
  return h >>> 0;
}

/** Hashes each event and keeps per key a MapState of 16 buckets; emits [key, count, checksum] at the end. */
export class HashAndStore extends KeyedProcessFunction<string, HeavyEvent, [string, number, number]> {
  private buckets!: MapState<number, number>;
  private count!: ValueState<number>;
  constructor(private readonly rounds: number) {
    super();
  }
  override open(ctx: RuntimeContext): void {
    this.buckets = ctx.getMapState(new MapStateDescriptor<number, number>('buckets'));
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
  }
  async processElement(e: HeavyEvent, ctx: KeyedProcessContext<string>): Promise<void> {
    const h = heavyHash(e.k, e.v, this.rounds);
    const bucket = h & 15;
    await this.buckets.put(bucket, (((await this.buckets.get(bucket)) ?? 0) + h) >>> 0);
    const c = (await this.count.value()) ?? 0;
    if (c === 0) ctx.timerService().registerEventTimeTimer(Number.MAX_SAFE_INTEGER - 1);
    await this.count.update(c + 1);
  }
  override async onTimer(_ts: number, ctx: OnTimerContext<string>, out: Collector<[string, number, number]>): Promise<void> {
    let sum = 0;
    for await (const v of this.buckets.values()) sum = (sum + v) >>> 0;
    out.collect([ctx.getCurrentKey(), (await this.count.value())!, sum]);
  }
}

/** `count` events `{ k: 'k' + i % keys, v: i }`, generated in the source subtasks (each its index range). */
function rangeSource(count: number, keys: number, onlyLast: boolean): Source<HeavyEvent> {
  return {
    boundedness: 'bounded',
    createReader({ subtaskIndex, parallelism }) {
      let next = onlyLast ? (subtaskIndex === parallelism - 1 ? 0 : count) : Math.floor((count * subtaskIndex) / parallelism);
      const end = onlyLast ? count : Math.floor((count * (subtaskIndex + 1)) / parallelism);
      return {
        poll(max) {
          if (next >= end) return null;
          const n = Math.min(max, end - next);
          const out: HeavyEvent[] = new Array(n);
          for (let j = 0; j < n; j++, next++) out[j] = { k: 'k' + (next % keys), v: next };
          return out;
        },
      };
    },
  };
}

/** Arguments of {@link heavyJob}. */
export interface HeavyArgs {
  readonly events: number;
  readonly keys: number;
  readonly rounds: number;
}

/** workers-speedup: generate → keyBy → hash + MapState per event → [key, count, checksum] per key. */
export const heavyJob = defineJob(import.meta.url, 'heavyJob', (env, a: HeavyArgs) =>
  env
    .fromSource(rangeSource(a.events, a.keys, false), undefined, 'events')
    .keyBy((e) => e.k)
    .process(new HashAndStore(a.rounds)),
);

/** Counts records per key (one key here); emits the count at the end. */
export class CountAll extends KeyedProcessFunction<number, HeavyEvent, number> {
  private count!: ValueState<number>;
  override open(ctx: RuntimeContext): void {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
  }
  async processElement(_e: HeavyEvent, ctx: KeyedProcessContext<number>): Promise<void> {
    const c = (await this.count.value()) ?? 0;
    if (c === 0) ctx.timerService().registerEventTimeTimer(Number.MAX_SAFE_INTEGER - 1);
    await this.count.update(c + 1);
  }
  override async onTimer(_ts: number, _ctx: OnTimerContext<number>, out: Collector<number>): Promise<void> {
    out.collect((await this.count.value())!);
  }
}

/**
 * exchange-throughput: a source of parallelism 2 where only subtask 1 emits, keyed to one
 * key, counted by one subtask. With 2 workers every record crosses from worker 1 to
 * worker 0; with 1 worker the same graph runs in one thread.
 */
export const exchangeJob = defineJob(import.meta.url, 'exchangeJob', (env, a: { events: number }) =>
  env
    .fromSource(rangeSource(a.events, 1, true), undefined, 'events')
    .setParallelism(2)
    .keyBy(() => 0)
    .process(new CountAll())
    .setParallelism(1),
);
