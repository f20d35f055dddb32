import { describe, expect, it } from 'vitest';
import { keyGroupForKey, keyGroupRangeForSubtask } from '../../src/format/key-groups.ts';
import { InternalTimerService } from '../../src/engine/timers.ts';
import { foldTimerChain, type TimerDelta } from '../../src/engine/timer-snapshots.ts';
import { SnapshotError } from '../../src/api/errors.ts';

const MAX = 128;
const range = keyGroupRangeForSubtask(MAX, 1, 0);
const kg = (k: string) => keyGroupForKey(k, MAX);

type Part = { timers?: ReadonlyMap<number, Uint8Array>; timerDelta?: TimerDelta };

/** Every pending timer of `snapshot`, in firing order, restored into a service owning `r`. */
function fired(snapshot: ReadonlyMap<number, Uint8Array>, r = range): string[] {
  const restored = new InternalTimerService(r);
  restored.restore(snapshot);
  const out: string[] = [];
  for (const domain of ['EVENT_TIME', 'PROCESSING_TIME'] as const) {
    let t;
    while ((t = restored.pollDue(domain, Number.MAX_SAFE_INTEGER)) !== undefined) out.push(`${domain[0]}:${t.namespace}:${String(t.key)}@${t.timestamp}`);
  }
  return out;
}

function sorted(m: ReadonlyMap<number, Uint8Array>): Array<[number, number[]]> {
  return [...m].sort((a, b) => a[0] - b[0]).map(([g, b]) => [g, Array.from(b)]);
}

/** Seeded xorshift, so a failure replays. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/**
 * Drives a timer service the way checkpoints do: each checkpoint is captured incrementally;
 * a delta's chain is its base's chain plus itself (the coordinator's rule), a full one starts
 * a new chain. Returns, per checkpoint, the folded chain and the full encoding of the same capture.
 */
async function checkpoint(timers: InternalTimerService, id: number, chains: Map<number, Part[]>) {
  const captured = timers.capture(id, true);
  const full = await captured.full();
  let chain: Part[];
  if (captured.baseCheckpointId === undefined) chain = [{ timers: full }];
  else {
    const delta = await captured.delta();
    expect(delta.baseCheckpointId).toBe(captured.baseCheckpointId);
    chain = [...chains.get(delta.baseCheckpointId)!, { timerDelta: delta }];
  }
  chains.set(id, chain);
  return { full, folded: foldTimerChain(chain)!, chain, delta: captured.baseCheckpointId !== undefined };
}

describe('timer deltas in incremental checkpoints', () => {
  it('a chain of deltas with adds, deletes, fires and re-registrations folds to exactly the full snapshot', async () => {
    const timers = new InternalTimerService(range);
    const chains = new Map<number, Part[]>();
    for (let i = 0; i < 200; i++) timers.register('EVENT_TIME', `k${i}`, kg(`k${i}`), 1000 + (i % 7));
    timers.register('PROCESSING_TIME', 'p', kg('p'), 50);
    timers.register('EVENT_TIME', 'w', kg('w'), 70, 'window-1');
    const c1 = await checkpoint(timers, 1, chains);
    expect(c1.delta).toBe(false);
    timers.notifyCheckpointComplete(1);

    timers.register('EVENT_TIME', 'new', kg('new'), 1003); // added
    timers.delete('EVENT_TIME', 'k5', kg('k5'), 1005); // deleted
    timers.delete('EVENT_TIME', 'k6', kg('k6'), 1006);
    timers.register('EVENT_TIME', 'k6', kg('k6'), 1006); // deleted and registered again: moves behind its equals
    timers.register('EVENT_TIME', 'k7', kg('k7'), 1000); // a second timer for a key
    timers.register('EVENT_TIME', 'gone', kg('gone'), 1); // added and fired between checkpoints: nowhere
    expect(timers.pollDue('EVENT_TIME', 1)?.key).toBe('gone');
    expect(timers.pollDue('PROCESSING_TIME', 60)?.key).toBe('p'); // fired
    timers.delete('EVENT_TIME', 'w', kg('w'), 70, 'window-1');
    timers.register('EVENT_TIME', 'w', kg('w'), 71, 'window-1');
    const c2 = await checkpoint(timers, 2, chains);
    expect(c2.delta).toBe(true);
    expect(sorted(c2.folded)).toEqual(sorted(c2.full));
    expect(fired(c2.folded)).toEqual(fired(c2.full));
    // The delta is small: the groups it touches, not all of them.
    const deltaBytes = [...c2.chain[1].timerDelta!.groups.values()].reduce((n, b) => n + b.length, 0);
    const fullBytes = [...c2.full.values()].reduce((n, b) => n + b.length, 0);
    expect(deltaBytes).toBeLessThan(fullBytes / 10);

    // Checkpoint 3 never completes: checkpoint 4 still builds on 2, and carries 3's changes.
    timers.notifyCheckpointComplete(2);
    timers.delete('EVENT_TIME', 'k1', kg('k1'), 1001);
    await checkpoint(timers, 3, chains);
    timers.register('EVENT_TIME', 'k1', kg('k1'), 2000);
    expect(timers.pollDue('EVENT_TIME', 1000)?.key).toBe('w'); // a namespaced timer fired after a delta re-added it
    const c4 = await checkpoint(timers, 4, chains);
    expect(c4.chain).toHaveLength(3);
    expect(c4.chain[2].timerDelta!.baseCheckpointId).toBe(2);
    expect(sorted(c4.folded)).toEqual(sorted(c4.full));
    expect(fired(c4.folded)).toEqual(fired(c4.full));
  });

  it('random workloads over many checkpoints: every fold equals the full snapshot of the same moment', async () => {
    for (const seed of [1, 2, 3]) {
      const random = rng(seed);
      const timers = new InternalTimerService(range);
      const chains = new Map<number, Part[]>();
      let deltas = 0;
      for (let id = 1; id <= 12; id++) {
        for (let op = 0; op < 300; op++) {
          const key = `k${Math.floor(random() * 80)}`;
          const ts = Math.floor(random() * 20);
          const domain = random() < 0.8 ? 'EVENT_TIME' : 'PROCESSING_TIME';
          const ns = random() < 0.2 ? 'ns' : '';
          const r = random();
          if (r < 0.55) timers.register(domain, key, kg(key), ts, ns);
          else if (r < 0.9) timers.delete(domain, key, kg(key), ts, ns);
          else timers.pollDue(domain, Math.floor(random() * 3));
        }
        const c = await checkpoint(timers, id, chains);
        if (c.delta) deltas++;
        expect(sorted(c.folded), `seed ${seed}, checkpoint ${id}`).toEqual(sorted(c.full));
        if (random() < 0.7) timers.notifyCheckpointComplete(id);
      }
      expect(deltas).toBeGreaterThan(5);
    }
  });

  it('a folded chain restores at another parallelism: the subtasks together hold exactly the timers', async () => {
    const timers = new InternalTimerService(range);
    const chains = new Map<number, Part[]>();
    for (let i = 0; i < 500; i++) timers.register('EVENT_TIME', `k${i}`, kg(`k${i}`), i);
    await checkpoint(timers, 1, chains);
    timers.notifyCheckpointComplete(1);
    for (let i = 0; i < 500; i += 3) timers.delete('EVENT_TIME', `k${i}`, kg(`k${i}`), i);
    for (let i = 500; i < 600; i++) timers.register('EVENT_TIME', `k${i}`, kg(`k${i}`), i);
    const c2 = await checkpoint(timers, 2, chains);
    const halves = [0, 1].flatMap((s) => fired(c2.folded, keyGroupRangeForSubtask(MAX, 2, s)));
    expect(halves.sort()).toEqual(fired(c2.full).sort());
    expect(halves).toHaveLength(500 - 167 + 100);
  });

  it('changes stop being tracked until an incremental capture asks, and snapshots without a completed base stay full', async () => {
    const timers = new InternalTimerService(range);
    timers.register('EVENT_TIME', 'a', kg('a'), 1);
    expect(timers.capture(1, false).baseCheckpointId).toBeUndefined();
    timers.notifyCheckpointComplete(1); // not an incremental capture: no base
    expect(timers.capture(2, true).baseCheckpointId).toBeUndefined();
    timers.notifyCheckpointComplete(2);
    expect(timers.capture(3, true).baseCheckpointId).toBe(2);
  });

  it('a delta without a full snapshot before it is a corrupt chain', () => {
    const delta: TimerDelta = { baseCheckpointId: 7, groups: new Map() };
    expect(() => foldTimerChain([{ timerDelta: delta }])).toThrow(SnapshotError);
    expect(() => foldTimerChain([{ timerDelta: delta }])).toThrow(/checkpoint 7/);
  });
});
