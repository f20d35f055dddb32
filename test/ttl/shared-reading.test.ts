/**
 * With the system clock, records share one clock reading (RecordTime), and a TTL state's
 * access that found the incremental cleanup idle lets the later accesses of the same reading
 * skip it (TtlContext.access). These cases pin what that must never change: a new reading
 * (after the event loop turned, or after a share of records) is looked at afresh, and while
 * the cleanup is not idle every access still checks `cleanupSize` entries.
 */
import { describe, expect, it } from 'vitest';
import { HashMapStateBackend } from '../../src/backends/memory.ts';
import { SystemClock } from '../../src/api/clock.ts';
import { ValueStateDescriptor } from '../../src/api/descriptors.ts';
import { StateTtlConfig } from '../../src/api/ttl.ts';
import { keyGroupForKey } from '../../src/format/key-groups.ts';
import { VOID_NAMESPACE } from '../../src/state/backend.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import { RECORDS_PER_SYSTEM_CLOCK_READ } from '../../src/state/ttl-states.ts';
import { keyedOptions } from '../helpers/keyed-options.ts';

const MAX_P = 128;

/** The system clock (so readings are shared among records), standing at `time` until moved. */
class SettableSystemClock extends SystemClock {
  time = 1_000;
  override now(): number {
    return this.time;
  }
}

async function open(ttl: StateTtlConfig) {
  const clock = new SettableSystemClock();
  const kb = await new HashMapStateBackend().createKeyedStateBackend(keyedOptions('ttl-shared-reading', { maxParallelism: MAX_P }));
  const store = new KeyedStateStore(kb, 'Op (1/1)', clock);
  const state = store.getSyncState(new ValueStateDescriptor<number>('c').enableTimeToLive(ttl));
  /** Starts a record of key `k`, as the operator does (key, then the TTL hook). */
  const record = (k: string): void => {
    kb.setCurrentKey(k, keyGroupForKey(k, MAX_P));
    store.onRecord();
  };
  const count = async (): Promise<number> => {
    let n = 0;
    for await (const _ of kb.keys('c', VOID_NAMESPACE)) n++;
    return n;
  };
  return { clock, kb, state, record, count };
}

/** Lets the event loop turn: the clock reading shared by the records so far ends. */
const turn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));

describe('TTL accesses sharing a system clock reading', () => {
  it('once a new reading is past the expiry, incremental cleanup checks cleanupSize entries on every access again', async () => {
    const t = await open(StateTtlConfig.newBuilder(100).returnExpiredIfNotCleanedUp().cleanupIncrementally(10, false).build());
    for (let i = 0; i < 100; i++) {
      t.record(`old-${i}`);
      t.state.update(i);
    }
    // The first access walked the (then empty) state: the cleanup is idle until 1,100.
    t.clock.time = 5_000;
    await turn();
    t.record('live');
    t.state.update(1);
    expect(await t.count(), 'one access, ten entries checked').toBe(91);
    // Eleven more accesses within the same reading, each checking ten entries.
    for (let i = 0; i < 11; i++) {
      t.record('live');
      expect(t.state.value()).toBe(1);
    }
    expect(await t.count()).toBe(1);
    t.record('old-3');
    expect(t.state.value(), 'cleaned up, so no longer returned').toBeUndefined();
  });

  it('a new reading after a share of records is looked at afresh, without the event loop turning', async () => {
    const t = await open(StateTtlConfig.newBuilder(100).cleanupIncrementally(5, false).build());
    for (let i = 0; i < 20; i++) {
      t.record(`old-${i}`);
      t.state.update(i);
    }
    t.clock.time = 5_000;
    // The records of the current share still see 1,000: nothing has expired for them.
    let records = 20;
    for (; records % RECORDS_PER_SYSTEM_CLOCK_READ !== 0; records++) {
      t.record('old-0');
      expect(t.state.value(), `record ${records + 1} shares the reading of 1,000`).toBe(0);
    }
    expect(await t.count()).toBe(20);
    // The next record reads the clock: its access is no longer idle, expired values are gone.
    t.record('old-1');
    expect(t.state.value(), 'expired at 5,000').toBeUndefined();
    expect(await t.count(), 'the read removed its own pair, and the access checked five entries').toBeLessThanOrEqual(15);
  });
});
