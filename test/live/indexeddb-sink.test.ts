/** IndexedDbSink: exactly-once into IndexedDB (fake-indexeddb in Node) across failures and replayed commits. */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import {
  deleteIndexedDbSink,
  IndexedDbSink,
  MemoryCheckpointStorage,
  RestartStrategies,
  StreamExecutionEnvironment,
  readIndexedDbSink,
  readIndexedDbSinkAfter,
} from '../../src/index.ts';
import { pacedSource } from '../helpers/sources.ts';

let dbCounter = 0;
const freshName = () => `eddy-sink-${process.pid}-${dbCounter++}`;

/** A sink on a fresh database with one transaction holding 'x' and 'y', pre-committed. */
async function preCommittedXY() {
  const database = freshName();
  const sink = new IndexedDbSink<string>({ database });
  const a = sink.beginTransaction();
  sink.invoke(a, 'x', undefined as never);
  sink.invoke(a, 'y', undefined as never);
  await sink.preCommit(a);
  return { database, sink, a };
}
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
    const { database, sink, a } = await preCommittedXY();
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

  it('readIndexedDbSinkAfter tails the output in commit order, a page at a time, from the last key read', async () => {
    const database = freshName();
    const sink = new IndexedDbSink<number>({ database });
    // The first transaction begins before open() (as initializeState does); later ones after it.
    const first = sink.beginTransaction();
    sink.open({ getIndexOfThisSubtask: () => 0 } as never);
    const txns = [first, sink.beginTransaction(), sink.beginTransaction()];
    let n = 0;
    for (const txn of txns) {
      for (let i = 0; i < 3; i++) sink.invoke(txn, n++, undefined as never);
      await sink.preCommit(txn);
    }
    // Commit the first two, read everything so far in pages of two; then the third arrives.
    await sink.commit(txns[0]!);
    await sink.commit(txns[1]!);
    const seen: number[] = [];
    let after: readonly [string, number] | undefined;
    for (;;) {
      const page = await readIndexedDbSinkAfter<number>(database, after, 2);
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(2);
      seen.push(...page.map((e) => e.value));
      after = page.at(-1)!.key;
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    expect(after![0]).toBe(txns[1]!.id);
    await sink.commit(txns[2]!);
    expect((await readIndexedDbSinkAfter<number>(database, after)).map((e) => e.value)).toEqual([6, 7, 8]);
    expect((await readIndexedDbSinkAfter<number>(database)).map((e) => e.key)).toEqual(txns.flatMap((t) => [0, 1, 2].map((i) => [t.id, i])));
    await sink.close();
  });

  it("records each transaction's commit time in the commit itself: readIndexedDbSinkAfter returns it; a replayed commit keeps the first", async () => {
    const { database, sink, a } = await preCommittedXY();
    const before = Date.now();
    await sink.commit(a);
    const after = Date.now();
    const first = await readIndexedDbSinkAfter<string>(database);
    expect(first.map((e) => e.value)).toEqual(['x', 'y']);
    const at = first[0]!.committedAt!;
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(after);
    expect(first[1]!.committedAt).toBe(at);
    await new Promise((r) => setTimeout(r, 5));
    await sink.commit(a);
    await sink.recoverAndCommit(a);
    // A second transaction committed later has its own, later time; a page that starts inside the range reads it too.
    const b = sink.beginTransaction();
    sink.invoke(b, 'z', undefined as never);
    await sink.preCommit(b);
    await sink.commit(b);
    const all = await readIndexedDbSinkAfter<string>(database);
    expect(all.map((e) => e.committedAt)).toEqual([at, at, expect.any(Number)]);
    expect(all[2]!.committedAt!).toBeGreaterThan(at);
    expect((await readIndexedDbSinkAfter<string>(database, all[0]!.key)).map((e) => [e.value, e.committedAt])).toEqual([
      ['y', at],
      ['z', all[2]!.committedAt],
    ]);
    await sink.close();
  });

  it('a database an older eddy created (version 1, no commit times) is upgraded in place: its records are kept, without a time', async () => {
    const database = freshName();
    const { openDB } = await import('idb');
    const old = await openDB(database, 1, {
      upgrade(db) {
        db.createObjectStore('pending');
        db.createObjectStore('committed');
      },
    });
    await old.put('committed', 'old', ['0-old', 0]);
    old.close();
    const sink = new IndexedDbSink<string>({ database });
    const a = sink.beginTransaction();
    sink.invoke(a, 'new', undefined as never);
    await sink.preCommit(a);
    await sink.commit(a);
    const entries = await readIndexedDbSinkAfter<string>(database);
    expect(entries.map((e) => e.value)).toEqual(['old', 'new']);
    expect(entries[0]!.committedAt).toBeUndefined();
    expect(entries[0]).not.toHaveProperty('committedAt');
    expect(entries[1]!.committedAt).toEqual(expect.any(Number));
    await sink.close();
  });

  it('deleteIndexedDbSink clears committed and staged records: the next run starts from an empty output', async () => {
    const database = freshName();
    const sink = new IndexedDbSink<string>({ database });
    const a = sink.beginTransaction();
    sink.invoke(a, 'old', undefined as never);
    await sink.preCommit(a);
    await sink.commit(a);
    const staged = sink.beginTransaction();
    sink.invoke(staged, 'staged', undefined as never);
    await sink.preCommit(staged);
    await sink.close();
    expect(await readIndexedDbSink<string>(database)).toEqual(['old']);
    await deleteIndexedDbSink(database);
    expect(await readIndexedDbSink<string>(database)).toEqual([]);
    // The staged transaction went with it: committing it after the deletion adds nothing.
    const again = new IndexedDbSink<string>({ database });
    await again.recoverAndCommit(staged);
    expect(await readIndexedDbSinkAfter<string>(database)).toEqual([]);
    await again.close();
  });

  it('needs a database name (INVALID_CONFIG)', () => {
    expect(() => new IndexedDbSink({ database: '' })).toThrow(/IndexedDbSink needs \{ database/);
  });
});
