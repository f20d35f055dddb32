import { describe, expect, it } from 'vitest';
import {
  EddyError,
  KeyedProcessFunction,
  ListStateDescriptor,
  ManualClock,
  StateTtlConfig,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  type Collector,
  type KeyedProcessContext,
  type ListState,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { KeyedProcessOperator } from '../../src/engine/operators/process.ts';
import { OperatorHarness, restoreFrom } from '../helpers/harness.ts';

interface Ev {
  user: string;
  /** Processing time at which the event arrives. */
  at: number;
}

/** Emits an event unless the same user was seen within the TTL: deduplication by state expiry. */
class Dedupe extends KeyedProcessFunction<string, Ev, string> {
  seen!: ValueState<boolean>;
  constructor(
    private readonly clock: ManualClock,
    private readonly ttl: StateTtlConfig,
  ) {
    super();
  }
  override open(ctx: RuntimeContext) {
    this.seen = ctx.getState(new ValueStateDescriptor<boolean>('seen').enableTimeToLive(this.ttl));
  }
  async processElement(e: Ev, _ctx: KeyedProcessContext<string>, out: Collector<string>) {
    this.clock.set(e.at);
    if (await this.seen.value()) return;
    await this.seen.update(true);
    out.collect(`${e.user}@${e.at}`);
  }
}

/** Reports, per event, the user's events of the last TTL ms (list elements expire one by one). */
class Recent extends KeyedProcessFunction<string, Ev, string> {
  recent!: ListState<number>;
  constructor(private readonly clock: ManualClock) {
    super();
  }
  override open(ctx: RuntimeContext) {
    this.recent = ctx.getListState(new ListStateDescriptor<number>('recent').enableTimeToLive(StateTtlConfig.newBuilder(100).build()));
  }
  async processElement(e: Ev, _ctx: KeyedProcessContext<string>, out: Collector<string>) {
    this.clock.set(e.at);
    await this.recent.add(e.at);
    out.collect(`${e.user}@${e.at}:${(await this.recent.get()).join(',')}`);
  }
}

const events: Ev[] = [
  { user: 'a', at: 0 },
  { user: 'a', at: 50 },
  { user: 'b', at: 60 },
  { user: 'a', at: 99 },
  { user: 'a', at: 100 },
  { user: 'b', at: 159 },
  { user: 'a', at: 180 },
  { user: 'b', at: 160 + 100 },
];

function run<T>(fn: KeyedProcessFunction<string, Ev, T>, clock: ManualClock): Promise<T[]> {
  return StreamExecutionEnvironment.getExecutionEnvironment()
    .setParallelism(1)
    .setClock(clock)
    .fromCollection(events)
    .keyBy((e) => e.user)
    .process(fn)
    .executeAndCollect('ttl-e2e');
}

describe('TTL in a job', () => {
  it('a KeyedProcessFunction deduplicates within the TTL: state written at 0 is gone at 100 (OnCreateAndWrite)', async () => {
    const clock = new ManualClock(0);
    const out = await run(new Dedupe(clock, StateTtlConfig.newBuilder(100).build()), clock);
    expect(out).toEqual(['a@0', 'b@60', 'a@100', 'b@260']);
  });

  it('with OnReadAndWrite every duplicate renews the TTL, so a steady stream of duplicates never expires', async () => {
    const clock = new ManualClock(0);
    const out = await run(new Dedupe(clock, StateTtlConfig.newBuilder(100).updateTtlOnReadAndWrite().build()), clock);
    expect(out).toEqual(['a@0', 'b@60', 'b@260']);
  });

  it('list state in a job expires element by element', async () => {
    const clock = new ManualClock(0);
    const out = await run(new Recent(clock), clock);
    expect(out).toEqual(['a@0:0', 'a@50:0,50', 'b@60:60', 'a@99:0,50,99', 'a@100:50,99,100', 'b@159:60,159', 'a@180:99,100,180', 'b@260:260']);
  });
});

describe('TTL through operator snapshots', () => {
  it('restores timestamps with the keyed state: a restored value expires when it would have without the restore', async () => {
    const clock = new ManualClock(0);
    const ttl = StateTtlConfig.newBuilder(100).build();
    const first = await OperatorHarness.open(new KeyedProcessOperator(new Dedupe(clock, ttl)), { clock });
    expect(await first.process([{ user: 'a', at: 0 }], (e) => e.user)).toEqual(['a@0']);
    const snapshot = await first.snapshot();
    await first.close();

    const later = new ManualClock(50);
    const second = await OperatorHarness.open(new KeyedProcessOperator(new Dedupe(later, ttl)), { clock: later }, restoreFrom([snapshot]));
    expect(await second.process([{ user: 'a', at: 99 }], (e) => e.user)).toEqual([]);
    expect(await second.process([{ user: 'a', at: 100 }], (e) => e.user)).toEqual(['a@100']);
  });

  it.each([
    ['with TTL', 'without it', StateTtlConfig.newBuilder(100).build(), undefined],
    ['without TTL', 'with it', undefined, StateTtlConfig.newBuilder(100).build()],
  ] as const)('state written %s and registered %s after a restore fails the job start with SNAPSHOT_INCOMPATIBLE', async (_w, _r, before, after) => {
    class Plain extends KeyedProcessFunction<string, Ev, string> {
      seen!: ValueState<boolean>;
      constructor(private readonly ttl: StateTtlConfig | undefined) {
        super();
      }
      override open(ctx: RuntimeContext) {
        const d = new ValueStateDescriptor<boolean>('seen');
        this.seen = ctx.getState(this.ttl ? d.enableTimeToLive(this.ttl) : d);
      }
      async processElement(_e: Ev) {
        await this.seen.update(true);
      }
    }
    const first = await OperatorHarness.open(new KeyedProcessOperator(new Plain(before)));
    await first.process([{ user: 'a', at: 0 }], (e) => e.user);
    const snapshot = await first.snapshot();
    const failure = await OperatorHarness.open(new KeyedProcessOperator(new Plain(after)), {}, restoreFrom([snapshot])).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(EddyError);
    expect((failure as EddyError).code).toBe('SNAPSHOT_INCOMPATIBLE');
    expect((failure as EddyError).message).toMatch(/\[operator:Harness \(1\/1\)\] \[state:seen\] state "seen" is stored with(out)? TTL/);
  });
});
