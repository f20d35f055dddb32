import { describe, expectTypeOf, it } from 'vitest';
import { KeyedProcessFunction, StreamExecutionEnvironment, type Collector, type DataStream, type KeyedProcessContext } from '../../src/index.ts';

class Counter extends KeyedProcessFunction<string, { k: string }, [string, number]> {
  processElement(_v: { k: string }, _ctx: KeyedProcessContext<string>, _out: Collector<[string, number]>) {}
}

describe('API types', () => {
  it('infer the output type of plain and object functions', () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    const nums = env.fromElements(1, 2);
    expectTypeOf(nums.map((x) => `${x}`)).toEqualTypeOf<DataStream<string>>();
    expectTypeOf(nums.map(async (x) => x > 1)).toEqualTypeOf<DataStream<boolean>>();
    expectTypeOf(nums.map({ map: (x: number) => x * 2 })).toEqualTypeOf<DataStream<number>>();
    expectTypeOf(nums.flatMap((x: number, out: Collector<string[]>) => out.collect([`${x}`]))).toEqualTypeOf<DataStream<string[]>>();
    expectTypeOf(nums.filter((x) => x > 1)).toEqualTypeOf<DataStream<number>>();
    expectTypeOf(
      env
        .fromElements({ k: 'a' })
        .keyBy((e) => e.k)
        .process(new Counter()),
    ).toEqualTypeOf<DataStream<[string, number]>>();
  });
});
