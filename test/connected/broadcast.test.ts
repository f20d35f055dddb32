/**
 * The broadcast state pattern (issue 16): every broadcast record reaches every parallel
 * instance, `processElement` reads the broadcast state read-only (writes throw
 * STATE_READ_ONLY), `processBroadcastElement` writes it, and the keyed variant reaches
 * every key's state with `applyToKeyedState`; the outputs match a direct model.
 */
import { describe, expect, it } from 'vitest';
import {
  BroadcastProcessFunction,
  EddyError,
  MapStateDescriptor,
  StreamExecutionEnvironment,
  type BroadcastContext,
  type BroadcastState,
  type DataStream,
  type Collector,
  type ReadOnlyBroadcastContext,
} from '../../src/index.ts';
import { BACKENDS } from '../windows/helpers.ts';
import { itemSource, items, RULES, twoInputJob, twoInputModel, type Ev, type Item, type Rule } from './two-input-jobs.ts';

const ITEMS = items(31, 240);

function env(parallelism: number, backend = 'heap'): StreamExecutionEnvironment {
  return StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(parallelism).setStateBackend(BACKENDS[backend]());
}

/** The rules and the events of the tagged source, both chained to it. */
function split(e: StreamExecutionEnvironment, all: readonly Item[]): { rules: DataStream<Rule>; events: DataStream<Ev> } {
  const source = itemSource(e, all);
  return {
    rules: source.filter((i: Item) => i.kind === 'rule').setParallelism(1) as DataStream<unknown> as DataStream<Rule>,
    events: source.filter((i: Item) => i.kind === 'event').setParallelism(1) as DataStream<unknown> as DataStream<Ev>,
  };
}

/** Non-keyed: each event scaled by its rule's factor as the broadcast state has it. */
class Scaler extends BroadcastProcessFunction<Ev, Rule, string> {
  async processElement(e: Ev, ctx: ReadOnlyBroadcastContext, out: Collector<string>) {
    out.collect(`N|${e.seq}|${e.v * ((await ctx.getBroadcastState(RULES).get(e.rule)) ?? 1)}`);
  }
  async processBroadcastElement(r: Rule, ctx: BroadcastContext, out: Collector<string>) {
    await ctx.getBroadcastState(RULES).put(r.name, r.factor);
    out.collect(`B|${this.getRuntimeContext().getIndexOfThisSubtask()}|${r.seq}`);
  }
}

describe('broadcast state pattern', () => {
  for (const p of [1, 3]) {
    it(`non-keyed: every rule reaches every instance, events read the rules (parallelism ${p})`, { timeout: 30_000 }, async () => {
      const e = env(p);
      const { rules, events } = split(e, ITEMS);
      const got = await events.connect(rules.broadcast(RULES)).process(new Scaler()).executeAndCollect();
      const factors = new Map<string, number>();
      const expected: string[] = [];
      for (const i of ITEMS) {
        if (i.kind === 'rule') {
          factors.set(i.name, i.factor);
          for (let s = 0; s < p; s++) expected.push(`B|${s}|${i.seq}`);
        } else expected.push(`N|${i.seq}|${i.v * (factors.get(i.rule) ?? 1)}`);
      }
      expect(got.sort()).toEqual(expected.sort());
    });
  }

  for (const [p, backend] of [
    [1, 'heap'],
    [3, 'heap'],
    [3, 'sqlite'],
  ] as const) {
    it(`keyed: read-only rules in processElement, applyToKeyedState on every key; with connected and joined streams beside it (parallelism ${p}, ${backend})`, {
      timeout: 60_000,
    }, async () => {
      const got = await twoInputJob(itemSource(env(p, backend), ITEMS)).executeAndCollect();
      const expected = twoInputModel(ITEMS);
      // Halving rules did change totals (applyToKeyedState ran), and rules took effect.
      expect(expected.filter((s) => s.startsWith('E|')).length).toBeGreaterThan(150);
      expect(got.sort()).toEqual(expected);
    });
  }

  it('a write to broadcast state in processElement fails the job with STATE_READ_ONLY', async () => {
    const e = env(2);
    const { rules, events } = split(e, ITEMS.slice(0, 20));
    const job = events
      .connect(rules.broadcast(RULES))
      .process({
        async processElement(ev: Ev, ctx: ReadOnlyBroadcastContext) {
          await (ctx.getBroadcastState(RULES) as unknown as BroadcastState<string, number>).put(ev.rule, 0);
        },
        processBroadcastElement() {},
      })
      .executeAndCollect();
    await expect(job).rejects.toSatisfy(
      (err: unknown) =>
        err instanceof EddyError && err.code === 'STATE_READ_ONLY' && /read-only in processElement/.test(err.message) && /"rules"/.test(err.message),
    );
  });

  it('a descriptor not given to broadcast(...) is refused', async () => {
    const e = env(1);
    const { rules, events } = split(e, ITEMS.slice(0, 20));
    const other = new MapStateDescriptor<string, number>('other');
    const job = events
      .connect(rules.broadcast(RULES))
      .process({
        processElement() {},
        async processBroadcastElement(r: Rule, ctx: BroadcastContext) {
          await ctx.getBroadcastState(other).put(r.name, 1);
        },
      })
      .executeAndCollect();
    await expect(job).rejects.toSatisfy(
      (err: unknown) => err instanceof EddyError && err.code === 'INVALID_ARGUMENT' && /"other" does not exist/.test(err.message),
    );
  });

  it('broadcast() without descriptors sends every record to every instance of the next operator', async () => {
    const e = env(3);
    const got = await e
      .fromElements(1, 2, 3)
      .setParallelism(1)
      .broadcast()
      .map((v: number) => v)
      .executeAndCollect();
    expect(got.sort()).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3]);
  });
});
