/**
 * Window joins and co-groups (Flink's `JoinedStreams`, `CoGroupedStreams`) against a
 * reference model written directly: random keyed events with out-of-order timestamps
 * (fixed seeds) split into two inputs, tumbling event-time windows; at parallelism 1
 * and 3, on the heap and SQLite backends; identical after injected failures and after a
 * savepoint restored at another parallelism.
 */
import { describe, expect, it } from 'vitest';
import {
  CheckpointingMode,
  ConfigurationError,
  RestartStrategies,
  StreamExecutionEnvironment,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  type Collector,
  type DataStream,
  type JobClient,
} from '../../src/index.ts';
import { MemoryCheckpointStorage } from '../../src/storages/memory.ts';
import { pacedSource } from '../helpers/sources.ts';
import { BACKENDS, CommittingSink } from './helpers.ts';
import { events, type Ev } from './model.ts';

const SIZE = 100;
/** No late events: the jitter stays within the out-of-orderness bound. */
const EVENTS = events(7, 300, 4, 7, 40, 1e9);
const ORDERS = EVENTS.filter((e) => e.seq % 3 !== 0);
const PAYMENTS = EVENTS.filter((e) => e.seq % 3 === 0).map((e) => ({ account: e.key, at: e.ts, id: e.seq }));
type Payment = (typeof PAYMENTS)[number];

const start = (ts: number) => Math.floor(ts / SIZE) * SIZE;

function joinModel(): string[] {
  const out: string[] = [];
  for (const a of ORDERS)
    for (const b of PAYMENTS) if (a.key === b.account && start(a.ts) === start(b.at)) out.push(`${a.key}|${start(a.ts)}|${a.seq}-${b.id}`);
  return out.sort();
}

function coGroupModel(): string[] {
  const groups = new Map<string, { a: number[]; b: number[] }>();
  const group = (key: string, ts: number) => {
    const id = `${key}|${start(ts)}`;
    let g = groups.get(id);
    if (g === undefined) groups.set(id, (g = { a: [], b: [] }));
    return g;
  };
  for (const a of ORDERS) group(a.key, a.ts).a.push(a.seq);
  for (const b of PAYMENTS) group(b.account, b.at).b.push(b.id);
  return [...groups].map(([id, g]) => `${id}|${g.a.sort((x, y) => x - y).join(',')}|${g.b.sort((x, y) => x - y).join(',')}`).sort();
}

/** A failure to inject at an order, and a look at every order the job reads. */
type Hooks = { trap?: { atSeq: number; sprung: boolean }; onOrder?: (o: Ev) => void };

function inputs(env: StreamExecutionEnvironment, { trap, onOrder }: Hooks = {}) {
  // Paced, so that checkpoints and the savepoint fall in the middle of the inputs.
  const orders = env
    .fromSource(
      pacedSource(ORDERS.length, (i) => ORDERS[i], 5),
      WatermarkStrategy.forBoundedOutOfOrderness<Ev>(40).withTimestampAssigner((e) => e.ts),
      'orders-source',
    )
    .setParallelism(1)
    .uid('orders-source')
    .map((e: Ev) => {
      if (trap && e.seq === trap.atSeq && !trap.sprung) {
        trap.sprung = true;
        throw new Error(`injected failure at order ${e.seq}`);
      }
      onOrder?.(e);
      return e;
    })
    .setParallelism(1)
    .uid('orders');
  const payments = env
    .fromSource(
      pacedSource(PAYMENTS.length, (i) => PAYMENTS[i], 3),
      WatermarkStrategy.forBoundedOutOfOrderness<Payment>(40).withTimestampAssigner((p) => p.at),
      'payments-source',
    )
    .setParallelism(1)
    .uid('payments');
  return { orders, payments };
}

function joined(env: StreamExecutionEnvironment, hooks?: Hooks): DataStream<string> {
  const { orders, payments } = inputs(env, hooks);
  return orders
    .join(payments)
    .where((o) => o.key)
    .equalTo((p) => p.account)
    .window(TumblingEventTimeWindows.of(SIZE))
    .apply((o: Ev, p: Payment) => `${o.key}|${start(o.ts)}|${o.seq}-${p.id}`)
    .uid('join');
}

describe('window join', () => {
  for (const [backend, parallelism] of [
    ['heap', 1],
    ['heap', 3],
    ['sqlite', 3],
  ] as const) {
    it(`equals the model: one result per pair with equal keys in the same window (${backend}, parallelism ${parallelism})`, async () => {
      const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(parallelism).setStateBackend(BACKENDS[backend]());
      const got = ((await joined(env).executeAndCollect()) as string[]).sort();
      expect(got.length).toBeGreaterThan(50);
      expect(got).toEqual(joinModel());
    });
  }

  it('a join function declared with `out` is a flat join; an async one is awaited in order', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
    const { orders, payments } = inputs(env);
    const flat = orders
      .join(payments)
      .where((o) => o.key)
      .equalTo((p) => p.account)
      .window(TumblingEventTimeWindows.of(SIZE))
      .apply((o: Ev, p: Payment, out: Collector<string>) => {
        if (o.v > 4) out.collect(`${o.key}|${start(o.ts)}|${o.seq}-${p.id}`);
      });
    const slow = orders
      .join(payments)
      .where((o) => o.key)
      .equalTo((p) => p.account)
      .window(TumblingEventTimeWindows.of(SIZE))
      .apply({
        async join(o: Ev, p: Payment) {
          await Promise.resolve();
          return `async:${o.key}|${start(o.ts)}|${o.seq}-${p.id}`;
        },
      });
    const got = (await flat.union(slow).executeAndCollect()) as string[];
    const big = new Set(ORDERS.filter((o) => o.v > 4).map((o) => o.seq));
    const model = joinModel();
    expect(got.filter((s) => !s.startsWith('async:')).sort()).toEqual(model.filter((s) => big.has(Number(s.split('|')[2].split('-')[0]))));
    expect(got.filter((s) => s.startsWith('async:')).sort()).toEqual(model.map((s) => `async:${s}`));
  });

  it('refuses what is not a join function', () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    const { orders, payments } = inputs(env);
    const windowed = orders
      .join(payments)
      .where((o) => o.key)
      .equalTo((p) => p.account)
      .window(TumblingEventTimeWindows.of(SIZE));
    expect(() => windowed.apply({} as never)).toThrow(ConfigurationError);
    expect(() => orders.join(payments).where(undefined as never)).toThrow(/where\(\) needs a key selector/);
    expect(() =>
      orders
        .coGroup(payments)
        .where((o) => o.key)
        .equalTo('account' as never),
    ).toThrow(/equalTo\(\) needs a key selector/);
  });
});

describe('window coGroup', () => {
  for (const parallelism of [1, 3]) {
    it(`equals the model: once per key and window with both sides, either possibly empty (parallelism ${parallelism})`, async () => {
      const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(parallelism);
      const { orders, payments } = inputs(env);
      const got = (await orders
        .coGroup(payments)
        .where((o) => o.key)
        .equalTo((p) => p.account)
        .window(TumblingEventTimeWindows.of(SIZE))
        .apply({
          coGroup(first: Iterable<Ev>, second: Iterable<Payment>, out: Collector<string>) {
            const a = [...first];
            const b = [...second];
            const any = a[0]?.ts ?? b[0].at;
            const key = a[0]?.key ?? b[0].account;
            out.collect(`${key}|${start(any)}|${a.map((e) => e.seq).sort((x, y) => x - y)}|${b.map((p) => p.id).sort((x, y) => x - y)}`);
          },
        })
        .executeAndCollect()) as string[];
      const model = coGroupModel();
      // Both kinds of one-sided groups occur, so "either side empty" is really exercised.
      expect(model.some((g) => g.endsWith('|'))).toBe(true);
      expect(model.some((g) => g.split('|')[2] === '')).toBe(true);
      expect(got.sort()).toEqual(model);
    });
  }
});

describe('window join under failures and rescaling', () => {
  it('injected failures with checkpointing give the failure-free output exactly', { timeout: 60_000 }, async () => {
    const expected = joinModel();
    for (const atSeq of [40, 151, 280]) {
      const trap = { atSeq, sprung: false };
      const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
      env.enableCheckpointing(2, CheckpointingMode.EXACTLY_ONCE).setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 0));
      const warn = console.warn;
      console.warn = () => {};
      try {
        const got = ((await joined(env, { trap }).executeAndCollect()) as string[]).sort();
        expect(trap.sprung).toBe(true);
        expect(got).toEqual(expected);
      } finally {
        console.warn = warn;
      }
    }
  });

  it('a savepoint at parallelism 2 (open windows on both sides) restores at parallelism 3 with identical results', { timeout: 60_000 }, async () => {
    const storage = new MemoryCheckpointStorage();
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
    env.enableCheckpointing(60_000, CheckpointingMode.EXACTLY_ONCE).getCheckpointConfig().setCheckpointStorage(storage);
    const committed: string[] = [];
    let client!: JobClient;
    let stopping: Promise<string> | undefined;
    joined(env, {
      onOrder: (o) => {
        if (o.seq === 200 && stopping === undefined) stopping = client.stopWithSavepoint();
      },
    })
      .addSink(new CommittingSink((records) => committed.push(...records)))
      .uid('sink');
    client = await env.executeAsync('join-savepoint');
    await client.result.catch(() => {});
    const path = await stopping!;
    expect(committed.length).toBeGreaterThan(0);
    expect(committed.length).toBeLessThan(joinModel().length);
    const resumed = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(3);
    resumed.enableCheckpointing(60_000, CheckpointingMode.EXACTLY_ONCE).getCheckpointConfig().setCheckpointStorage(storage);
    resumed.fromSavepoint(path, { allowNonRestoredState: true });
    const rest = (await joined(resumed).executeAndCollect('resumed')) as string[];
    expect([...committed, ...rest].sort()).toEqual(joinModel());
  });
});
