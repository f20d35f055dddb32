/** IndexedDbSink: exactly-once into IndexedDB (fake-indexeddb in Node) across failures and replayed commits. */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { IndexedDbSink, MemoryCheckpointStorage, RestartStrategies, StreamExecutionEnvironment, readIndexedDbSink } from '../../src/index.ts';
import { pacedSource } from '../helpers/sources.ts';

let dbCounter = 0;
const freshName = () => `eddy-sink-${process.pid}-${dbCounter++}`;

describe('IndexedDbSink', () => {
  it('every record is committed exactly once across injected failures and restarts', async () => {
    const database = freshName();
    const failAt = new Set([37, 121, 250]);
    const env = StreamExecutionEnvironment.getExecutionEnvironment().enableCheckpointing(15).setRestartStrategy(RestartStrategies.fixedDelayRestart(5, 0));
    env.getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
    env
      .fromSource(
        pacedSource(300, (i) => i, 3),
        undefined,
        'paced',
      )
      .map((i: number) => {
        if (failAt.delete(i)) throw new Error(`injected at ${i}`);
        return { i };
      })
      .addSink(new IndexedDbSink<{ i: number }>({ database }));
    const client = await env.executeAsync('idb-exactly-once');
    await client.result;
    expect(client.getNumRestarts()).toBe(3);
    const committed = (await readIndexedDbSink<{ i: number }>(database)).map((r) => r.i);
    expect(committed).toHaveLength(300);
    expect(new Set(committed).size).toBe(300);
    expect([...committed].sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('parallel subtasks commit their own transactions; nothing is lost or doubled', async () => {
    const database = freshName();
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(3).enableCheckpointing(15);
    env.getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
    env
      .fromSource(
        pacedSource(150, (i) => i, 5),
        undefined,
        'paced',
      )
      .addSink(new IndexedDbSink<number>({ database }));
    await env.execute('idb-parallel');
    const committed = await readIndexedDbSink<number>(database);
    expect([...committed].sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, i) => i));
  });

  it('a commit replayed after a restore (same transaction) adds nothing; an aborted transaction leaves nothing', async () => {
    const database = freshName();
    const sink = new IndexedDbSink<string>({ database });
    const a = sink.beginTransaction();
    sink.invoke(a, 'x', undefined as never);
    sink.invoke(a, 'y', undefined as never);
    await sink.preCommit(a);
    await sink.commit(a);
    await sink.commit(a);
    await sink.recoverAndCommit(a);
    const b = sink.beginTransaction();
    sink.invoke(b, 'never', undefined as never);
    await sink.preCommit(b);
    await sink.abort(b);
    await sink.commit(b);
    expect(await readIndexedDbSink<string>(database)).toEqual(['x', 'y']);
    await sink.close();
  });

  it('needs a database name (INVALID_CONFIG)', () => {
    expect(() => new IndexedDbSink({ database: '' })).toThrow(/IndexedDbSink needs \{ database/);
  });
});
