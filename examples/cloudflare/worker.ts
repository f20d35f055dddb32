/**
 * The fraud-detection example as a Cloudflare Worker: transactions are posted to the
 * Worker (`POST /events`), routed by account to the Durable Object that owns the
 * account's key group, and checked there by the same `FraudDetector` that runs in Node
 * (`examples/fraud-detection.ts`). The answer to a batch holds the alerts it raised.
 *
 * In a project of your own the imports are `eddy` and `eddy/cloudflare`.
 */
import { WatermarkStrategy } from '../../src/api/watermarks.ts';
import { DurableObjectStateBackend, DurableObjectTimers, keyedJob } from '../../src/runtimes/cloudflare/index.ts';
import { FraudDetector, type Alert, type Transaction } from '../fraud-detector.ts';

const job = keyedJob<string, Transaction, Alert>({
  name: 'fraud-detection',
  keyBy: (tx) => tx.accountId,
  process: new FraudDetector(),
  // Four Durable Objects, each owning a quarter of the 128 key groups.
  parallelism: 4,
  // Keyed state and timers in each object's own SQLite, committed with every batch.
  stateBackend: (ctx) => new DurableObjectStateBackend(ctx.storage),
  timers: (ctx, subtask) => new DurableObjectTimers(ctx.storage, subtask),
  watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Transaction>(5_000).withTimestampAssigner((tx) => tx.ts),
});

/** The Durable Object class bound as `EDDY_JOB` in wrangler.toml. */
export const EddyJobObject = job.EddyJobObject;

export default { fetch: job.fetch };
