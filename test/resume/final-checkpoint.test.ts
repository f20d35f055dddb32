/**
 * The output a two-phase-commit sink committed is covered by a durable complete
 * checkpoint: a job that ran to its end and is then started again from its newest
 * complete checkpoint (what a process killed after the final commit, before it exited,
 * does on restart) commits nothing new.
 */
import { describe, expect, it } from 'vitest';
import {
  RichMapFunction,
  StreamExecutionEnvironment,
  TwoPhaseCommitSink,
  ValueStateDescriptor,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { listCompletedCheckpoints } from '../../src/engine/checkpoint-restore.ts';
import { MemoryCheckpointStorage } from '../../src/storages/memory.ts';
import { pacedSource } from '../helpers/sources.ts';
import { RunningCount } from '../helpers/running-count.ts';

const RECORDS = 400;
/** Committed records, by run; module-level so that every per-subtask copy of the sink shares it. */
const committed: string[] = [];

class ListSink extends TwoPhaseCommitSink<string, { id: string; records: string[] }> {
  beginTransaction() {
    return { id: Math.random().toString(36).slice(2), records: [] as string[] };
  }
  invoke(txn: { records: string[] }, v: string) {
    txn.records.push(v);
  }
  preCommit() {}
  commit(txn: { id: string; records: string[] }) {
    // Idempotent like a rename: a transaction is committed once however often it is retried.
    if (!committedIds.has(txn.id)) {
      committedIds.add(txn.id);
      committed.push(...txn.records);
    }
  }
  abort() {}
}
const committedIds = new Set<string>();

async function run(storage: MemoryCheckpointStorage, resumeFrom: string | undefined): Promise<void> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
  env.enableCheckpointing(15);
  env.getCheckpointConfig().setCheckpointStorage(storage).setMaxRetainedCheckpoints(2);
  if (resumeFrom !== undefined) env.fromSavepoint(resumeFrom);
  env
    .fromSource(
      pacedSource(RECORDS, (i) => i, 4),
      undefined,
      'numbers',
    )
    .uid('numbers')
    .keyBy((i) => i % 5)
    .map(new RunningCount(5))
    .uid('count')
    .addSink(new ListSink())
    .uid('sink');
  await env.execute('final-checkpoint');
}

describe('the final checkpoint of a bounded job', () => {
  it('is written before sinks commit, so a restart from the newest complete checkpoint commits nothing again', { timeout: 30_000 }, async () => {
    committed.length = 0;
    const storage = new MemoryCheckpointStorage();
    await run(storage, undefined);
    expect(committed).toHaveLength(RECORDS);
    const [newest] = await listCompletedCheckpoints(storage, 'final-checkpoint');
    expect(newest).toBeDefined();
    // The process "died" after the final commit: the restart resumes from what it finds.
    await run(storage, newest);
    expect(committed).toHaveLength(RECORDS);
    expect(new Set(committed).size).toBe(RECORDS);
  });
});
