/**
 * What a keyed job hosted in Durable Objects is made of ({@link KeyedJobOptions}), checked
 * once, and the wire shapes between the Worker and its objects.
 */
import { ConfigurationError } from '../../api/errors.ts';
import type { KeyedProcessFunctionLike } from '../../api/functions.ts';
import type { WatermarkStrategy } from '../../api/watermarks.ts';
import type { CheckpointStorage } from '../../format/checkpoint-storage.ts';
import type { Key } from '../../format/key-bytes.ts';
import { DEFAULT_MAX_PARALLELISM, UPPER_BOUND_MAX_PARALLELISM, type KeyGroupRange } from '../../format/key-groups.ts';
import type { TimeDomain } from '../../api/functions.ts';
import type { StateBackend } from '../../state/backend.ts';
import type { JobObjectState } from './job-platform.ts';

/**
 * Timers kept in the object's storage rather than in memory (`DurableObjectTimers` from
 * `eddy/cloudflare` is one): the members the engine's operators use, with the semantics
 * of Flink's `InternalTimerService` (deduplicated per key, namespace and timestamp).
 */
export interface StoredTimerService {
  register(domain: TimeDomain, key: Key, keyGroup: number, timestamp: number, namespace?: string): boolean;
  delete(domain: TimeDomain, key: Key, timestamp: number, namespace?: string): void;
  nextProcessingTime(): number | undefined;
  /** Removes and returns the earliest timer of `domain` due at `time`. */
  pollDue(domain: TimeDomain, time: number): { domain: TimeDomain; timestamp: number; key: Key; keyGroup: number; namespace: string } | undefined;
  size(domain: TimeDomain): number;
  /** The pending timers of `key` by domain, ascending (optional: a state query lists them). */
  timersOf?(key: Key): { eventTime: number[]; processingTime: number[] };
  /** Pending timers by key group, in the engine's timer layout. */
  snapshot(): Map<number, Uint8Array> | Promise<Map<number, Uint8Array>>;
  /** Adds the timers of the key groups this subtask owns. */
  restore(snapshot: ReadonlyMap<number, Uint8Array>): void;
}

/** What an object tells a {@link StoredTimerService} factory about its subtask. */
export interface StoredTimersSubtask {
  /** `<jobId>/<uid>/<subtask>`: names the subtask's timers among what the object stores. */
  readonly scope: string;
  readonly keyGroupRange: KeyGroupRange;
  readonly operatorName: string;
}

/** How a keyed job runs in Durable Objects; see `keyedJob()`. */
export interface KeyedJobOptions<K extends Key, IN, OUT> {
  /** The job's name, shown in errors (default `keyed-job`). */
  readonly name?: string;
  /** Stable id of the job: names its savepoints (`<jobId>/savepoint-<n>`); default the name. */
  readonly jobId?: string;
  /** Flink's `keyBy`: the key of an event; events are routed by its key group. */
  readonly keyBy: (event: IN) => K;
  /** The user's `KeyedProcessFunction`; every object works on its own copy. */
  readonly process: KeyedProcessFunctionLike<K, IN, OUT>;
  /** The number of Durable Objects (subtasks); changing it goes through a savepoint. */
  readonly parallelism: number;
  /** Flink's max parallelism: the number of key groups (default 128). */
  readonly maxParallelism?: number;
  /** The process operator's uid, the name of its state in savepoints (default `process`). */
  readonly uid?: string;
  /** Event time: timestamps of the events and the watermarks each object derives from them. */
  readonly watermarks?: WatermarkStrategy<IN>;
  /**
   * The keyed state backend of an object, e.g. `(ctx) => new DurableObjectStateBackend(ctx.storage)`
   * (from `eddy/cloudflare`): state in the object's SQLite, written as the function writes
   * it. Default: the heap (`HashMapStateBackend`), whose whole snapshot the object then
   * writes to its storage after every batch — fine for small state only.
   */
  readonly stateBackend?: (state: JobObjectState) => StateBackend;
  /**
   * Whether `stateBackend` keeps keyed state in the object's own storage, so that only
   * timers and operator state are copied per batch. Default: true for the backend named
   * `durable-object` (`DurableObjectStateBackend`), false otherwise.
   */
  readonly keyedStateInStorage?: boolean;
  /**
   * Timers in the object's storage, e.g. `(ctx, subtask) => new DurableObjectTimers(ctx.storage, subtask)`
   * (from `eddy/cloudflare`): registered and fired by row, inside the batch's transaction.
   * Default: the engine's timers in memory, whose whole snapshot the object writes to
   * storage after every batch — fine for few timers only.
   */
  readonly timers?: (state: JobObjectState, subtask: StoredTimersSubtask) => StoredTimerService;
  /** Where savepoints are written and read (for example R2), from the Worker's `env`. */
  readonly checkpointStorage?: (env: Record<string, unknown>) => CheckpointStorage;
  /** A savepoint directory (in `checkpointStorage`) every object starts from, at any parallelism. */
  readonly fromSavepoint?: string;
  /** The env binding of the Durable Object namespace (default `EDDY_JOB`). */
  readonly binding?: string;
  /** How many recent batch ids an object remembers to recognise a retry (default 10000). */
  readonly retainedBatches?: number;
}

/** The options with every default filled in. */
export interface ResolvedJobOptions<K extends Key, IN, OUT> extends KeyedJobOptions<K, IN, OUT> {
  readonly name: string;
  readonly jobId: string;
  readonly maxParallelism: number;
  readonly uid: string;
  readonly binding: string;
  readonly retainedBatches: number;
}

/** A batch as the Worker hands it to one object. */
export interface SubtaskBatch {
  readonly id: string;
  readonly subtask: number;
  readonly parallelism: number;
  readonly events: unknown[];
  /** A watermark the caller declares for the whole stream (broadcast to every object). */
  readonly watermark?: number;
}

/** What an object answers for a batch. */
export interface SubtaskResult {
  readonly id: string;
  /** Main output, in the order it was emitted. */
  readonly output: unknown[];
  /** Side outputs (`ctx.output(tag, v)`) by tag id. */
  readonly sideOutputs: Record<string, unknown[]>;
  /** True when the batch had been applied before: this is its stored output. */
  readonly replayed: boolean;
  /** The object's watermark after the batch. */
  readonly watermark: number | null;
}

/** Checks the options and fills in the defaults; a bad option is a `ConfigurationError`. */
export function resolveJobOptions<K extends Key, IN, OUT>(options: KeyedJobOptions<K, IN, OUT>): ResolvedJobOptions<K, IN, OUT> {
  const bad = (what: string) => new ConfigurationError(`keyedJob(): ${what}`, { component: 'runtime:cloudflare' });
  if (typeof options !== 'object' || options === null) throw bad('takes an options object { keyBy, process, parallelism }');
  if (typeof options.keyBy !== 'function') throw bad('keyBy must be a function (event) => key');
  const fn = options.process as unknown;
  if (typeof fn !== 'object' || fn === null || typeof (fn as { processElement?: unknown }).processElement !== 'function') {
    throw bad('process must be a KeyedProcessFunction (an object with processElement)');
  }
  const maxParallelism = options.maxParallelism ?? DEFAULT_MAX_PARALLELISM;
  if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > UPPER_BOUND_MAX_PARALLELISM) {
    throw bad(`maxParallelism must be an integer in 1..${UPPER_BOUND_MAX_PARALLELISM}, got ${String(options.maxParallelism)}`);
  }
  if (!Number.isInteger(options.parallelism) || options.parallelism < 1 || options.parallelism > maxParallelism) {
    throw bad(`parallelism must be an integer in 1..${maxParallelism} (maxParallelism), got ${String(options.parallelism)}`);
  }
  const retainedBatches = options.retainedBatches ?? 10_000;
  if (!Number.isInteger(retainedBatches) || retainedBatches < 1) throw bad(`retainedBatches must be a positive integer, got ${String(retainedBatches)}`);
  const name = options.name ?? 'keyed-job';
  return {
    ...options,
    name,
    jobId: options.jobId ?? name,
    maxParallelism,
    uid: options.uid ?? 'process',
    binding: options.binding ?? 'EDDY_JOB',
    retainedBatches,
  };
}
