import { describe, expect, it } from 'vitest';
import { RichMapFunction, StateError, StreamExecutionEnvironment, ValueStateDescriptor, type RuntimeContext, type ValueState } from '../../src/index.ts';
import { keyGroupForKey, subtaskForKeyGroup } from '../../src/format/key-groups.ts';

const env = (p: number) => StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(p);

/** Keys (`k<n>`) that a keyed operator at parallelism `p` routes to subtask `subtask`. */
function keysOf(subtask: number, p: number, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) if (subtaskForKeyGroup(128, p, keyGroupForKey(`k${i}`, 128)) === subtask) out.push(`k${i}`);
  return out;
}

/** Counts per key with its state handles kept in a field object filled in open(). */
class FieldCount extends RichMapFunction<string, string> {
  st: { count?: ValueState<number> } = {};
  override open(ctx: RuntimeContext) {
    this.st.count = ctx.getState(new ValueStateDescriptor<number>('count'));
  }
  async map(k: string) {
    const n = ((await this.st.count!.value()) ?? 0) + 1;
    await this.st.count!.update(n);
    return `${k}=${n}`;
  }
}

describe('per-subtask copies of a function', () => {
  it('state handles kept in a field object filled in open() stay with their subtask (parallelism 3: every key counts 1, 2)', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `key-${i}`);
    const out = await env(3)
      .fromCollection([...keys, ...keys])
      .keyBy((k) => k)
      .map(new FieldCount())
      .executeAndCollect('field-count');
    const last = new Map<string, number>();
    for (const o of out as string[]) {
      const [k, n] = o.split('=');
      last.set(k, Math.max(last.get(k) ?? 0, Number(n)));
    }
    expect([...last.values()].every((n) => n === 2)).toBe(true);
    expect(last.size).toBe(30);
  });

  it('plain objects, arrays, Maps and Sets (nested) are copied per subtask; class instances are shared', async () => {
    const seen: string[] = [];
    const probe = {
      list: [] as number[],
      nested: { inner: { seen: [] as number[] } },
      byName: new Map<string, number>(),
      set: new Set<number>(),
      registry: new (class Registry {
        opened: number[] = [];
      })(),
      open(ctx: RuntimeContext) {
        const i = ctx.getIndexOfThisSubtask();
        this.list.push(i);
        this.nested.inner.seen.push(i);
        this.byName.set('i', i);
        this.set.add(i);
        this.registry.opened.push(i);
      },
      map(v: number) {
        seen.push(JSON.stringify([this.list, this.nested.inner.seen, [...this.byName.values()], [...this.set]]));
        return v;
      },
    };
    await env(3).fromCollection([1, 2, 3, 4, 5, 6]).rebalance().map(probe).setParallelism(3).executeAndCollect('field-copies');
    expect(seen.length).toBe(6);
    for (const s of seen) {
      const [list, nested, byName, set] = JSON.parse(s) as number[][];
      expect(list).toHaveLength(1);
      expect(nested).toEqual(list);
      expect(byName).toEqual(list);
      expect(set).toEqual(list);
    }
    // The original object is left as it was.
    expect(probe.list).toEqual([]);
    // A class instance is shared by reference (documented): every subtask pushed into the same one.
    expect(probe.registry.opened.sort()).toEqual([0, 1, 2]);
  });

  it('a state handle used by a subtask that does not own it fails with NO_KEY_CONTEXT naming the owner and the reason', async () => {
    class Holder {
      handle: ValueState<number> | undefined;
    }
    const holder = new Holder();
    const fn = {
      holder,
      open(ctx: RuntimeContext) {
        // Wrong on purpose: the first subtask's handle is kept for all of them.
        if (this.holder.handle === undefined) this.holder.handle = ctx.getState(new ValueStateDescriptor<number>('n'));
      },
      async map(k: string) {
        await this.holder.handle!.update(1);
        return k;
      },
    };
    // Subtask 0 opens first and receives no records: only subtask 1 uses (subtask 0's) handle.
    const run = env(2)
      .fromCollection(keysOf(1, 2, 5))
      .keyBy((k) => k)
      .map(fn)
      .executeAndCollect('shared-handle');
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).code).toBe('NO_KEY_CONTEXT');
    expect((error as Error).message).toContain('(1/2)');
    expect((error as Error).message).toMatch(/another subtask|shared/);
  });
});
