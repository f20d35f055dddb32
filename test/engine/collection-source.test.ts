import { describe, expect, it } from 'vitest';
import { RestartStrategies, RichMapFunction, StreamExecutionEnvironment } from '../../src/index.ts';
import { CollectionSource } from '../../src/engine/sources/collection.ts';
import type { Source, SourceReader } from '../../src/api/sources.ts';
import { HANDS_OVER_BATCHES } from '../../src/engine/operators/source.ts';

const env = () => StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);

/** A class instance, so that every attempt's copy of the function shares it (plain data is copied per attempt). */
class Trap {
  failed = false;
  constructor(readonly failAt: number) {}
}

/** Fails once, at the record `failAt`, on the first attempt; lets time pass now and then so checkpoints are taken mid-stream. */
class FailOnce extends RichMapFunction<number, number> {
  constructor(private readonly state: Trap) {
    super();
  }
  async map(x: number): Promise<number> {
    if (x === this.state.failAt && !this.state.failed) {
      this.state.failed = true;
      throw new Error(`injected failure at ${x}`);
    }
    if (x % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    return x;
  }
}

async function runFailingOnce(collection: Iterable<number>, failAt: number): Promise<{ out: number[]; failed: boolean }> {
  const state = new Trap(failAt);
  const e = env();
  e.enableCheckpointing(1).setRestartStrategy(RestartStrategies.fixedDelayRestart(2, 0));
  const warn = console.warn;
  console.warn = () => {};
  try {
    const out = await e.fromCollection(collection).map(new FailOnce(state)).executeAndCollect();
    return { out, failed: state.failed };
  } finally {
    console.warn = warn;
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('fromCollection', () => {
  it('reads an array in place, up to its length at the call: elements pushed later are not read', async () => {
    const input = [1, 2, 3];
    const stream = env().fromCollection(input);
    input.push(4, 5);
    expect(await stream.executeAndCollect()).toEqual([1, 2, 3]);
  });

  it('a hole of a sparse array is an undefined record, as when the array was copied', () => {
    const reader = new CollectionSource([1, , 3]).createReader() as SourceReader<number | undefined>;
    const batch = reader.poll(10) as (number | undefined)[];
    expect(batch).toHaveLength(3);
    expect(1 in batch).toBe(true);
    expect(batch.map((x) => x ?? 'undefined')).toEqual([1, 'undefined', 3]);
  });

  it('an array whose iterator is its own is read through the iterator', async () => {
    const input = [1, 2, 3];
    Object.defineProperty(input, Symbol.iterator, {
      value: function* () {
        yield 7;
      },
    });
    expect(await env().fromCollection(input).executeAndCollect()).toEqual([7]);
  });

  it('an Array subclass is copied into a plain array, so that batches are not built with its constructor', async () => {
    let constructed = 0;
    class Counted<T> extends Array<T> {
      constructor(...args: T[]) {
        super(...args);
        constructed++;
      }
    }
    const input = Counted.from([1, 2, 3]) as Counted<number>;
    constructed = 0;
    expect(await env().fromCollection(input).executeAndCollect()).toEqual([1, 2, 3]);
    expect(constructed).toBe(0);
  });

  it('the source restores its position within the array and stops at the length the array had when it was made', () => {
    const input = range(6);
    const source = new CollectionSource(input);
    input.push(6, 7, 8, 9);
    const reader = source.createReader() as SourceReader<number>;
    expect(reader.poll(4)).toEqual([0, 1, 2, 3]);
    const splits = reader.snapshotSplits!(1);
    input.push(99);
    const again = source.createReader() as SourceReader<number>;
    again.restoreSplits!(splits as never);
    expect(again.poll(10)).toEqual([4, 5]);
    expect(again.poll(10)).toBeNull();
    expect(() => again.restoreSplits!([{ next: 7 }] as never)).toThrow(/cannot restore/);
  });

  it("a user reader's polled array is copied (it may reuse it), fromCollection's becomes the batch", async () => {
    // One array refilled by every poll: records handed on without a copy would all read the last fill.
    const reused: number[] = [];
    let next = 0;
    const reusing: Source<number> = {
      boundedness: 'bounded',
      createReader: () => ({
        poll: (max) => {
          if (next >= 10) return null;
          reused.length = 0;
          for (let i = 0; i < Math.min(max, 2); i++) reused.push(next++);
          return reused;
        },
      }),
    };
    // keyBy: the records cross to another task, which reads them after later polls.
    const out = await env()
      .fromSource(reusing, undefined, 'reusing')
      .keyBy(() => 0)
      .map((x) => x)
      .executeAndCollect();
    expect(out).toEqual(range(10));
    expect((new CollectionSource([1]).createReader() as { [HANDS_OVER_BATCHES]?: boolean })[HANDS_OVER_BATCHES]).toBe(true);
    expect(await env().fromCollection(range(3000)).executeAndCollect()).toEqual(range(3000));
  });

  it.each([
    ['an array', () => range(5000)],
    ['a Set', () => new Set(range(5000))],
    [
      'a generator',
      () =>
        (function* () {
          for (let i = 0; i < 5000; i++) yield i;
        })(),
    ],
  ])('%s is read exactly once across a failure and restore', async (_name, make) => {
    const { out, failed } = await runFailingOnce(make(), 4200);
    expect(failed).toBe(true);
    expect(out).toEqual(range(5000));
  });
});
