/**
 * TTL in a running job: state stays bounded under a stream of distinct keys.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/api/clock.ts';
import { StreamExecutionEnvironment } from '../../../src/datastream/environment.ts';
import { KeyedProcessFunction, type Collector, type KeyedProcessContext, type RuntimeContext } from '../../../src/api/functions.ts';
import type { ValueState } from '../../../src/api/state.ts';
import { ValueStateDescriptor } from '../../../src/api/descriptors.ts';
import type { StateTtlConfig } from '../../../src/api/ttl.ts';
import type { KeyedStateBackend, StateBackend } from '../../../src/state/backend.ts';
import { collect } from '../harness.ts';
import { builder, bare, NO_CURSOR, type TtlSuite } from './kinds.ts';

/** Declares the cases of this behaviour; see `runTtlSuite`. */
export function jobCases(suite: TtlSuite): void {
  const { open } = suite;
  describe('in a job (StreamExecutionEnvironment with a ManualClock)', () => {
    /**
     * Runs `count` records with distinct keys `k0, k1, …` through a keyed function that
     * advances the clock by 1 ms per record and writes a TTL'd value for the records
     * `touches` selects; returns the number of keys with state, sampled every 250 records.
     */
    async function distinctKeysJob(ttl: StateTtlConfig, count: number, touches: (i: number) => boolean): Promise<number[]> {
      const clock = new ManualClock(0);
      let kb: KeyedStateBackend | undefined;
      const spy: StateBackend = {
        name: suite.backend.name,
        createKeyedStateBackend: async (o) => (kb = await suite.backend.createKeyedStateBackend({ ...o, jobId: `${suite.jobId}-${o.jobId}` })),
      };
      const liveKeys = async () => {
        if (kb!.nativeTtlCleanup) await kb!.flush?.();
        return (await collect(kb!.keys('last-seen', ''))).length;
      };
      class LastSeen extends KeyedProcessFunction<string, number, number> {
        seen!: ValueState<number>;
        override open(ctx: RuntimeContext) {
          this.seen = ctx.getState(new ValueStateDescriptor<number>('last-seen').enableTimeToLive(ttl));
        }
        async processElement(i: number, _ctx: KeyedProcessContext<string>, out: Collector<number>) {
          clock.advance(1);
          if (touches(i)) {
            await this.seen.value();
            await this.seen.update(i);
          }
          if ((i + 1) % 250 === 0) out.collect(await liveKeys());
        }
      }
      return StreamExecutionEnvironment.getExecutionEnvironment()
        .setParallelism(1)
        .setClock(clock)
        .setStateBackend(spy)
        .fromGenerator((i) => i, { count })
        .keyBy((i) => `k${i}`)
        .process(new LastSeen())
        .executeAndCollect(`ttl-distinct-keys-${suite.testSeq}`);
    }

    it('state with TTL stays bounded under a stream of distinct keys with the default background cleanup; without cleanup it grows with every key', async () => {
      const bounded = await distinctKeysJob(builder().build(), 10_000, () => true);
      expect(bounded).toHaveLength(40);
      // TTL 100 ms at 1 record/ms: ~100 live keys, plus what the cursor has not reached yet.
      expect(Math.max(...bounded)).toBeLessThanOrEqual(250);
      const unbounded = await distinctKeysJob(bare(), 10_000, () => true);
      expect(unbounded.at(-1)).toBe(10_000);
    });

    it('runCleanupForEveryRecord cleans up while records stream by without touching the state', async ({ skip }) => {
      const touchFirst = (i: number) => i < 1000;
      const perRecord = await distinctKeysJob(bare(builder().cleanupIncrementally(5, true)), 6000, touchFirst);
      const perAccess = await distinctKeysJob(bare(builder().cleanupIncrementally(5, false)), 6000, touchFirst);
      const probe = await open(new ManualClock(0));
      skip(probe.kb.pruneEntries === undefined, NO_CURSOR);
      // Per access only: the keys still live when the state was last touched stay forever.
      expect(perAccess.at(-1)).toBeGreaterThanOrEqual(90);
      expect(perRecord.at(-1)).toBe(0);
    });
  });
}
