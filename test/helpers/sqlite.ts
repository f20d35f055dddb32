import { SqliteStateBackend, type SqliteKeyedStateBackend, type SqliteStateBackendOptions } from '../../src/backends/sqlite/index.ts';
import { keyedOptions } from './keyed-options.ts';

let seq = 0;

/** An in-memory SQLite keyed backend of a fresh operator owning all 128 key groups (subtask 0 of 1, operator name 'Op (1/1)'). */
export async function openSqliteKeyed(
  jobId: string,
  options: SqliteStateBackendOptions = {},
): Promise<{ backend: SqliteStateBackend; kb: SqliteKeyedStateBackend }> {
  const backend = new SqliteStateBackend({ vfs: 'memory', ...options });
  const kb = (await backend.createKeyedStateBackend(keyedOptions(jobId, { operatorId: `op-${++seq}` }))) as SqliteKeyedStateBackend;
  return { backend, kb };
}
