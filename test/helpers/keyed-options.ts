/** The options a test opens a keyed state backend with (imports only `src/`: Node, Deno, browsers and workerd alike). */
import { keyGroupRangeForSubtask } from '../../src/format/key-groups.ts';
import type { KeyedStateBackendOptions } from '../../src/state/backend.ts';

/** What a test may change of {@link keyedOptions}' defaults. */
export interface KeyedOptionsOverrides {
  /** Default `'op'`. */
  readonly operatorId?: string;
  /** Default `Op (subtaskIndex + 1/parallelism)`, e.g. `'Op (1/1)'`. */
  readonly operatorName?: string;
  /** Default 0. */
  readonly subtaskIndex?: number;
  /** Default 1. */
  readonly parallelism?: number;
  /** Default 128. */
  readonly maxParallelism?: number;
}

/**
 * Keyed backend options for one subtask of an operator of job `jobId`: by default subtask 0
 * of 1, named `'Op (1/1)'`, owning all 128 key groups. The key group range always follows
 * from maxParallelism, parallelism and subtaskIndex, as the engine assigns it.
 */
export function keyedOptions(jobId: string, overrides: KeyedOptionsOverrides = {}): KeyedStateBackendOptions {
  const { operatorId = 'op', subtaskIndex = 0, parallelism = 1, maxParallelism = 128 } = overrides;
  return {
    jobId,
    operatorId,
    operatorName: overrides.operatorName ?? `Op (${subtaskIndex + 1}/${parallelism})`,
    subtaskIndex,
    parallelism,
    maxParallelism,
    keyGroupRange: keyGroupRangeForSubtask(maxParallelism, parallelism, subtaskIndex),
  };
}
