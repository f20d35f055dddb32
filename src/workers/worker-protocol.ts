/**
 * What the main thread and the workers of a {@link WorkerExecutor} tell each other, and
 * the platform interface the executor runs on (Node worker_threads, Web Workers). The
 * control plane is one ordered message stream per worker (its `postMessage`), so that
 * a worker's acknowledgements, commits and completion arrive in the order they happened.
 * Records travel directly between workers (see remote-channel.ts).
 */
import { EddyError, type EddyErrorCode } from '../api/errors.ts';
import { operatorIdOf, type JobGraph, type JobOrigin } from '../engine/graph.ts';
import { taskAddress, type JobPlan } from '../engine/plan.ts';

/**
 * What a message may move instead of copy: an ArrayBuffer or a port. The structural
 * stand-in for the DOM's `Transferable`, which the platform-free core cannot name.
 */
export type TransferableLike = ArrayBuffer | MessagePortLike;

/** Either end of a MessageChannel, or a worker's own message endpoint. */
export interface MessagePortLike {
  postMessage(message: unknown, transfer?: TransferableLike[]): void;
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  close(): void;
}

/** A worker as the main thread sees it. */
export interface SpawnedWorker {
  postMessage(message: unknown, transfer?: TransferableLike[]): void;
  /** Registers the handlers: every message, an error thrown out of the worker, its exit. */
  listen(handlers: { message(data: unknown): void; error(error: unknown): void; exit(reason: string): void }): void;
  /** Stops the worker at once (what a crash would do). */
  terminate(): Promise<void>;
  /** Node: an idle pooled worker must not keep the process alive (`unref`), a busy one must (`ref`). */
  ref?(): void;
  unref?(): void;
}

/** What a platform adapter provides (see src/runtimes/). */
export interface WorkerPlatform {
  /** Short name for messages: `node-worker-threads`, `web-workers`. */
  readonly name: string;
  /** Starts a worker running the eddy worker entry of this platform. */
  spawn(index: number): SpawnedWorker;
  /** A new MessageChannel whose ports can be transferred to workers. */
  createChannel(): { port1: MessagePortLike; port2: MessagePortLike };
  /**
   * The source batch size this platform's message costs call for, when not the one-thread
   * default (`WorkerExecutorOptions.sourceBatchSize` overrides it).
   */
  readonly sourceBatchSize?: number;
}

/** The worker a task runs in: subtask `i` of every chain goes to worker `i % workers`. */
export function workerOfSubtask(subtaskIndex: number, workers: number): number {
  return subtaskIndex % workers;
}

/** An error in a form that survives structured cloning. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code?: EddyErrorCode;
  readonly stack?: string;
}

/** Flattens an error for the wire. */
export function toWireError(e: unknown): WireError {
  if (e instanceof Error) return { name: e.name, message: e.message, code: (e as Partial<EddyError>).code, stack: e.stack };
  return { name: 'Error', message: String(e) };
}

/** An EddyError carrying a worker's error: same code and message (JOB_FAILED for non-eddy errors). */
export function fromWireError(w: WireError, worker: number): EddyError {
  const e = new EddyError(w.code ?? 'JOB_FAILED', '', { component: `executor:workers` });
  e.message = w.code ? w.message : `[eddy] [executor:workers] worker ${worker}: ${w.name}: ${w.message}`;
  if (w.stack) e.stack = `${w.stack}\n    (in worker ${worker})`;
  return e;
}

/**
 * A digest of the graph as executors see it: per node its name, uid, parallelism, kind
 * and input edges. Main thread and workers must agree on it, or the channels and state
 * of one would be wired to different operators in the other.
 */
export function graphFingerprint(graph: JobGraph, plan: JobPlan): string[] {
  const lines = [`maxParallelism=${graph.maxParallelism}`];
  for (const node of graph.nodes) {
    const kind = node.source ? 'source' : node.collect ? 'collect' : node.keyed ? 'keyed' : 'operator';
    const inputs = node.inputs.map((e) => `${e.from}:${e.partitioning.type}${e.input === 2 ? ':2' : ''}`).join(',');
    // A name taken from a class is left out: minifiers rename classes per bundle.
    lines.push(
      `#${node.id} ${node.nameFromClass ? '(class)' : JSON.stringify(node.name)} id=${operatorIdOf(node)} ${kind} p=${plan.nodes.get(node.id)!.parallelism} in=[${inputs}]`,
    );
  }
  return lines;
}

/** The tasks of a plan, with the worker each runs in. */
export function placedTasks(
  plan: JobPlan,
  workers: number,
): Array<{ address: string; head: number; subtask: number; name: string; isSource: boolean; worker: number }> {
  const out = [];
  for (const p of plan.nodes.values()) {
    if (p.chainedTo !== undefined) continue;
    for (let i = 0; i < p.parallelism; i++) {
      out.push({
        address: taskAddress(p.node.id, i),
        head: p.node.id,
        subtask: i,
        name: `${p.node.name} (${i + 1}/${p.parallelism})`,
        isSource: p.node.source !== undefined,
        worker: workerOfSubtask(i, workers),
      });
    }
  }
  return out;
}

/** One operator subtask's restored state, encoded with the canonical codec. */
export interface WireRestore {
  readonly operatorId: string;
  readonly subtaskIndex: number;
  readonly bytes: Uint8Array;
}

/** Main → worker: build the graph and deploy this worker's share of the attempt. */
export interface DeployMessage {
  readonly t: 'deploy';
  readonly worker: number;
  readonly workers: number;
  readonly jobId: string;
  readonly jobName: string;
  readonly origin: JobOrigin;
  readonly defaultParallelism: number;
  /** The job's auto-watermark interval (ms), as the main thread's environment had it. */
  readonly autoWatermarkInterval?: number;
  readonly maxParallelism: number;
  readonly fingerprint: string[];
  /** Checkpoint barriers aligned (exactly-once); undefined without checkpointing. */
  readonly aligned: boolean | undefined;
  readonly restore: WireRestore[];
  /** One port per other worker, to exchange records with it. */
  readonly peers: Array<{ readonly worker: number; readonly port: MessagePortLike }>;
  /** The id of the main thread's collect results, when the job is collected. */
  readonly collectId: string | undefined;
  /** True when collected records go to the main thread as emitted (executeAndCollectAsync without checkpointing). */
  readonly collectImmediate?: boolean;
  /** Elements a channel may have in flight before its sender waits for credit. */
  readonly credits: number;
  /** How long a task may process its input before it lets the worker's host in (ms; `WorkerExecutorOptions.inputYieldIntervalMs`). */
  readonly inputYieldIntervalMs: number;
  /** Records a source task polls at a time (`WorkerExecutorOptions.sourceBatchSize`). */
  readonly sourceBatchSize: number;
}

/** Main → worker. */
export type ToWorker =
  | DeployMessage
  | { readonly t: 'run' }
  | { readonly t: 'trigger'; readonly task: string; readonly id: number; readonly timestamp: number; readonly incremental: boolean }
  | {
      readonly t: 'call';
      readonly req: number;
      readonly op: 'notify' | 'notify-aborted' | 'final-snapshot' | 'final-commit' | 'close' | 'reset' | 'metrics' | 'query';
      readonly task?: string;
      readonly id?: number;
      /** query: the operator's uid and the key (JobClient.queryState). */
      readonly operatorId?: string;
      readonly key?: unknown;
      /** final-snapshot: no checkpoint keeps it, so only the functions' hooks run (sinks pre-commit). */
      readonly hooksOnly?: boolean;
    };

/** An encoded part of a checkpoint, sent from the worker that took it. */
export interface WirePart {
  readonly operatorId: string;
  readonly subtaskIndex: number;
  readonly incremental: boolean;
  readonly bytes: Uint8Array;
}

/** Worker → main. */
export type FromWorker =
  | { readonly t: 'deployed' }
  | { readonly t: 'finished' }
  | { readonly t: 'failed'; readonly error: WireError }
  | { readonly t: 'ack'; readonly task: string; readonly id: number; readonly parts: WirePart[]; readonly syncMs?: number }
  | { readonly t: 'ack-failed'; readonly task: string; readonly id: number; readonly error: WireError }
  | { readonly t: 'task-finished'; readonly task: string }
  | { readonly t: 'collect'; readonly txn: string; readonly records: unknown[] }
  | { readonly t: 'reply'; readonly req: number; readonly error?: WireError; readonly value?: unknown };
