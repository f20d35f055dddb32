import { describe, expect, it } from 'vitest';
import { keyGroupForKey, keyGroupRangeForSubtask } from '../../src/format/key-groups.ts';
import { InternalTimerService } from '../../src/engine/timers.ts';

const range = keyGroupRangeForSubtask(128, 1, 0);
const kg = (k: string) => keyGroupForKey(k, 128);

/** The (domain, key, timestamp) triples a timer snapshot holds, restored into a fresh service. */
function pendingIn(snapshot: ReadonlyMap<number, Uint8Array>): string[] {
  const restored = new InternalTimerService(range);
  restored.restore(snapshot);
  const out: string[] = [];
  for (const domain of ['EVENT_TIME', 'PROCESSING_TIME'] as const) {
    let t;
    while ((t = restored.pollDue(domain, Number.MAX_SAFE_INTEGER)) !== undefined) out.push(`${domain === 'EVENT_TIME' ? 'e' : 'p'}:${t.key}@${t.timestamp}`);
  }
  return out.sort();
}

describe('timer snapshots: captured inside the call, encoded afterwards', () => {
  it('holds exactly the timers pending at the call, whatever is registered, deleted or fired while it encodes', async () => {
    const timers = new InternalTimerService(range);
    timers.register('EVENT_TIME', 'a', kg('a'), 10);
    timers.register('EVENT_TIME', 'b', kg('b'), 20);
    timers.register('PROCESSING_TIME', 'c', kg('c'), 5);
    timers.register('EVENT_TIME', 'gone', kg('gone'), 1);
    timers.delete('EVENT_TIME', 'gone', kg('gone'), 1); // deleted before: not in the snapshot
    const pending = timers.snapshot();
    // After the call: none of this may reach the snapshot.
    timers.delete('EVENT_TIME', 'b', kg('b'), 20);
    expect(timers.pollDue('EVENT_TIME', 15)?.key).toBe('a');
    timers.register('EVENT_TIME', 'late', kg('late'), 30);
    timers.register('EVENT_TIME', 'b', kg('b'), 20); // re-registered after its delete
    timers.delete('PROCESSING_TIME', 'c', kg('c'), 5);
    expect(pendingIn(await pending)).toEqual(['e:a@10', 'e:b@20', 'p:c@5']);
    // The next snapshot sees the new situation.
    expect(pendingIn(await timers.snapshot())).toEqual(['e:b@20', 'e:late@30']);
  });

  it('two snapshots encoding at once each keep their own moment', async () => {
    const timers = new InternalTimerService(range);
    for (let i = 0; i < 1000; i++) timers.register('EVENT_TIME', `k${i}`, kg(`k${i}`), i);
    const first = timers.snapshot();
    for (let i = 0; i < 500; i++) timers.pollDue('EVENT_TIME', 10_000);
    const second = timers.snapshot();
    for (let i = 500; i < 1000; i++) timers.delete('EVENT_TIME', `k${i}`, kg(`k${i}`), i);
    expect(pendingIn(await first)).toHaveLength(1000);
    const rest = pendingIn(await second);
    expect(rest).toHaveLength(500);
    expect(rest).toContain('e:k500@500');
    expect(rest).not.toContain('e:k499@499');
    expect(timers.size('EVENT_TIME')).toBe(0);
  });
});
