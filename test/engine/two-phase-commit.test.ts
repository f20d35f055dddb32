/**
 * TwoPhaseCommitSink under overlapping checkpoint calls: a finished task is checkpointed and
 * notified outside its mailbox, so a periodic checkpoint, the final one and their
 * completions can overlap. Each transaction must be pre-committed once and committed once.
 */
import { describe, expect, it } from 'vitest';
import { TwoPhaseCommitSink, type FunctionInitializationContext } from '../../src/index.ts';

const tick = () => new Promise((r) => setTimeout(r, 5));

/** Records its calls; every call takes a macrotask, as real I/O does. */
class SlowSink extends TwoPhaseCommitSink<string, { id: number; records: string[] }> {
  next = 0;
  readonly log: string[] = [];
  beginTransaction() {
    return { id: this.next++, records: [] };
  }
  invoke(txn: { records: string[] }, value: string) {
    txn.records.push(value);
  }
  async preCommit(txn: { id: number; records: string[] }) {
    await tick();
    this.log.push(`pre ${txn.id} [${txn.records}]`);
  }
  async commit(txn: { id: number; records: string[] }) {
    await tick();
    this.log.push(`commit ${txn.id} [${txn.records}]`);
  }
  abort() {}
}

async function started(): Promise<SlowSink> {
  const sink = new SlowSink();
  let list: unknown[] = [];
  const state = { get: async () => list, update: async (v: Iterable<unknown>) => void (list = [...v]) };
  const init = { isRestored: () => false, getOperatorStateStore: () => ({ getListState: () => state }), getKeyedStateStore: () => undefined };
  await sink.initializeState(init as unknown as FunctionInitializationContext);
  return sink;
}

const at = (id: number) => ({ getCheckpointId: () => id, getCheckpointTimestamp: () => 0 });

describe('TwoPhaseCommitSink with overlapping checkpoint calls', () => {
  it('two overlapping snapshots pre-commit two transactions, and two overlapping completions commit both once', async () => {
    const sink = await started();
    await sink.write('a', undefined as never);
    await Promise.all([sink.snapshotState(at(1)), sink.snapshotState(at(2))]);
    await Promise.all([sink.notifyCheckpointComplete(1), sink.notifyCheckpointComplete(2)]);
    expect(sink.log).toEqual(['pre 0 [a]', 'pre 1 []', 'commit 0 [a]', 'commit 1 []']);
  });

  it('a completion that overlaps the next snapshot commits only what that checkpoint covered', async () => {
    const sink = await started();
    await sink.write('a', undefined as never);
    await sink.snapshotState(at(1));
    await sink.write('b', undefined as never);
    await Promise.all([sink.notifyCheckpointComplete(1), sink.snapshotState(at(2)), sink.notifyCheckpointComplete(2)]);
    expect(sink.log).toEqual(['pre 0 [a]', 'commit 0 [a]', 'pre 1 [b]', 'commit 1 [b]']);
  });
});
