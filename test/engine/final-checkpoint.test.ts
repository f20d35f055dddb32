import { describe, expect, it } from 'vitest';
import {
  HashMapStateBackend,
  RichMapFunction,
  StreamExecutionEnvironment,
  TwoPhaseCommitSink,
  ValueStateDescriptor,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import type { KeyedStateBackend, KeyedStateBackendOptions } from '../../src/state/backend.ts';

/** A heap backend that counts the snapshots taken of its keyed state. */
class CountingBackend extends HashMapStateBackend {
  snapshots = 0;
  override createKeyedStateBackend(options: KeyedStateBackendOptions): KeyedStateBackend {
    const backend = super.createKeyedStateBackend(options);
    const snapshot = backend.snapshot.bind(backend);
    backend.snapshot = (o) => {
      this.snapshots++;
      return snapshot(o);
    };
    return backend;
  }
}

/** Commits a transaction's records into `target` (an "external system"). */
class ListSink extends TwoPhaseCommitSink<string, string[]> {
  /** A closure, not the array itself: plain-data fields are copied per subtask, functions are shared. */
  private readonly deliver: (records: string[]) => void;
  constructor(target: string[]) {
    super();
    this.deliver = (records) => target.push(...records);
  }
  beginTransaction(): string[] {
    return [];
  }
  invoke(txn: string[], v: string): void {
    txn.push(v);
  }
  preCommit(): void {}
  commit(txn: string[]): void {
    this.deliver(txn);
  }
  abort(): void {}
}

/** Numbers each key's records: a1, a2, … (keyed state that a snapshot would have to encode). */
class NumberEach extends RichMapFunction<string, string> {
  count!: ValueState<number>;
  override open(ctx: RuntimeContext): void {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
  }
  async map(k: string): Promise<string> {
    const n = ((await this.count.value()) ?? 0) + 1;
    await this.count.update(n);
    return `${k}${n}`;
  }
}

describe('the final checkpoint of a bounded job without checkpointing', () => {
  it('commits the sink but captures no keyed state that nobody would keep', async () => {
    const backend = new CountingBackend();
    const committed: string[] = [];
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2).setStateBackend(backend);
    env
      .fromCollection(['a', 'b', 'a', 'c', 'b', 'a'])
      .keyBy((k) => k)
      .map(new NumberEach())
      .addSink(new ListSink(committed));
    await env.execute('final-checkpoint');
    expect(committed.sort()).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'c1']);
    expect(backend.snapshots).toBe(0);
  });
});
