/**
 * `keyedJob()`: a keyed job (Flink's `keyBy(...).process(...)`) hosted in Durable Objects.
 *
 * ```ts
 * const job = keyedJob({ keyBy: (tx) => tx.accountId, process: new FraudDetector(), parallelism: 4 });
 * export const EddyJobObject = job.EddyJobObject;   // bound as EDDY_JOB in wrangler.toml
 * export default { fetch: job.fetch };
 * ```
 *
 * The Worker routes each event to the object of its key group's subtask; the object runs
 * the engine's `KeyedProcessOperator` over the user's function, with the same state,
 * timers, side outputs and collector as in the browser or Node.
 */
import type { Key } from '../../format/key-bytes.ts';
import { resolveJobOptions, type KeyedJobOptions, type ResolvedJobOptions } from './job-config.ts';
import { JobObjectHost } from './job-object.ts';
import type { JobObjectState } from './job-platform.ts';
import { JobRouter } from './job-worker.ts';

/** A Durable Object class hosting one subtask of the job per object. */
export interface KeyedJobObjectClass {
  new (
    state: JobObjectState,
    env: Record<string, unknown>,
  ): {
    fetch(request: Request): Promise<Response>;
    alarm(): Promise<void>;
  };
}

/** What `keyedJob()` returns: the Worker's handler, the object class, and the router for custom handlers. */
export interface KeyedJob<K extends Key, IN, OUT> {
  /** The Worker's `fetch`: `POST /events`, `GET /events` (WebSocket), `POST /savepoint`. */
  readonly fetch: (request: Request, env: Record<string, unknown>) => Promise<Response>;
  /** The Durable Object class; export it under the `class_name` of the binding. */
  readonly EddyJobObject: KeyedJobObjectClass;
  /** Routing and savepoints, for a Worker that handles its own routes. */
  readonly router: JobRouter<K, IN, OUT>;
  readonly options: ResolvedJobOptions<K, IN, OUT>;
}

/** Hosts a keyed job in Durable Objects; the options are checked at once (`ConfigurationError`). */
export function keyedJob<K extends Key, IN, OUT>(options: KeyedJobOptions<K, IN, OUT>): KeyedJob<K, IN, OUT> {
  const resolved = resolveJobOptions(options);
  const router = new JobRouter(resolved);
  class EddyJobObject {
    private readonly host: JobObjectHost<K, IN, OUT>;
    constructor(state: JobObjectState, env: Record<string, unknown>) {
      this.host = new JobObjectHost(resolved, state, env);
    }
    fetch(request: Request): Promise<Response> {
      return this.host.fetch(request);
    }
    alarm(): Promise<void> {
      return this.host.alarm();
    }
  }
  return { fetch: (request, env) => router.fetch(request, env), EddyJobObject, router, options: resolved };
}
