/**
 * The demo's job, defined with `defineJob` so that every eddy worker builds the same graph
 * from this module (it has no side effects on import).
 *
 *   transactions (SPLITS splits, paced)
 *     → keyBy(card) → CardProfile: ValueState count/spent, MapState per merchant with a TTL,
 *       an event-time timer (Flink's fraud-detection rule: a tiny amount, then a large one within 1 s)
 *     → keyBy(card) → 1-s tumbling event-time windows → count per card and window
 *     → one subtask gathers each second's counts of all cards → IndexedDbSink (exactly once)
 */
import {
  defineJob,
  HashMapStateBackend,
  IndexedDbSink,
  IndexedDbStateBackend,
  KeyedProcessFunction,
  MapStateDescriptor,
  StateTtlConfig,
  TumblingEventTimeWindows,
  ValueStateDescriptor,
  WatermarkStrategy,
  type Collector,
  type KeyedProcessContext,
  type MapState,
  type OnTimerContext,
  type ProcessWindowContext,
  type RuntimeContext,
  type StateBackend,
  type TimeWindow,
  type ValueState,
} from 'eddy';
import type { BackendName } from './scenario.ts';
import { SqliteStateBackend } from 'eddy/sqlite';
import type { WindowSummary } from './invariant.ts';
import { outputDatabaseName } from './output.ts';
import { COUNT_UID, LARGE_CENTS, PROFILE_UID, SMALL_CENTS, type Tx } from './scenario.ts';
import { transactionSource } from './source.ts';

/** What the job is built from (structured-cloneable: every worker gets a copy). */
export interface DemoJobArgs {
  readonly jobName: string;
  readonly backend: BackendName;
  /** Where the generator starts; the host steers it over the channel afterwards. */
  readonly rate: number;
  readonly paused: boolean;
}

/** How long a merchant's count lives after its last write (processing time). */
export const MERCHANT_TTL_MS = 30_000;

/** Per card: transactions, money spent, per-merchant counts (with a TTL), and the fraud rule's flag and timer. */
export class CardProfile extends KeyedProcessFunction<string, Tx, Tx> {
  private count!: ValueState<number>;
  private spent!: ValueState<number>;
  private merchants!: MapState<string, number>;
  private armed!: ValueState<number>;
  private alerts!: ValueState<number>;
  override open(ctx: RuntimeContext) {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
    this.spent = ctx.getState(new ValueStateDescriptor<number>('spentCents'));
    const merchants = new MapStateDescriptor<string, number>('merchants');
    merchants.enableTimeToLive(StateTtlConfig.newBuilder(MERCHANT_TTL_MS).build());
    this.merchants = ctx.getMapState(merchants);
    this.armed = ctx.getState(new ValueStateDescriptor<number>('armedUntil'));
    this.alerts = ctx.getState(new ValueStateDescriptor<number>('alerts'));
  }
  async processElement(tx: Tx, ctx: KeyedProcessContext<string>, out: Collector<Tx>) {
    await this.count.update(((await this.count.value()) ?? 0) + 1);
    await this.spent.update(((await this.spent.value()) ?? 0) + tx.cents);
    await this.merchants.put(tx.merchant, ((await this.merchants.get(tx.merchant)) ?? 0) + 1);
    const armedUntil = await this.armed.value();
    if (armedUntil !== undefined && tx.cents > LARGE_CENTS) await this.alerts.update(((await this.alerts.value()) ?? 0) + 1);
    if (tx.cents < SMALL_CENTS) {
      // Disarm 1 s of event time later; an earlier timer of the key is replaced.
      if (armedUntil !== undefined) ctx.timerService().deleteEventTimeTimer(armedUntil);
      await this.armed.update(tx.ts + 1000);
      ctx.timerService().registerEventTimeTimer(tx.ts + 1000);
    }
    out.collect(tx);
  }
  override async onTimer(_ts: number, _ctx: OnTimerContext<string>, _out: Collector<Tx>) {
    await this.armed.clear();
  }
}

type PerCard = { card: string; start: number; count: number; lastAt: number };

/** The IndexedDB backend's database of a job. */
export function stateDatabaseName(jobName: string): string {
  return `eddy-demo-state:${jobName}`;
}

function backendOf(name: BackendName, jobName: string): StateBackend {
  if (name === 'indexeddb') return new IndexedDbStateBackend({ databaseName: stateDatabaseName(jobName) });
  if (name === 'sqlite') {
    // One worker at a time may hold an opfs-sahpool directory: each worker gets its own (named by eddy-worker.ts).
    const worker = (globalThis as { eddyDemoWorker?: string }).eddyDemoWorker ?? 'main';
    return new SqliteStateBackend({ vfs: 'opfs-sahpool', poolDirectory: `.eddy-demo-sqlite-${worker}`, removeOnDispose: true });
  }
  return new HashMapStateBackend();
}

/** The demo job. */
export const demoJob = defineJob(import.meta.url, 'demoJob', (env, args: DemoJobArgs) => {
  env.setStateBackend(backendOf(args.backend, args.jobName));
  env
    .fromSource(
      transactionSource(args.jobName, args.rate, args.paused),
      WatermarkStrategy.forMonotonousTimestamps<Tx>().withTimestampAssigner((tx) => tx.ts),
      'transactions',
    )
    .uid('transactions')
    .keyBy((tx) => tx.card)
    .process(new CardProfile())
    .uid(PROFILE_UID)
    .name('card profile')
    .keyBy((tx) => tx.card)
    .window(TumblingEventTimeWindows.of(1000))
    .aggregate(
      {
        createAccumulator: () => [0, 0] as [number, number],
        add: (tx: Tx, acc: [number, number]): [number, number] => [acc[0] + 1, Math.max(acc[1], tx.at)],
        getResult: (acc: [number, number]) => acc,
      },
      {
        process(card: string, ctx: ProcessWindowContext<TimeWindow>, results: Iterable<[number, number]>, out: Collector<PerCard>) {
          for (const [count, lastAt] of results) out.collect({ card, start: ctx.window().start, count, lastAt });
        },
      },
    )
    .uid(COUNT_UID)
    .name('1-s window count')
    .keyBy(() => 'all')
    .window(TumblingEventTimeWindows.of(1000))
    .aggregate(
      {
        createAccumulator: () => ({ counts: {} as Record<string, number>, lastAt: 0 }),
        add: (w: PerCard, acc: { counts: Record<string, number>; lastAt: number }) => {
          acc.counts[w.card] = (acc.counts[w.card] ?? 0) + w.count;
          acc.lastAt = Math.max(acc.lastAt, w.lastAt);
          return acc;
        },
        getResult: (acc: { counts: Record<string, number>; lastAt: number }) => acc,
      },
      {
        process(
          _k: string,
          ctx: ProcessWindowContext<TimeWindow>,
          results: Iterable<{ counts: Record<string, number>; lastAt: number }>,
          out: Collector<WindowSummary>,
        ) {
          for (const r of results) out.collect({ start: ctx.window().start, counts: r.counts, lastAt: r.lastAt, firedAt: Date.now() });
        },
      },
    )
    .uid('gather')
    .name('gather windows')
    .setParallelism(1)
    // One sink subtask: its transactions commit in key order, so the host tails the output without a miss.
    .addSink(new IndexedDbSink<WindowSummary>({ database: outputDatabaseName(args.jobName) }))
    .uid('output')
    .name('IndexedDB output')
    .setParallelism(1);
});
