/**
 * The engine keeps the most recently closed local job's runtime objects (so that V8 keeps
 * their hidden classes and the code compiled for them, see src/engine/warm-shapes.ts), but
 * nothing of its data: no record of a collection source, no key, no state value (the kept
 * operator holds its copy of the user function, whose state handle pointed at the state).
 */
import { getHeapSnapshot } from 'node:v8';
import { IDBKeyRange as FakeKeyRange, IDBFactory as FakeFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import {
  KeyedProcessFunction,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  type Collector,
  type KeyedProcessContext,
  type RuntimeContext,
  type SyncValueState,
} from '../../src/index.ts';
import { HashMapStateBackend } from '../../src/backends/memory.ts';
import { IndexedDbStateBackend } from '../../src/backends/indexeddb/index.ts';
import { StreamTask } from '../../src/engine/task.ts';
import { keyGroupForKey } from '../../src/format/key-groups.ts';
import type { StateBackend } from '../../src/state/backend.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import { keptShapes } from '../../src/engine/warm-shapes.ts';
import { keyedOptions } from '../helpers/keyed-options.ts';

class LastSeen extends KeyedProcessFunction<string, { k: string }, number> {
  last!: SyncValueState<string>;
  override open(ctx: RuntimeContext): void {
    this.last = ctx.getSyncState(new ValueStateDescriptor<string>('last'));
  }
  processElement(v: { k: string }, _ctx: KeyedProcessContext<string>, out: Collector<number>): void {
    this.last.update(v.k + '!');
    out.collect(1);
  }
}

async function runJob(prefix: string, fn: LastSeen): Promise<number> {
  // Built at run time, so that no string of the test's source holds the prefix.
  const records = Array.from({ length: 500 }, (_, i) => ({ k: `${prefix}-${i % 50}` }));
  const out = await StreamExecutionEnvironment.getExecutionEnvironment()
    .setParallelism(1)
    .fromCollection(records)
    .keyBy((r) => r.k)
    .process(fn)
    .executeAndCollect();
  return out.length;
}

/** The strings of every live object of the heap (a snapshot is taken after a full GC). */
async function liveStrings(): Promise<string[]> {
  const chunks: string[] = [];
  for await (const chunk of getHeapSnapshot()) chunks.push(String(chunk));
  return (JSON.parse(chunks.join('')) as { strings: string[] }).strings;
}

describe('warm shapes: the last closed job is kept without its data', () => {
  it('keeps the tasks of the last closed local job, replaced by the next one', async () => {
    await runJob('first' + Math.random().toString(36).slice(2), new LastSeen());
    const first = keptShapes();
    expect(first?.length).toBeGreaterThan(0);
    expect(first!.every((t) => t instanceof StreamTask)).toBe(true);
    await runJob('second' + Math.random().toString(36).slice(2), new LastSeen());
    expect(keptShapes()).not.toBe(first);
  });

  it('holds no record, key or state value of it, though it holds the function whose state handle pointed at the state', async () => {
    const prefix = 'wsm' + Math.random().toString(36).slice(2);
    expect(await runJob(prefix, new LastSeen())).toBe(500);
    expect(keptShapes()?.length).toBeGreaterThan(0);
    const leaked = (await liveStrings()).filter((s) => s.startsWith(prefix + '-'));
    // Records (`prefix-i`) would be held through the source, state values (`prefix-i!`)
    // through the function's state handle.
    expect(leaked).toEqual([]);
  }, 60_000);
});

describe('a disposed backend holds no state (a state handle outlives the job)', () => {
  const options = keyedOptions('warm-shapes');
  const backends: Array<[string, () => StateBackend]> = [
    ['hashmap', () => new HashMapStateBackend()],
    ['indexeddb', () => new IndexedDbStateBackend({ indexedDB: new FakeFactory(), IDBKeyRange: FakeKeyRange })],
  ];
  for (const [name, make] of backends) {
    it(`${name}: its tables hold no value once it is disposed`, async () => {
      const kb = await make().createKeyedStateBackend(options);
      const store = new KeyedStateStore(kb, 'Op (1/1)');
      const v = store.getState(new ValueStateDescriptor<string>('v'));
      for (const k of ['a', 'b', 'c']) {
        kb.setCurrentKey(k, keyGroupForKey(k, 128));
        await v.update(k + '!');
      }
      expect(await v.value()).toBe('c!');
      kb.clearCurrentKey();
      const tables = (kb as unknown as { registeredStates(): object[] }).registeredStates();
      await kb.dispose();
      for (const t of tables) expect(heldValues(t)).toEqual([]);
    });
  }
});

/** Whatever a table of either backend still holds: the heap's maps by namespace, IndexedDB's cells and map overlays. */
function heldValues(table: object): unknown[] {
  const t = table as { byNamespace?: Map<string, unknown[]>; cells?: Map<string, Map<unknown, unknown>>; maps?: Map<string, Map<unknown, unknown>> };
  const out: unknown[] = [];
  for (const maps of t.byNamespace?.values() ?? []) for (const m of maps) if (m instanceof Map) out.push(...m.values());
  for (const m of t.cells?.values() ?? []) out.push(...m.values());
  for (const m of t.maps?.values() ?? []) out.push(...m.values());
  return out;
}
