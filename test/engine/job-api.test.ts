import { describe, expect, it } from 'vitest';
import {
  KeyedProcessFunction,
  ListStateDescriptor,
  RichFlatMapFunction,
  RichMapFunction,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  type Collector,
  type KeyedProcessContext,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';

const env = (p = 1) => StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(p);
const sorted = <T>(xs: T[]) => [...xs].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

/** Running count per key, emitted as [key, count] for every record. */
class RunningCount extends RichMapFunction<string, [string, number]> {
  private count!: ValueState<number>;
  override open(ctx: RuntimeContext) {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
  }
  async map(word: string): Promise<[string, number]> {
    const c = ((await this.count.value()) ?? 0) + 1;
    await this.count.update(c);
    return [word, c];
  }
}

const words = Array.from({ length: 600 }, (_, i) => `w${(i * 7) % 13}`);

describe('DataStream API', () => {
  it('map, filter and flatMap transform records in order at parallelism 1', async () => {
    const out = await env()
      .fromElements(1, 2, 3, 4, 5)
      .map((x) => x * 10)
      .filter((x) => x !== 30)
      .flatMap((x: number, o: Collector<number>) => {
        o.collect(x);
        o.collect(-x);
      })
      .executeAndCollect();
    expect(out).toEqual([10, -10, 20, -20, 40, -40, 50, -50]);
  });

  it('async map, filter and flatMap functions are awaited', async () => {
    const out = await env(2)
      .fromCollection([1, 2, 3, 4])
      .map(async (x) => x + 1)
      .filter(async (x) => x % 2 === 0)
      .flatMap(async (x: number, o: Collector<string>) => o.collect(`v${x}`))
      .executeAndCollect();
    expect(out.sort()).toEqual(['v2', 'v4']);
  });

  it('union merges streams of the same type', async () => {
    const e = env(2);
    const a = e.fromElements('a1', 'a2');
    const b = e.fromElements('b1');
    const c = e.fromGenerator((i) => `c${i}`, { count: 3 });
    expect(
      (
        await a
          .union(b, c)
          .map((x) => x.toUpperCase())
          .executeAndCollect()
      ).sort(),
    ).toEqual(['A1', 'A2', 'B1', 'C0', 'C1', 'C2']);
  });

  it('fromGenerator splits its count over parallel subtasks without gaps or duplicates', async () => {
    const out = await env(3)
      .fromGenerator((i) => i, { count: 1000 })
      .map((x) => x)
      .executeAndCollect();
    expect(out.sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('fromGenerator honours ratePerSecond', async () => {
    const started = Date.now();
    const out = await env()
      .fromGenerator((i) => i, { count: 20, ratePerSecond: 100 })
      .executeAndCollect();
    expect(out).toHaveLength(20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it.each([1, 2, 4])('keyed state gives the same per-key results at parallelism %i', async (p) => {
    const out = await env(p)
      .fromCollection(words)
      .keyBy((w) => w)
      .map(new RunningCount())
      .executeAndCollect();
    const expected: Array<[string, number]> = [];
    const counts = new Map<string, number>();
    for (const w of words) {
      counts.set(w, (counts.get(w) ?? 0) + 1);
      expected.push([w, counts.get(w)!]);
    }
    expect(sorted(out)).toEqual(sorted(expected));
  });

  it('keeps the order of each key at parallelism 3', async () => {
    const out = await env(3)
      .fromGenerator((i) => ({ key: i % 17, seq: i }), { count: 3000 })
      .keyBy((r) => r.key)
      .map((r) => r)
      .executeAndCollect();
    const lastSeq = new Map<number, number>();
    // Within one generator subtask the sequence grows; across subtasks the order is not defined.
    for (const r of out) {
      const origin = Math.floor((r.seq * 3) / 3000);
      const id = r.key * 10 + origin;
      expect(r.seq).toBeGreaterThan(lastSeq.get(id) ?? -1);
      lastSeq.set(id, r.seq);
    }
    expect(out).toHaveLength(3000);
  });

  it('KeyedStream.reduce emits the running fold of each key', async () => {
    const out = await env(2)
      .fromElements<[string, number]>(['a', 1], ['b', 10], ['a', 2], ['a', 3], ['b', 20])
      .keyBy((t) => t[0])
      .reduce((x, y) => [x[0], x[1] + y[1]])
      .executeAndCollect();
    expect(out.filter((t) => t[0] === 'a').map((t) => t[1])).toEqual([1, 3, 6]);
    expect(out.filter((t) => t[0] === 'b').map((t) => t[1])).toEqual([10, 30]);
  });

  it('keys of every allowed type route to consistent state', async () => {
    const keys = ['s', 1, -2.5, 3n, true, false, ['a', 1], [[1n], []]] as const;
    const input = [...keys, ...keys, ...keys].map((k) => ({ k }));
    const out = await env(3)
      .fromCollection(input)
      .keyBy((r) => r.k as never)
      .map(
        new (class extends RichMapFunction<{ k: unknown }, number> {
          private c!: ValueState<number>;
          override open(ctx: RuntimeContext) {
            this.c = ctx.getState(new ValueStateDescriptor<number>('c'));
          }
          async map() {
            const c = ((await this.c.value()) ?? 0) + 1;
            await this.c.update(c);
            return c;
          }
        })(),
      )
      .executeAndCollect();
    expect(out.filter((c) => c === 3)).toHaveLength(keys.length);
    expect(out.filter((c) => c > 3)).toHaveLength(0);
  });

  it('gives every subtask its own copy of the function object, plain-data fields included', async () => {
    const shared: string[] = [];
    class Tagger extends RichFlatMapFunction<number, string> {
      tag = 'unset';
      readonly sharedLog = shared;
      override open(ctx: RuntimeContext) {
        this.tag = `subtask-${ctx.getIndexOfThisSubtask()}`;
        this.sharedLog.push(this.tag);
      }
      flatMap(x: number, out: Collector<string>) {
        out.collect(`${this.tag}:${x}`);
      }
    }
    const fn = new Tagger();
    const out = await env(3)
      .fromGenerator((i) => i, { count: 9 })
      .flatMap(fn)
      .executeAndCollect();
    expect(fn.tag).toBe('unset');
    // An array in a field is plain data: each subtask pushed into its own copy, none into the original.
    expect(shared).toEqual([]);
    expect(new Set(out.map((s) => s.split(':')[0]))).toEqual(new Set(['subtask-0', 'subtask-1', 'subtask-2']));
  });

  it('object literals work as functions', async () => {
    const out = await env()
      .fromElements(1, 2)
      .keyBy(() => 'k')
      .process({
        list: undefined as unknown as import('../../src/index.ts').ListState<number>,
        open(ctx: RuntimeContext) {
          this.list = ctx.getListState(new ListStateDescriptor<number>('seen'));
        },
        async processElement(v: number, _ctx: KeyedProcessContext<string>, out: Collector<number[]>) {
          await this.list.add(v);
          out.collect(await this.list.get());
        },
      })
      .executeAndCollect();
    expect(out).toEqual([[1], [1, 2]]);
  });

  it('addSink takes a function or an object with open/invoke/close; sinkTo writes through a writer', async () => {
    const e = env(2);
    const viaFn: number[] = [];
    const viaObject: string[] = [];
    const viaWriter: number[] = [];
    const flushed: boolean[] = [];
    const src = e.fromElements(1, 2, 3);
    src.addSink((v) => void viaFn.push(v));
    src.addSink({
      opened: false,
      open() {
        this.opened = true;
      },
      invoke(v: number) {
        viaObject.push(`${this.opened}:${v}`);
      },
      close() {
        viaObject.push('closed');
      },
    });
    src.sinkTo({
      createWriter: () => ({
        write: (v: number) => void viaWriter.push(v),
        flush: (end: boolean) => void flushed.push(end),
      }),
    });
    const result = await e.execute('sinks');
    expect(result.jobName).toBe('sinks');
    expect(viaFn.sort()).toEqual([1, 2, 3]);
    expect(viaObject.filter((s) => s !== 'closed').sort()).toEqual(['true:1', 'true:2', 'true:3']);
    expect(viaObject.filter((s) => s === 'closed')).toHaveLength(2);
    expect(viaWriter.sort()).toEqual([1, 2, 3]);
    expect(flushed).toEqual([true, true]);
  });

  it('a keyed process function gets the current key and the record timestamp', async () => {
    class Echo extends KeyedProcessFunction<string, { k: string; t: number }, string> {
      processElement(v: { k: string; t: number }, ctx: KeyedProcessContext<string>, out: Collector<string>) {
        out.collect(`${ctx.getCurrentKey()}@${ctx.timestamp()}`);
      }
    }
    const { WatermarkStrategy } = await import('../../src/index.ts');
    const out = await env()
      .fromElements({ k: 'a', t: 5 }, { k: 'b', t: 7 })
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<{ k: string; t: number }>().withTimestampAssigner((v) => v.t))
      .keyBy((v) => v.k)
      .process(new Echo())
      .executeAndCollect();
    expect(out).toEqual(['a@5', 'b@7']);
  });
});
