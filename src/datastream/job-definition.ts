/**
 * `defineJob`: a job that every thread can build. Functions never travel between
 * threads (no `eval`, no `Function.toString`: workerd and strict CSP forbid them).
 * Instead a worker imports the module that defines the job, by URL, and calls the
 * same job function on its own environment; since the function is the same code run
 * with the same (structured-cloned) arguments, it builds the same graph, and the worker
 * runs only its share of the subtasks.
 *
 * The rule, in full:
 * 1. The job is `export const myJob = defineJob(import.meta.url, 'myJob', (env, args) => …)`
 *    in a module that has no side effects on import (it is imported once per worker).
 *    The export name must be the name of the export (workers look it up by it).
 * 2. The function builds everything that runs in subtasks: sources, functions, sinks,
 *    state backend and clock (`env.setStateBackend` inside the function). The main
 *    thread's environment keeps executor, parallelism, checkpointing, restarts and
 *    savepoints; workers get its parallelism and max parallelism before the call.
 * 3. `args` must be structured-cloneable; records crossing workers too (plain data).
 * 4. With `executeAndCollect`, the function returns the stream that is collected.
 *
 * A worker whose graph differs from the main thread's (names, uids, parallelism, edges)
 * refuses to run with an `INVALID_CONFIG` error naming the first difference.
 */
import type { DataStream } from './datastream.ts';
import type { StreamExecutionEnvironment } from './environment.ts';
import { ConfigurationError } from '../api/errors.ts';

/**
 * What a job function may return: nothing (it added its sinks) or the stream
 * `executeAndCollect` collects. (`any`: DataStream is invariant in its element type.)
 */
export type JobResult = DataStream<any> | void;

/** The job function: builds the graph on `env`. */
export type JobFunction<A, R extends JobResult> = (env: StreamExecutionEnvironment, args: A) => R;

/** A job that can be rebuilt in any thread from its module (see the module comment for the rule). */
export class JobDefinition<A = undefined, R extends JobResult = JobResult> {
  /** @internal */
  constructor(
    /** The URL of the defining module (`import.meta.url`). */
    readonly moduleUrl: string,
    /** The name the definition is exported under. */
    readonly exportName: string,
    private readonly fn: JobFunction<A, R>,
  ) {}

  /**
   * Builds the job's graph on `env` and records its origin, so that a worker executor
   * can rebuild it in each worker. Returns what the job function returns.
   */
  build(env: StreamExecutionEnvironment, args: A): R {
    const origin = { moduleUrl: this.moduleUrl, exportName: this.exportName, args };
    env.setJobOrigin(origin);
    try {
      return this.fn(env, args);
    } finally {
      // A job function may build another definition inside (composition); the outermost
      // one is what workers must rebuild, not the inner one that set its origin last.
      env.setJobOrigin(origin);
    }
  }
}

/** Defines a job that workers can rebuild: `export const wordCount = defineJob(import.meta.url, 'wordCount', (env, args) => …)`. */
export function defineJob<A = undefined, R extends JobResult = JobResult>(moduleUrl: string, exportName: string, fn: JobFunction<A, R>): JobDefinition<A, R> {
  if (typeof moduleUrl !== 'string' || !/^[a-z][a-z0-9+.-]*:/i.test(moduleUrl)) {
    throw new ConfigurationError(`defineJob() needs the module's URL (import.meta.url) first, got ${JSON.stringify(moduleUrl)}`, { component: 'job' });
  }
  if (typeof exportName !== 'string' || exportName.length === 0)
    throw new ConfigurationError('defineJob() needs the export name of the definition', { component: 'job' });
  if (typeof fn !== 'function') throw new ConfigurationError('defineJob() needs a job function (env, args) => …', { component: 'job' });
  return new JobDefinition(moduleUrl, exportName, fn);
}

/** True for a {@link JobDefinition}, also one from another copy of the module (checked by shape). */
export function isJobDefinition(value: unknown): value is JobDefinition<unknown, JobResult> {
  return (
    value instanceof JobDefinition ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as JobDefinition).build === 'function' &&
      typeof (value as JobDefinition).moduleUrl === 'string')
  );
}
