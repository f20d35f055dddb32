/**
 * The engine keeps the most recently closed local job's runtime objects (so that V8 keeps
 * their hidden classes and the code compiled for them, see src/engine/warm-shapes.ts), but
 * nothing of its data: no record of a collection source, no key, no state value (the kept
 * operator holds its copy of the user function, whose state handle pointed at the state).
 */
import { getHeapSnapshot } from 'node:v8';
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
import { StreamTask } from '../../src/engine/task.ts';
import { keptShapes } from '../../src/engine/warm-shapes.ts';

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
