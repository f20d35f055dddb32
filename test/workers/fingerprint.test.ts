import { describe, expect, it } from 'vitest';
import { KeyedProcessFunction, StreamExecutionEnvironment, type Collector, type KeyedProcessContext } from '../../src/index.ts';
import { planJob } from '../../src/engine/plan.ts';
import { graphFingerprint } from '../../src/workers/worker-protocol.ts';

// Two classes that differ only in name, as one class minified differently in a page's and a worker's bundle.
class Counter extends KeyedProcessFunction<string, string, string> {
  async processElement(v: string, _ctx: KeyedProcessContext<string>, out: Collector<string>) {
    out.collect(v);
  }
}
class Mi extends Counter {}

function fingerprint(fn: Counter, name?: string): string[] {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
  const stream = env
    .fromElements('a')
    .keyBy((v) => v)
    .process(fn);
  if (name) stream.name(name);
  stream.addSink(() => {});
  const graph = env.takeGraph('job');
  return graphFingerprint(graph, planJob(graph));
}

describe('the graph fingerprint workers compare', () => {
  it('leaves out operator names taken from a class name (minifiers rename classes per bundle)', () => {
    expect(fingerprint(new Mi())).toEqual(fingerprint(new Counter()));
  });

  it('still compares names given with name()', () => {
    expect(fingerprint(new Counter(), 'count')).not.toEqual(fingerprint(new Counter(), 'tally'));
    expect(fingerprint(new Mi(), 'count')).toEqual(fingerprint(new Counter(), 'count'));
  });
});
