/**
 * On the heap backend, SQLite's value cache and the Durable Object backend a TTL value state
 * renews its stored `[value, timestamp]` pair in place in a read-modify-write
 * (`ValueTable.ownedReads`) rather than allocating a pair per write; on the heap a renewed
 * pair around a primitive is not stored again, only marked as written (`ValueTable.rewritten`).
 * These cases pin what that must never break: a snapshot still encoding keeps what it
 * captured, deltas carry the renewed value, a pair is never shared between keys, namespaces
 * or records, and a write is never lost or aliased. Run in Node by `in-place.test.ts` and in
 * workerd by `test/cloudflare/ttl.test.ts` (through the portable runner: only `describe`,
 * `it` and `expect`).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/api/clock.ts';
import { ValueStateDescriptor } from '../../src/api/descriptors.ts';
import { StateTtlConfig } from '../../src/api/ttl.ts';
import { keyGroupForKey } from '../../src/format/key-groups.ts';
import type { KeyedStateBackend, StateBackend } from '../../src/state/backend.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import type { InternalKvState } from '../../src/state/keyed-states.ts';
import { entriesOf } from '../conformance/ttl/kinds.ts';
import { keyedOptions } from '../helpers/keyed-options.ts';

const MAX_P = 128;
const TTL = StateTtlConfig.newBuilder(100).disableCleanupInBackground().build();

/** What the suite adapts to, and says so in its case names. */
export interface InPlaceCapabilities {
  /**
   * The backend takes incremental snapshots: the checkpoint cases check deltas. Without, they
   * check full snapshots (the Durable Object backend), and restore from the last one alone.
   */
  readonly incremental: boolean;
  /**
   * The largest value (a string's length) a write may store, if the backend refuses larger
   * ones (the Durable Object backend's row limit): a refused write of a read-modify-write must
   * then leave the stored value as it was.
   */
  readonly valueLimit?: number;
}

let seq = 0;

async function keyed(backend: StateBackend): Promise<KeyedStateBackend> {
  return await backend.createKeyedStateBackend(keyedOptions('ttl-in-place', { operatorId: `op-${++seq}`, maxParallelism: MAX_P }));
}

/** Declares the in-place cases for one backend; `makeBackend` is called by every case. */
export function runTtlInPlaceSuite(name: string, makeBackend: () => StateBackend | Promise<StateBackend>, caps: InPlaceCapabilities): void {
  /** What a checkpoint is here: a delta where the backend takes them, else a full snapshot. */
  const kindOfCheckpoint = caps.incremental ? 'incremental checkpoint' : 'checkpoint (a full snapshot: the backend takes no deltas)';
  const expectKind = (s: { incremental?: unknown }) =>
    caps.incremental ? expect(s.incremental, 'a delta, not a full snapshot').toBeDefined() : expect(s.incremental, 'a full snapshot').toBeUndefined();
  describe(`TTL pairs renewed in place (${name})`, () => {
    async function open(clock: ManualClock, ttl: StateTtlConfig = TTL) {
      const kb = await keyed(await makeBackend());
      const store = new KeyedStateStore(kb, 'Op (1/1)', clock);
      const count = store.getSyncState(new ValueStateDescriptor<number>('count').enableTimeToLive(ttl));
      /** Starts a record of key `k`, as the operator does (key, then the TTL hook). */
      const record = (k: string): void => {
        kb.setCurrentKey(k, keyGroupForKey(k, MAX_P));
        store.onRecord();
      };
      const increment = (): void => count.update((count.value() ?? 0) + 1);
      return { kb, store, count, record, increment };
    }

    it('a full snapshot still encoding keeps the values and timestamps it captured while records renew them', async () => {
      const clock = new ManualClock(0);
      const t = await open(clock);
      for (const k of ['a', 'b']) {
        t.record(k);
        t.increment();
      }
      clock.set(10);
      const snapshot = t.kb.snapshot();
      // The encoding waits a turn: these read-modify-writes run while it still reads the maps.
      for (let i = 0; i < 3; i++) {
        for (const k of ['a', 'b']) {
          t.record(k);
          t.increment();
        }
      }
      expect(Object.fromEntries(entriesOf(await snapshot))).toEqual({ 'count/a': [1, 0], 'count/b': [1, 0] });
      t.record('a');
      expect(t.count.value(), 'the working state has every increment').toBe(4);
    });

    it('a read renewing the timestamp (OnReadAndWrite) while a snapshot encodes leaves the captured timestamp alone', async () => {
      const clock = new ManualClock(0);
      const t = await open(clock, StateTtlConfig.newBuilder(100).updateTtlOnReadAndWrite().disableCleanupInBackground().build());
      t.record('a');
      t.count.update(7);
      clock.set(40);
      const snapshot = t.kb.snapshot();
      t.record('a');
      expect(t.count.value()).toBe(7);
      expect(Object.fromEntries(entriesOf(await snapshot))).toEqual({ 'count/a': [7, 0] });
      expect(Object.fromEntries(entriesOf(await t.kb.snapshot())), 'renewed by the read').toEqual({ 'count/a': [7, 40] });
    });

    it(`an ${kindOfCheckpoint} after read-modify-writes carries the renewed values and timestamps`, async () => {
      const clock = new ManualClock(0);
      const t = await open(clock);
      t.record('a');
      t.increment();
      const base = await t.kb.snapshot({ checkpointId: 1, incremental: true });
      t.kb.notifyCheckpointComplete?.(1);
      clock.set(30);
      t.record('a');
      t.increment();
      const delta = await t.kb.snapshot({ checkpointId: 2, incremental: true });
      expectKind(delta);
      expect(Object.fromEntries(entriesOf(delta))).toEqual({ 'count/a': [2, 30] });
      const r = await open(new ManualClock(120));
      await r.kb.restore(caps.incremental ? [base, delta] : [delta]);
      r.record('a');
      expect(r.count.value(), 'renewed at 30, so alive at 120 with a 100 ms TTL').toBe(2);
    });

    it('a write of another key in the same record (applyToKeyedState) gets a pair of its own', async () => {
      const clock = new ManualClock(0);
      const t = await open(clock);
      t.record('a');
      t.increment();
      t.record('a');
      const a = t.count.value()!;
      // Still the same record: the key changes without a new record, as when a broadcast element visits every key.
      t.kb.setCurrentKey('b', keyGroupForKey('b', MAX_P));
      t.count.update(a + 10);
      t.record('a');
      expect(t.count.value(), "a's value did not change with b's").toBe(1);
      t.count.update(100);
      t.record('b');
      expect(t.count.value(), "b's value did not change with a's").toBe(11);
      expect(Object.fromEntries(entriesOf(await t.kb.snapshot()))).toEqual({ 'count/a': [100, 0], 'count/b': [11, 0] });
    });

    it('a write to another namespace in the same record gets a pair of its own', async () => {
      const clock = new ManualClock(0);
      const t = await open(clock);
      const ns = t.count as unknown as InternalKvState;
      t.record('a');
      t.increment();
      t.record('a');
      const v = t.count.value()!;
      ns.setCurrentNamespace('w1');
      t.count.update(v + 1);
      ns.setCurrentNamespace('');
      expect(t.count.value(), "the void namespace's value did not change with the window's").toBe(1);
      t.count.update(50);
      ns.setCurrentNamespace('w1');
      expect(t.count.value(), "the window's value did not change with the void namespace's").toBe(2);
    });

    it('a write in a later record after a read gets a fresh pair when the read one was captured by a snapshot in between', async () => {
      const clock = new ManualClock(0);
      const t = await open(clock);
      t.record('a');
      t.increment();
      t.record('a');
      const v = t.count.value()!;
      // A snapshot between the read and the write, which only a new record allows.
      const snapshot = t.kb.snapshot();
      t.record('a');
      t.count.update(v + 41);
      expect(Object.fromEntries(entriesOf(await snapshot))).toEqual({ 'count/a': [1, 0] });
      expect(t.count.value()).toBe(42);
    });

    it("a write after its read expired the pair within the record (a clock moving inside it) stores the value although the write's cleanup removed the pair", async () => {
      const clock = new ManualClock(0);
      // Flink's default background cleanup: 5 entries checked on every access.
      const t = await open(clock, StateTtlConfig.newBuilder(100).build());
      t.record('a');
      t.increment();
      clock.set(50);
      t.record('a');
      const v = t.count.value()!;
      // Expires the pair read above: the write's own cleanup step removes it from the map.
      clock.set(150);
      t.count.update(v + 1);
      t.record('a');
      expect(t.count.value(), 'the write is stored, renewed at 150').toBe(2);
      expect(Object.fromEntries(entriesOf(await t.kb.snapshot()))).toEqual({ 'count/a': [2, 150] });
    });

    it("an object value written in a read-modify-write is the state's own copy: changing it afterwards changes nothing stored", async () => {
      const clock = new ManualClock(0);
      const kb = await keyed(await makeBackend());
      const store = new KeyedStateStore(kb, 'Op (1/1)', clock);
      const box = store.getSyncState(new ValueStateDescriptor<{ n: number }>('box').enableTimeToLive(TTL));
      kb.setCurrentKey('a', keyGroupForKey('a', MAX_P));
      store.onRecord();
      box.update({ n: 1 });
      store.onRecord();
      const written = { n: box.value()!.n + 1 };
      box.update(written);
      written.n = 99;
      store.onRecord();
      expect(box.value()).toEqual({ n: 2 });
    });

    it(`a read renewing the timestamp (OnReadAndWrite) reaches the next ${kindOfCheckpoint}`, async () => {
      const clock = new ManualClock(0);
      const t = await open(clock, StateTtlConfig.newBuilder(100).updateTtlOnReadAndWrite().disableCleanupInBackground().build());
      t.record('a');
      t.count.update(7);
      await t.kb.snapshot({ checkpointId: 1, incremental: true });
      t.kb.notifyCheckpointComplete?.(1);
      clock.set(60);
      t.record('a');
      expect(t.count.value()).toBe(7);
      const delta = await t.kb.snapshot({ checkpointId: 2, incremental: true });
      expectKind(delta);
      expect(Object.fromEntries(entriesOf(delta)), 'the read renewed the timestamp').toEqual({ 'count/a': [7, 60] });
    });

    it(`a ${caps.incremental ? 'delta' : 'checkpoint'} still encoding keeps the pair it captured while a later record renews it in place`, async () => {
      const clock = new ManualClock(0);
      const t = await open(clock);
      t.record('a');
      t.increment();
      await t.kb.snapshot({ checkpointId: 1, incremental: true });
      t.kb.notifyCheckpointComplete?.(1);
      clock.set(10);
      t.record('a');
      t.increment();
      const delta = t.kb.snapshot({ checkpointId: 2, incremental: true });
      clock.set(20);
      t.record('a');
      t.increment();
      expect(Object.fromEntries(entriesOf(await delta))).toEqual({ 'count/a': [2, 10] });
      t.record('a');
      expect(t.count.value()).toBe(3);
      t.kb.notifyCheckpointComplete?.(2);
      expect(Object.fromEntries(entriesOf(await t.kb.snapshot({ checkpointId: 3, incremental: true }))), 'the next delta has the renewed pair').toEqual({
        'count/a': [3, 20],
      });
    });

    // Declared only where a write can be refused for its size (the Durable Object backend's
    // row limit): on a backend without a limit the case has nothing to refuse. Not a skip —
    // the workerd runner expects none — but a case that does not apply.
    const limit = caps.valueLimit;
    if (limit !== undefined)
      it('a read-modify-write whose write is refused (over the row limit) leaves the stored pair and every later read as they were', async () => {
        const clock = new ManualClock(0);
        const kb = await keyed(await makeBackend());
        const store = new KeyedStateStore(kb, 'Op (1/1)', clock);
        const text = store.getSyncState(new ValueStateDescriptor<string>('text').enableTimeToLive(TTL));
        kb.setCurrentKey('a', keyGroupForKey('a', MAX_P));
        store.onRecord();
        text.update('small');
        clock.set(10);
        store.onRecord();
        // The read hands out the stored pair; the write changes it in place before the backend refuses it.
        const read = text.value()!;
        let code: unknown;
        try {
          text.update(read + 'x'.repeat(limit));
        } catch (e) {
          code = (e as { code?: unknown }).code;
        }
        expect(code, 'the write is refused').toBe('VALUE_TOO_LARGE');
        expect(text.value(), 'the same record reads what is stored').toBe('small');
        store.onRecord();
        expect(text.value(), 'a later record too').toBe('small');
        expect(Object.fromEntries(entriesOf(await kb.snapshot())), 'and the snapshot').toEqual({ 'text/a': ['small', 0] });
      });
  });
}
