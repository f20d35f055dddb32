import { describe, expect, it } from 'vitest';
import { KeyGroupRange } from '../../src/format/key-groups.ts';
import { InternalTimerService } from '../../src/engine/timers.ts';
import { prng } from '../helpers/prng.ts';

/** A pending timer of the reference model: fires by timestamp, then registration order. */
interface Pending {
  key: string;
  timestamp: number;
  seq: number;
}

describe('InternalTimerService against a sorted-list model', () => {
  it('registers, deduplicates, deletes and polls exactly like the model over random operations', () => {
    const random = prng(7);
    const service = new InternalTimerService(KeyGroupRange.of(0, 127));
    let model: Pending[] = [];
    let seq = 0;
    let time = 0;
    // Few keys and few distinct timestamps: keys with several timers, duplicates and re-registrations are common.
    const key = () => `k${Math.floor(random() * 40)}`;
    const timestamp = () => time + Math.floor(random() * 30);
    for (let step = 0; step < 20_000; step++) {
      const op = random();
      if (op < 0.55) {
        const k = key();
        const t = timestamp();
        const added = service.register('EVENT_TIME', k, 0, t);
        const duplicate = model.some((p) => p.key === k && p.timestamp === t);
        expect(added).toBe(!duplicate);
        if (!duplicate) model.push({ key: k, timestamp: t, seq: seq++ });
        else seq++;
      } else if (op < 0.8) {
        const k = key();
        const t = timestamp();
        service.delete('EVENT_TIME', k, 0, t);
        model = model.filter((p) => !(p.key === k && p.timestamp === t));
      } else {
        time += Math.floor(random() * 8);
        model.sort((a, b) => a.timestamp - b.timestamp || a.seq - b.seq);
        const due = model.filter((p) => p.timestamp <= time);
        model = model.filter((p) => p.timestamp > time);
        const fired: Array<[string, number]> = [];
        for (let timer; (timer = service.pollDue('EVENT_TIME', time)) !== undefined; ) fired.push([timer.key as string, timer.timestamp]);
        expect(fired).toEqual(due.map((p) => [p.key, p.timestamp]));
      }
      expect(service.size('EVENT_TIME')).toBe(model.length);
    }
  });

  it('fires 10,000 timers of one timestamp in registration order, and a key may register it again after it fired', () => {
    const service = new InternalTimerService(KeyGroupRange.of(0, 127));
    for (let i = 0; i < 10_000; i++) service.register('EVENT_TIME', `k${i}`, i & 127, 100);
    const order: string[] = [];
    for (let timer; (timer = service.pollDue('EVENT_TIME', 100)) !== undefined; ) order.push(timer.key as string);
    expect(order).toEqual(Array.from({ length: 10_000 }, (_, i) => `k${i}`));
    expect(service.register('EVENT_TIME', 'k5', 5, 100)).toBe(true);
    expect(service.register('EVENT_TIME', 'k5', 5, 100)).toBe(false);
  });
});
