import { describe, expect, it } from 'vitest';
import { ManualClock, SystemClock } from '../../src/index.ts';
import { RECORDS_PER_SYSTEM_CLOCK_READ, RecordTime } from '../../src/state/ttl-states.ts';

/** The system clock, counting its readings and answering a new time for each. */
class CountingSystemClock extends SystemClock {
  reads = 0;
  override now(): number {
    return 1_000 * ++this.reads;
  }
}

/** Runs `n` records, each reading the time twice (a read-modify-write); the times seen. */
function records(time: RecordTime, n: number): number[] {
  const seen: number[] = [];
  for (let i = 0; i < n; i++) {
    time.nextRecord();
    const read = time.now();
    expect(time.now()).toBe(read);
    seen.push(read);
  }
  return seen;
}

describe('RecordTime: the processing time TTL runs on', () => {
  it('shares one system clock reading among consecutive records, and no more than the limit', () => {
    const clock = new CountingSystemClock();
    const time = new RecordTime(clock);
    const seen = records(time, 2 * RECORDS_PER_SYSTEM_CLOCK_READ + 1);
    expect(clock.reads).toBe(3);
    expect(new Set(seen.slice(0, RECORDS_PER_SYSTEM_CLOCK_READ))).toEqual(new Set([1_000]));
    expect(seen[RECORDS_PER_SYSTEM_CLOCK_READ]).toBe(2_000);
    expect(seen[2 * RECORDS_PER_SYSTEM_CLOCK_READ]).toBe(3_000);
  });

  it('reads the system clock anew once the event loop has turned (a record that waited for I/O or a timer)', async () => {
    const clock = new CountingSystemClock();
    const time = new RecordTime(clock);
    expect(records(time, 2)).toEqual([1_000, 1_000]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(records(time, 2)).toEqual([2_000, 2_000]);
  });

  it('reads any other clock once per record, and an observable clock on every access', () => {
    let t = 0;
    const custom = new RecordTime({ now: () => ++t });
    expect(records(custom, 3)).toEqual([1, 2, 3]);

    const manual = new ManualClock(10);
    const perAccess = new RecordTime(manual);
    perAccess.nextRecord();
    expect(perAccess.now()).toBe(10);
    manual.advance(5);
    expect(perAccess.now()).toBe(15);
  });

  it('reads the clock on every access until records flow (a store used directly)', () => {
    const clock = new CountingSystemClock();
    const time = new RecordTime(clock);
    expect([time.now(), time.now()]).toEqual([1_000, 2_000]);
  });
});
