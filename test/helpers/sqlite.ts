import { SqliteStateBackend, type SqliteKeyedStateBackend, type SqliteStateBackendOptions } from '../../src/backends/sqlite/index.ts';
import { keyGroupRangeForSubtask } from '../../src/format/key-groups.ts';

let seq = 0;

/** An in-memory SQLite keyed backend of a fresh operator owning all 128 key groups (subtask 0 of 1, operator name 'Op (1/1)'). */
export async function openSqliteKeyed(
  jobId: string,
  options: SqliteStateBackendOptions = {},
): Promise<{ backend: SqliteStateBackend; kb: SqliteKeyedStateBackend }> {
  const backend = new SqliteStateBackend({ vfs: 'memory', ...options });
  const kb = (await backend.createKeyedStateBackend({
    jobId,
    operatorId: `op-${++seq}`,
    operatorName: 'Op (1/1)',
    subtaskIndex: 0,
    parallelism: 1,
    maxParallelism: 128,
    keyGroupRange: keyGroupRangeForSubtask(128, 1, 0),
  })) as SqliteKeyedStateBackend;
  return { backend, kb };
}
