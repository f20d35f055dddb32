/**
 * The Worker of the `edge` bench: two Durable Object classes counting events per key.
 * `EddyJobObject` is a keyed job (`keyedJob`, parallelism 1) on `DurableObjectStateBackend`;
 * `HeapJobObject` is the same job with keyed state on the heap (informative);
 * `RawCountObject` is what a programmer would write by hand: per batch one
 * `transactionSync` of `INSERT … ON CONFLICT DO UPDATE` upserts into `ctx.storage.sql`,
 * plus the batch id (so that a retry could be recognised, as eddy does). Events with
 * `report: true` ask for the key's count (both sides answer them the same way).
 */
import { ValueStateDescriptor } from '../src/api/descriptors.ts';
import { KeyedProcessFunction, type Collector, type RuntimeContext } from '../src/api/functions.ts';
import type { ValueState } from '../src/api/state.ts';
import { DurableObjectStateBackend, keyedJob } from '../src/runtimes/cloudflare/index.ts';
import type { JobObjectState } from '../src/runtimes/cloudflare/job-platform.ts';

/** A counted event; `report` asks for the count instead. */
export interface EdgeEvent {
  k: string;
  report?: boolean;
}

class Count extends KeyedProcessFunction<string, EdgeEvent, [string, number]> {
  private count!: ValueState<number>;
  override open(ctx: RuntimeContext): void {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
  }
  async processElement(e: EdgeEvent, _ctx: unknown, out: Collector<[string, number]>): Promise<void> {
    const c = (await this.count.value()) ?? 0;
    if (e.report === true) out.collect([e.k, c]);
    else await this.count.update(c + 1);
  }
}

const job = keyedJob<string, EdgeEvent, [string, number]>({
  name: 'edge-count',
  keyBy: (e) => e.k,
  process: new Count(),
  parallelism: 1,
  stateBackend: (ctx) => new DurableObjectStateBackend(ctx.storage),
});

/** The same job with keyed state on the heap, its snapshot written to storage per batch (informative line). */
const heapJob = keyedJob<string, EdgeEvent, [string, number]>({
  name: 'edge-count-heap',
  keyBy: (e) => e.k,
  process: new Count(),
  parallelism: 1,
  binding: 'HEAP_JOB',
});

/** The eddy side. */
export const EddyJobObject = job.EddyJobObject;
/** The eddy side with heap state. */
export const HeapJobObject = heapJob.EddyJobObject;

/** The hand-written side. */
export class RawCountObject {
  constructor(private readonly state: JobObjectState) {
    state.storage.sql.exec('CREATE TABLE IF NOT EXISTS counts (k TEXT PRIMARY KEY, c INTEGER NOT NULL) WITHOUT ROWID');
    state.storage.sql.exec('CREATE TABLE IF NOT EXISTS batches (id TEXT PRIMARY KEY)');
  }
  async fetch(request: Request): Promise<Response> {
    const { id, events } = (await request.json()) as { id: string; events: EdgeEvent[] };
    const sql = this.state.storage.sql;
    const output = this.state.storage.transactionSync(() => {
      const out: [string, number][] = [];
      sql.exec('INSERT INTO batches (id) VALUES (?)', id);
      for (const e of events) {
        if (e.report === true) out.push([e.k, Number(sql.exec('SELECT c FROM counts WHERE k = ?', e.k).toArray()[0]?.c ?? 0)]);
        else sql.exec('INSERT INTO counts (k, c) VALUES (?, 1) ON CONFLICT (k) DO UPDATE SET c = c + 1', e.k);
      }
      return out;
    });
    return Response.json({ id, output });
  }
}

export default {
  fetch(request: Request, env: Record<string, unknown>): Promise<Response> {
    if (new URL(request.url).pathname === '/raw') {
      const ns = env.RAW as { idFromName(n: string): unknown; get(id: unknown): { fetch(r: Request): Promise<Response> } };
      return ns.get(ns.idFromName('raw')).fetch(request);
    }
    if (new URL(request.url).pathname === '/heap/events') return heapJob.fetch(new Request(request.url.replace('/heap/events', '/events'), request), env);
    return job.fetch(request, env);
  },
};
