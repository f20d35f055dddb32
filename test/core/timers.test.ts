import { describe, expect, it } from 'vitest';
import { KeyGroupRange } from '../../src/format/key-groups.ts';
import { InternalTimerService } from '../../src/engine/timers.ts';
import { prng } from '../helpers/prng.ts';

/** A pending timer of the reference model: fires by timestamp, then registration order. */
interface Pending {
  key: string;
  namespace?: string;
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

  it('matches the model with many keys of one timer each, namespaces and state queries (fired timers left in the index, compaction)', () => {
    const random = prng(11);
    const service = new InternalTimerService(KeyGroupRange.of(0, 127));
    let model: Array<Pending & { namespace: string; group: number }> = [];
    let seq = 0;
    let time = 0;
    // 3,000 keys in 4 key groups: most keys have at most one timer, so fired timers pile up
    // in an index beyond the compaction threshold while others are pending; rarely two.
    const pick = () => Math.floor(random() * 3000);
    const namespaces = ['', '', '', 'w1', 'w2'];
    const sameTimer = (a: Pending & { namespace: string }, k: string, t: number, ns: string) => a.key === k && a.timestamp === t && a.namespace === ns;
    for (let step = 0; step < 30_000; step++) {
      const op = random();
      const n = pick();
      const k = `k${n}`;
      const group = n & 3;
      const ns = namespaces[Math.floor(random() * namespaces.length)];
      // Mostly one timestamp per key (its own), sometimes the next one: keys with two timers exist.
      const t = time + (n % 50) + (random() < 0.05 ? 1 : 0);
      if (op < 0.6) {
        const added = service.register('EVENT_TIME', k, group, t, ns);
        const duplicate = model.some((p) => sameTimer(p, k, t, ns));
        expect(added).toBe(!duplicate);
        if (!duplicate) model.push({ key: k, namespace: ns, group, timestamp: t, seq: seq++ });
      } else if (op < 0.7) {
        service.delete('EVENT_TIME', k, group, t, ns);
        model = model.filter((p) => !sameTimer(p, k, t, ns));
      } else if (op < 0.75) {
        const mine = model.filter((p) => p.key === k);
        expect(service.timersOf(k, group).eventTime).toEqual(mine.map((p) => p.timestamp).sort((a, b) => a - b));
        expect(service.namespacesOf(k).sort()).toEqual([...new Set(mine.map((p) => p.namespace).filter((x) => x !== ''))].sort());
      } else if (op < 0.77) {
        time += Math.floor(random() * 30);
        model.sort((a, b) => a.timestamp - b.timestamp || a.seq - b.seq);
        const due = model.filter((p) => p.timestamp <= time);
        model = model.filter((p) => p.timestamp > time);
        const fired: Array<[string, string, number]> = [];
        for (let timer; (timer = service.pollDue('EVENT_TIME', time)) !== undefined; ) fired.push([timer.key as string, timer.namespace, timer.timestamp]);
        expect(fired).toEqual(due.map((p) => [p.key, p.namespace, p.timestamp]));
      }
      expect(service.size('EVENT_TIME')).toBe(model.length);
    }
  });
});
