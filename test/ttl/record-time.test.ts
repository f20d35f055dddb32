import { describe, expect, it } from 'vitest';
import { ManualClock, SystemClock } from '../../src/index.ts';
import { MAX_RECORDS_PER_SYSTEM_CLOCK_READ, RECORDS_PER_SYSTEM_CLOCK_READ, RecordTime } from '../../src/state/ttl-states.ts';

/** The system clock, counting its readings and answering a new time for each. */
class CountingSystemClock extends SystemClock {
  reads = 0;
  override now(): number {
    return 1_000 * ++this.reads;
  }
}

/** The system clock standing still (records far faster than its millisecond) until moved; counts its readings. */
class StillSystemClock extends SystemClock {
  reads = 0;
  time = 1_000;
  override now(): number {
    this.reads++;
    return this.time;
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

  it('shares a reading among more records while whole shares pass within one millisecond, up to the maximum', () => {
    const clock = new StillSystemClock();
    const time = new RecordTime(clock);
    // Shares of 32, 64, ... up to the maximum, then the maximum again.
    const shares: number[] = [];
    for (let share = RECORDS_PER_SYSTEM_CLOCK_READ; share <= MAX_RECORDS_PER_SYSTEM_CLOCK_READ; share *= 2) shares.push(share);
    shares.push(MAX_RECORDS_PER_SYSTEM_CLOCK_READ);
    for (const share of shares) {
      const before = clock.reads;
      records(time, share);
      expect(clock.reads - before, `one reading per share of ${share}`).toBe(1);
    }
    records(time, 1);
    expect(clock.reads, 'never more than the maximum per reading').toBe(shares.length + 1);
  });

  it('starts over at the first share size once the clock moved during a share', () => {
    const clock = new StillSystemClock();
    const time = new RecordTime(clock);
    records(time, RECORDS_PER_SYSTEM_CLOCK_READ + 2 * RECORDS_PER_SYSTEM_CLOCK_READ + 4 * RECORDS_PER_SYSTEM_CLOCK_READ);
    expect(clock.reads).toBe(3);
    clock.time += 1;
    // The reading that finds the clock moved starts over: the share it begins is 32 again, not 8 × 32.
    const afterMove = records(time, RECORDS_PER_SYSTEM_CLOCK_READ + 1);
    expect(clock.reads).toBe(5);
    expect(afterMove[0]).toBe(1_001);
  });

  it('does not grow the share from shares the event loop cut short (records slow enough to let it turn)', async () => {
    const clock = new StillSystemClock();
    const time = new RecordTime(clock);
    for (let i = 0; i < 8; i++) {
      records(time, 2);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const before = clock.reads;
    records(time, RECORDS_PER_SYSTEM_CLOCK_READ + 1);
    expect(clock.reads - before, 'a reading at the first record and again after one share of the first size').toBe(2);
  });
});
