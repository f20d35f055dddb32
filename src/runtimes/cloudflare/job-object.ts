/**
 * The Durable Object side of a hosted keyed job: one object is one subtask, owning the
 * key-group range `keyGroupRangeForSubtask(maxParallelism, parallelism, index)`.
 *
 * Exactly-once, per object (README, "Exactly-once in Durable Objects"): a batch is applied
 * inside one `ctx.storage.transaction()`. Its state writes, the operator's timers and
 * operator state, the watermark, the batch id and the batch's output commit together or
 * not at all (on a SQLite-backed object every storage operation made while the closure runs,
 * `sql.exec()` included and across `await`s, belongs to the transaction and a throw rolls
 * it back: https://developers.cloudflare.com/durable-objects/api/storage-api/). A batch
 * whose id is stored is answered with its stored output and not applied again. After any
 * failure the object drops what it holds in memory and reloads from storage, as a Flink
 * job restarts from its last checkpoint: here every batch is one.
 *
 * Output leaves only after its state is durable: the answer is sent after the transaction
 * committed, and the runtime's output gate holds every outgoing message until the writes
 * before it are confirmed ("output gate", https://developers.cloudflare.com/durable-objects/reference/glossary/).
 */
import { EddyError } from '../../api/errors.ts';
import { StreamExecutionEnvironment } from '../../datastream/environment.ts';
import { loadCheckpoint } from '../../engine/checkpoint-restore.ts';
import type { OperatorRestore, OperatorSnapshot } from '../../engine/operators/operator.ts';
import { decodePart, encodePart, partHandle, type PartHandle } from '../../format/checkpoint-format.ts';
import type { Key } from '../../format/key-bytes.ts';
import { keyGroupRangeForSubtask } from '../../format/key-groups.ts';
import type { ResolvedJobOptions, SubtaskBatch, SubtaskResult } from './job-config.ts';
import { HostedOperator } from './hosted-operator.ts';
import type { JobObjectState, JobSqlValue } from './job-platform.ts';

const SCHEMA = [
  'CREATE TABLE IF NOT EXISTS eddy_job_meta (name TEXT PRIMARY KEY, value BLOB)',
  'CREATE TABLE IF NOT EXISTS eddy_job_batches (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, result TEXT NOT NULL)',
  'CREATE INDEX IF NOT EXISTS eddy_job_batches_seq ON eddy_job_batches (seq)',
  'CREATE TABLE IF NOT EXISTS eddy_job_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, emitted TEXT NOT NULL)',
];

/** Where an object stands: which subtask it is and how far it got. */
interface Layout {
  readonly subtask: number;
  readonly parallelism: number;
  readonly maxParallelism: number;
}

/** A savepoint request from the Worker. */
export interface SavepointRequest {
  readonly dir: string;
  readonly checkpointId: number;
  readonly subtask: number;
  readonly parallelism: number;
}

/** The job's state machinery inside one Durable Object. */
export class JobObjectHost<K extends Key, IN, OUT> {
  private host: HostedOperator<K, IN, OUT> | undefined;
  /** Whether the backend keeps keyed state in the object's storage (then only timers and operator state are copied per batch). */
  private keyedInStorage = false;
  /** Serialises batches, alarms and savepoints: a user function that awaits I/O would let the next one in. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly options: ResolvedJobOptions<K, IN, OUT>,
    private readonly state: JobObjectState,
    private readonly env: Record<string, unknown>,
  ) {
    for (const statement of SCHEMA) state.storage.sql.exec(statement);
  }

  /** The object's `fetch`: `POST /batch` and `POST /savepoint` from the Worker. */
  async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    try {
      if (request.method === 'POST' && path === '/batch') return Response.json(await this.processBatch((await request.json()) as SubtaskBatch));
      if (request.method === 'POST' && path === '/savepoint') return Response.json(await this.savepoint((await request.json()) as SavepointRequest));
      if (request.method === 'POST' && path === '/layout') {
        const { subtask, parallelism } = (await request.json()) as { subtask: number; parallelism: number };
        this.checkLayout(this.layout(), subtask, parallelism);
        return Response.json({ ok: true });
      }
      return new Response('not found', { status: 404 });
    } catch (e) {
      return errorResponse(e);
    }
  }

  /** Applies a batch exactly once and answers with its output. */
  processBatch(batch: SubtaskBatch): Promise<SubtaskResult> {
    return this.serial(async () => {
      const stored = this.sql('SELECT result FROM eddy_job_batches WHERE id = ?', batch.id)[0];
      if (stored !== undefined) return { ...(JSON.parse(stored.result as string) as SubtaskResult), replayed: true };
      const host = await this.load(batch.subtask, batch.parallelism);
      const seq = this.nextSeq();
      const result = await this.state.storage.transaction(async () => {
        // Output of timers that fired on the alarm since the last batch goes out with this one.
        const earlier = this.sql('SELECT emitted FROM eddy_job_outbox ORDER BY seq');
        this.sql('DELETE FROM eddy_job_outbox');
        await host.processEvents(batch.events as IN[], batch.watermark);
        const emitted = host.takeEmitted();
        const output: unknown[] = [];
        const sideOutputs: Record<string, unknown[]> = {};
        for (const row of earlier) merge(output, sideOutputs, JSON.parse(row.emitted as string));
        merge(output, sideOutputs, emitted);
        const result: SubtaskResult = { id: batch.id, output, sideOutputs, replayed: false, watermark: finite(host.watermark) };
        await this.persist(host, seq);
        this.sql('INSERT INTO eddy_job_batches (id, seq, result) VALUES (?, ?, ?)', batch.id, seq, JSON.stringify(result));
        this.sql('DELETE FROM eddy_job_batches WHERE seq <= ?', seq - this.options.retainedBatches);
        return result;
      });
      await host.notifyCommitted(seq);
      return result;
    });
  }

  /** The object's `alarm`: fires the due processing-time timers; their output waits in the outbox. */
  alarm(): Promise<void> {
    return this.serial(async () => {
      const layout = this.layout();
      if (layout === undefined) return;
      const host = await this.load(layout.subtask, layout.parallelism);
      const seq = this.nextSeq();
      await this.state.storage.transaction(async () => {
        await host.fireProcessingTime(Date.now());
        const emitted = host.takeEmitted();
        if (emitted.output.length > 0 || Object.keys(emitted.sideOutputs).length > 0) {
          this.sql('INSERT INTO eddy_job_outbox (emitted) VALUES (?)', JSON.stringify(emitted));
        }
        await this.persist(host, seq);
      });
      await host.notifyCommitted(seq);
    });
  }

  /** Writes this object's whole state as part `<dir>/<uid>-<subtask>` of a savepoint. */
  savepoint(request: SavepointRequest): Promise<PartHandle> {
    return this.serial(async () => {
      const storage = this.checkpointStorage();
      const host = await this.load(request.subtask, request.parallelism);
      const bytes = encodePart(await host.snapshot(request.checkpointId, true));
      const path = `${request.dir}/${this.options.uid}-${request.subtask}`;
      await storage.put(path, bytes);
      return partHandle(path, bytes);
    });
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => {});
    return run.catch(async (e) => {
      // Memory may be ahead of the rolled-back storage: start over from storage.
      const host = this.host;
      this.host = undefined;
      await host?.discard().catch(() => {});
      throw e;
    });
  }

  private layout(): Layout | undefined {
    const row = this.sql("SELECT value FROM eddy_job_meta WHERE name = 'layout'")[0];
    return row === undefined ? undefined : (JSON.parse(row.value as string) as Layout);
  }

  /** Refuses to serve as another subtask, or at another parallelism, than the object was started as. */
  private checkLayout(layout: Layout | undefined, subtask: number, parallelism: number): void {
    const { options } = this;
    if (layout !== undefined && (layout.subtask !== subtask || layout.parallelism !== parallelism || layout.maxParallelism !== options.maxParallelism)) {
      throw new EddyError(
        'INVALID_CONFIG',
        `this object is subtask ${layout.subtask} of ${layout.parallelism} (maxParallelism ${layout.maxParallelism}), asked to be subtask ${subtask} of ${parallelism} (maxParallelism ${options.maxParallelism}): change the parallelism through a savepoint, into objects of a new jobId`,
        { component: 'runtime:cloudflare', operator: options.name },
      );
    }
  }

  /** The operator in memory, started from the object's storage (or the job's savepoint on first use). */
  private async load(subtask: number, parallelism: number): Promise<HostedOperator<K, IN, OUT>> {
    const { options } = this;
    const layout = this.layout();
    this.checkLayout(layout, subtask, parallelism);
    if (this.host !== undefined) return this.host;
    // Without a backend of its own, the object keeps keyed state where a job does by default (on the heap).
    const backend = options.stateBackend?.(this.state) ?? StreamExecutionEnvironment.getExecutionEnvironment().getStateBackend();
    this.keyedInStorage = options.keyedStateInStorage ?? backend.name === 'durable-object';
    let restore: OperatorRestore | undefined;
    let watermark = -Infinity;
    if (layout !== undefined) {
      const saved = this.sql("SELECT value FROM eddy_job_meta WHERE name = 'state'")[0];
      const wm = this.sql("SELECT value FROM eddy_job_meta WHERE name = 'watermark'")[0];
      if (wm !== undefined) watermark = Number(wm.value);
      if (saved !== undefined) {
        const bytes = new Uint8Array(saved.value as ArrayBuffer);
        const snap = decodePart(bytes, partHandle('eddy_job_meta/state', bytes));
        restore = restoreOf(snap);
      }
    } else if (options.fromSavepoint !== undefined) {
      const loaded = await loadCheckpoint(this.checkpointStorage(), options.fromSavepoint);
      restore = loaded.restoreFor(options.uid, subtask, parallelism);
    }
    const storedTimers = options.timers?.(this.state, {
      scope: `${options.jobId}/${options.uid}/${subtask}`,
      keyGroupRange: keyGroupRangeForSubtask(options.maxParallelism, parallelism, subtask),
      operatorName: `${options.name} (${subtask + 1}/${parallelism})`,
    });
    const host = await HostedOperator.start(options, backend, subtask, parallelism, watermark, restore, storedTimers);
    if (layout === undefined) {
      await this.state.storage.transaction(async () => {
        this.sql(
          "INSERT INTO eddy_job_meta (name, value) VALUES ('layout', ?)",
          JSON.stringify({ subtask, parallelism, maxParallelism: options.maxParallelism }),
        );
        await this.persist(host, 0);
      });
    }
    this.host = host;
    return host;
  }

  /** The operator's state, timers and watermark as of now, into the open transaction. */
  private async persist(host: HostedOperator<K, IN, OUT>, seq: number): Promise<void> {
    const snap = await host.snapshot(seq, !this.keyedInStorage);
    const bytes = encodePart(snap);
    this.sql("INSERT OR REPLACE INTO eddy_job_meta (name, value) VALUES ('state', ?)", bytes.slice().buffer);
    this.sql("INSERT OR REPLACE INTO eddy_job_meta (name, value) VALUES ('watermark', ?)", String(host.watermark));
    this.sql("INSERT OR REPLACE INTO eddy_job_meta (name, value) VALUES ('seq', ?)", seq);
    const wake = host.nextProcessingTime();
    const alarm = await this.state.storage.getAlarm();
    if (wake === undefined) {
      if (alarm !== null) await this.state.storage.deleteAlarm();
    } else if (alarm !== wake) await this.state.storage.setAlarm(wake);
  }

  private nextSeq(): number {
    const row = this.sql("SELECT value FROM eddy_job_meta WHERE name = 'seq'")[0];
    return (row === undefined ? 0 : Number(row.value)) + 1;
  }

  private checkpointStorage() {
    const make = this.options.checkpointStorage;
    if (make === undefined) {
      throw new EddyError('INVALID_CONFIG', 'savepoints need a checkpoint storage: keyedJob({ checkpointStorage: (env) => … })', {
        component: 'runtime:cloudflare',
        operator: this.options.name,
      });
    }
    return make(this.env);
  }

  private sql(query: string, ...bindings: unknown[]): Array<Record<string, JobSqlValue>> {
    return this.state.storage.sql.exec(query, ...bindings).toArray();
  }
}

function restoreOf(snap: OperatorSnapshot): OperatorRestore {
  return { keyed: snap.keyed ? [snap.keyed] : [], timers: snap.timers ? [snap.timers] : [], operatorState: snap.operatorState };
}

function merge(output: unknown[], sideOutputs: Record<string, unknown[]>, emitted: { output: unknown[]; sideOutputs: Record<string, unknown[]> }): void {
  for (const v of emitted.output) output.push(v);
  for (const [tag, values] of Object.entries(emitted.sideOutputs)) (sideOutputs[tag] ??= []).push(...values);
}

function finite(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

/** An error as JSON with its stable code; the Worker passes it on. */
export function errorResponse(e: unknown): Response {
  const code = e instanceof EddyError ? e.code : 'JOB_FAILED';
  const message = e instanceof Error ? e.message : String(e);
  const status = code === 'INVALID_ARGUMENT' || code === 'INVALID_KEY' || code === 'INVALID_CONFIG' ? 400 : 500;
  return Response.json({ error: { code, message } }, { status });
}
