/**
 * The Worker side of a hosted keyed job: takes batches of JSON events (HTTP POST, or the
 * messages of a WebSocket), routes every event by eddy's key-group hash — the same
 * `keyGroupForKey` / `subtaskForKeyGroup` as every other runtime, so key groups and
 * savepoints are portable — to the object named after the subtask that owns the group,
 * and answers with what the objects emitted.
 */
import { EddyError } from '../../api/errors.ts';
import { encodeManifest, type Manifest } from '../../format/checkpoint-format.ts';
import { MANIFEST_NAME } from '../../format/checkpoint-storage.ts';
import type { Key } from '../../format/key-bytes.ts';
import { keyGroupForKey, subtaskForKeyGroup } from '../../format/key-groups.ts';
import type { ResolvedJobOptions, SubtaskBatch, SubtaskResult } from './job-config.ts';
import { errorResponse } from './job-object.ts';
import type { JobObjectNamespace, JobWebSocket } from './job-platform.ts';

/** A batch as a client posts it: `{ id, events, watermark? }` (or a bare array of events). */
export interface JobBatch<IN> {
  /** The batch's id: a retry with the same id is recognised and not applied twice. */
  readonly id?: string;
  readonly events: readonly IN[];
  /** A watermark for the whole stream, broadcast to every object (e.g. the end of input). */
  readonly watermark?: number;
}

/** What the Worker answers for a batch. */
export interface JobBatchResult<OUT> {
  readonly id: string;
  readonly output: OUT[];
  readonly sideOutputs: Record<string, unknown[]>;
  /** The subtasks that had applied this batch before and answered from storage. */
  readonly replayed: number[];
}

/** The Worker's request handler of a keyed job. */
export class JobRouter<K extends Key, IN, OUT> {
  /** Object 0 confirmed the job's parallelism (once per Worker isolate). */
  private layoutChecked: Promise<void> | undefined;

  constructor(private readonly options: ResolvedJobOptions<K, IN, OUT>) {}

  /**
   * Asks subtask 0 whether it runs at this parallelism before the first batch: a Worker
   * deployed with another parallelism over the same objects is refused before any object
   * applies anything (each object checks again, for the batches it gets).
   */
  private checkLayout(env: Record<string, unknown>): Promise<void> {
    this.layoutChecked ??= this.call<unknown>(env, 0, '/layout', { subtask: 0, parallelism: this.options.parallelism }).then(
      () => {},
      (e) => {
        this.layoutChecked = undefined;
        throw e;
      },
    );
    return this.layoutChecked;
  }

  /** The name of the object that is subtask `index` (of the job's parallelism). */
  objectName(index: number): string {
    return `${this.options.jobId}/${index}`;
  }

  /** `POST /events` (a batch), `GET /events` with `Upgrade: websocket` (a stream of batches), `POST /savepoint`. */
  async fetch(request: Request, env: Record<string, unknown>): Promise<Response> {
    const path = new URL(request.url).pathname;
    try {
      if (path === '/events' && request.headers.get('Upgrade') === 'websocket') return this.acceptWebSocket(env);
      if (path === '/events' && request.method === 'POST') return Response.json(await this.process(parseBatch<IN>(await request.json()), env));
      if (path === '/savepoint' && request.method === 'POST') {
        const body = (await request.json().catch(() => ({}))) as { checkpointId?: number };
        return Response.json({ path: await this.savepoint(env, body.checkpointId ?? Date.now()) });
      }
      return new Response('POST /events, GET /events (WebSocket) or POST /savepoint', { status: 404 });
    } catch (e) {
      return errorResponse(e);
    }
  }

  /** Routes a batch to the objects owning its events' key groups, in parallel, and gathers their output. */
  async process(batch: JobBatch<IN>, env: Record<string, unknown>): Promise<JobBatchResult<OUT>> {
    const { keyBy, maxParallelism, parallelism } = this.options;
    const id = batch.id ?? crypto.randomUUID();
    const perSubtask = new Map<number, IN[]>();
    for (const event of batch.events) {
      const subtask = subtaskForKeyGroup(maxParallelism, parallelism, keyGroupForKey(keyBy(event), maxParallelism));
      let list = perSubtask.get(subtask);
      if (list === undefined) perSubtask.set(subtask, (list = []));
      list.push(event);
    }
    // A declared watermark reaches every object, as Flink broadcasts watermarks to all channels;
    // so does an empty batch: a poll for what timers emitted on the alarms since.
    const everyone = batch.watermark !== undefined || batch.events.length === 0;
    const targets = everyone ? Array.from({ length: parallelism }, (_, i) => i) : [...perSubtask.keys()].sort((a, b) => a - b);
    await this.checkLayout(env);
    const results = await Promise.all(
      targets.map((subtask) =>
        this.call<SubtaskResult>(env, subtask, '/batch', {
          id,
          subtask,
          parallelism,
          events: perSubtask.get(subtask) ?? [],
          watermark: batch.watermark,
        } satisfies SubtaskBatch),
      ),
    );
    const output: OUT[] = [];
    const sideOutputs: Record<string, unknown[]> = {};
    const replayed: number[] = [];
    results.forEach((r, i) => {
      for (const v of r.output) output.push(v as OUT);
      for (const [tag, values] of Object.entries(r.sideOutputs)) (sideOutputs[tag] ??= []).push(...values);
      if (r.replayed) replayed.push(targets[i]);
    });
    return { id, output, sideOutputs, replayed };
  }

  /**
   * Takes a savepoint `<jobId>/savepoint-<checkpointId>`: every object writes its part, then
   * the manifest commits it. Take it while no batch is in flight (a batch half-applied
   * across objects would be half in it); a batch sent afterwards is not in it.
   */
  async savepoint(env: Record<string, unknown>, checkpointId: number): Promise<string> {
    const { options } = this;
    const make = options.checkpointStorage;
    if (make === undefined) {
      throw new EddyError('INVALID_CONFIG', 'savepoints need a checkpoint storage: keyedJob({ checkpointStorage: (env) => … })', {
        component: 'runtime:cloudflare',
        operator: options.name,
      });
    }
    const dir = `${options.jobId}/savepoint-${checkpointId}`;
    const parts = await Promise.all(
      Array.from({ length: options.parallelism }, (_, subtask) =>
        this.call<{ path: string; size: number; crc: number }>(env, subtask, '/savepoint', { dir, checkpointId, subtask, parallelism: options.parallelism }),
      ),
    );
    const manifest: Manifest = {
      jobId: options.jobId,
      checkpointId,
      timestamp: Date.now(),
      savepoint: true,
      maxParallelism: options.maxParallelism,
      operators: [{ operatorId: options.uid, parallelism: options.parallelism, parts: parts.map((p) => [p]) }],
    };
    await make(env).put(`${dir}/${MANIFEST_NAME}`, encodeManifest(manifest));
    return dir;
  }

  private namespace(env: Record<string, unknown>): JobObjectNamespace {
    const ns = env[this.options.binding] as JobObjectNamespace | undefined;
    if (ns === undefined || typeof ns.idFromName !== 'function') {
      throw new EddyError(
        'INVALID_CONFIG',
        `no Durable Object namespace bound as env.${this.options.binding}: bind the job's object class under that name in wrangler.toml`,
        {
          component: 'runtime:cloudflare',
          operator: this.options.name,
        },
      );
    }
    return ns;
  }

  private async call<T>(env: Record<string, unknown>, subtask: number, path: string, body: unknown): Promise<T> {
    const ns = this.namespace(env);
    const stub = ns.get(ns.idFromName(this.objectName(subtask)));
    const response = await stub.fetch(`https://eddy-job${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    const json = (await response.json()) as T & { error?: { code: string; message: string } };
    if (!response.ok) {
      const code = (json.error?.code ?? 'JOB_FAILED') as EddyError['code'];
      throw new EddyError(code, `subtask ${subtask}: ${json.error?.message ?? `status ${response.status}`}`, {
        component: 'runtime:cloudflare',
        operator: this.options.name,
      });
    }
    return json;
  }

  /** A WebSocket: every message is a batch, answered in order with its result (or `{ id, error }`). */
  private acceptWebSocket(env: Record<string, unknown>): Response {
    const Pair = (globalThis as unknown as { WebSocketPair?: new () => Record<0 | 1, JobWebSocket> }).WebSocketPair;
    if (Pair === undefined) return new Response('WebSockets need workerd (WebSocketPair)', { status: 426 });
    const pair = new Pair();
    const server = pair[1];
    server.accept();
    let queue: Promise<void> = Promise.resolve();
    server.addEventListener('message', (event) => {
      queue = queue.then(async () => {
        let id: string | undefined;
        try {
          const batch = parseBatch<IN>(JSON.parse(String(event.data)));
          id = batch.id;
          server.send(JSON.stringify(await this.process(batch, env)));
        } catch (e) {
          const code = e instanceof EddyError ? e.code : 'INVALID_ARGUMENT';
          server.send(JSON.stringify({ id, error: { code, message: e instanceof Error ? e.message : String(e) } }));
        }
      });
    });
    return new Response(null, { status: 101, webSocket: pair[0] } as ResponseInit);
  }
}

/** Checks a posted batch. */
function parseBatch<IN>(body: unknown): JobBatch<IN> {
  if (Array.isArray(body)) return { events: body as IN[] };
  const b = body as Partial<JobBatch<IN>> | null;
  const bad = (what: string) =>
    new EddyError('INVALID_ARGUMENT', `a batch is { id?: string, events: [...], watermark?: number }: ${what}`, { component: 'runtime:cloudflare' });
  if (typeof b !== 'object' || b === null || !Array.isArray(b.events)) throw bad('events is not an array');
  if (b.id !== undefined && (typeof b.id !== 'string' || b.id.length === 0 || b.id.length > 256))
    throw bad('id must be a non-empty string of at most 256 characters');
  if (b.watermark !== undefined && (typeof b.watermark !== 'number' || Number.isNaN(b.watermark))) throw bad('watermark must be a number');
  return b as JobBatch<IN>;
}
