/**
 * `WorkerExecutor`: runs a job's subtasks in workers (Node worker_threads or Web
 * Workers, through a {@link WorkerPlatform} adapter from src/runtimes/), so that
 * `setParallelism(p)` uses real cores. Subtask `i` of every operator chain runs in
 * worker `i % workers`; each worker rebuilds the graph from the job's module (see
 * `defineJob`) and runs its share with the local machinery.
 *
 * What stays in the main thread: the job runner (attempts, restarts, restore), the
 * checkpoint coordinator (it triggers checkpoints, receives each task's encoded parts,
 * writes them to the checkpoint storage and commits the manifest), and the results of
 * `executeAndCollect`. When a task fails, or a worker throws out or is terminated, the
 * attempt fails: every surviving worker unwinds its share (`reset`; terminated if it
 * does not within 5 s), dead workers are replaced, and the job runner restarts from the
 * latest complete checkpoint with the executor's number of workers (restore
 * redistributes key groups, so that number may differ from the checkpoint's).
 */
import { ConfigurationError, EddyError } from '../../api/errors.ts';
import type { PartSource } from '../checkpoint/coordinator.ts';
import { serializeValue } from '../codec.ts';
import { operatorIdOf, type JobGraph } from '../graph.ts';
import { FINAL_CHECKPOINT_ID, type Deployment, type ExecutionOptions, type Executor } from './local-executor.ts';
import { planJob } from './plan.ts';
import type { CoordinatedTask } from './task.ts';
import { isWorkerCrash, WorkerPool, type PooledWorker } from './worker-pool.ts';
import {
  fromWireError,
  graphFingerprint,
  placedTasks,
  workerOfSubtask,
  type FromWorker,
  type MessagePortLike,
  type ToWorker,
  type WireRestore,
  type WorkerPlatform,
} from './worker-protocol.ts';

/** How a {@link WorkerExecutor} runs jobs. */
export interface WorkerExecutorOptions {
  /** Number of workers (threads); subtask `i` runs in worker `i % workers`. */
  readonly workers: number;
  /** The platform adapter, e.g. `nodeWorkerThreads()` or `webWorkers()` from src/runtimes/. */
  readonly platform: WorkerPlatform;
  /** Elements a channel between workers may have in flight before its sender waits; default 8. */
  readonly credits?: number;
  /**
   * Workers kept started beyond `workers` (default 0): a worker that dies is then
   * replaced by a ready one instead of a thread that still has to load eddy and the job.
   */
  readonly spareWorkers?: number;
}

/** Runs each attempt of a job in a set of workers (kept in a pool between attempts and jobs). */
export class WorkerExecutor implements Executor {
  readonly name = 'workers';
  readonly workers: number;
  private readonly pool: WorkerPool;

  constructor(private readonly options: WorkerExecutorOptions) {
    if (!Number.isInteger(options?.workers) || options.workers < 1) throw new ConfigurationError(`WorkerExecutor needs { workers } as a positive integer, got ${String(options?.workers)}`, { component: 'executor:workers' });
    if (!options.platform || typeof options.platform.spawn !== 'function') throw new ConfigurationError('WorkerExecutor needs a platform adapter (nodeWorkerThreads() or webWorkers())', { component: 'executor:workers' });
    this.workers = options.workers;
    this.pool = new WorkerPool(options.platform, options.spareWorkers ?? 0);
  }

  /** Deploys an attempt; a worker that dies while deploying (not a job error) costs a retry, not the attempt. */
  async deploy(graph: JobGraph, options: ExecutionOptions): Promise<Deployment> {
    for (let retry = 0; ; retry++) {
      try {
        return await this.deployOnce(graph, options);
      } catch (e) {
        if (!isWorkerCrash(e) || retry >= 2) throw e;
      }
    }
  }

  /** Terminates the idle workers; call when no more jobs will run on this executor (a Node process exits anyway). */
  shutdown(): Promise<void> {
    return this.pool.shutdown();
  }

  private async deployOnce(graph: JobGraph, options: ExecutionOptions): Promise<Deployment> {
    const origin = graph.origin;
    if (!origin) {
      throw new ConfigurationError('a job run by a WorkerExecutor must be built by a defineJob() job (myJob.build(env, args)): workers import its module to build the same functions', { component: 'executor:workers' });
    }
    const hooks = options.checkpointHooks;
    if (hooks && !hooks.acknowledgeParts) throw new ConfigurationError('the checkpoint hooks cannot receive parts from workers', { component: 'executor:workers' });
    const W = this.workers;
    const plan = planJob(graph);
    const layout = new Map([...plan.nodes.values()].map((p) => [operatorIdOf(p.node), p.parallelism]));
    const collect = graph.nodes.find((n) => n.collect)?.collect;
    const attempt = new Attempt(this.pool, this.pool.acquire(W));

    // Stand-ins for the tasks, so the coordinator can drive them like local ones.
    const tasks = new Map<string, RemoteTask>();
    for (const t of placedTasks(graph, W)) tasks.set(t.address, new RemoteTask(t.name, t.isSource, t.address, attempt, t.worker));

    let finalParts: { id: number; parts: PartSource[] } | undefined;
    attempt.onEvent = (worker, m) => {
      switch (m.t) {
        case 'ack': {
          const parts: PartSource[] = m.parts.map((p) => ({ operatorId: p.operatorId, subtaskIndex: p.subtaskIndex, incremental: p.incremental, bytes: () => p.bytes }));
          if (finalParts?.id === m.id) finalParts.parts.push(...parts);
          else hooks?.acknowledgeParts!(tasks.get(m.task)!, m.id, Promise.resolve(parts));
          return;
        }
        case 'ack-failed':
          hooks?.acknowledgeParts!(tasks.get(m.task)!, m.id, Promise.reject(fromWireError(m.error, worker)));
          return;
        case 'task-finished':
          hooks?.taskFinished(tasks.get(m.task)!);
          return;
        case 'collect':
          collect?.commit(m.txn, m.records);
          return;
      }
    };

    try {
      const restores = Array.from({ length: W }, (): WireRestore[] => []);
      if (options.restore) {
        for (const p of plan.nodes.values()) {
          const operatorId = operatorIdOf(p.node);
          for (let i = 0; i < p.parallelism; i++) {
            const restore = options.restore(operatorId, i, p.parallelism);
            if (restore) restores[workerOfSubtask(i, W)].push({ operatorId, subtaskIndex: i, bytes: serializeValue(restore) });
          }
        }
      }
      const fingerprint = graphFingerprint(graph);
      await attempt.start((w, peers) => ({
        t: 'deploy',
        worker: w,
        workers: W,
        jobId: options.jobId,
        jobName: graph.jobName,
        origin,
        defaultParallelism: graph.defaultParallelism,
        maxParallelism: graph.maxParallelism,
        fingerprint,
        aligned: hooks?.aligned,
        restore: restores[w],
        peers,
        collectId: collect?.id,
        credits: this.options.credits ?? 8,
      }));
    } catch (e) {
      await attempt.close();
      throw e;
    }

    const nonReplayableSources = graph.nodes.filter((n) => n.source && n.source.source.replayable !== true).map((n) => n.name);
    return {
      tasks: [...tasks.values()],
      layout,
      nonReplayableSources,
      fail: (e) => attempt.fail(e),
      run: () => attempt.run(),
      finalCheckpoint: async () => {
        // Two phases: all final snapshots, persisted as a complete checkpoint, before any sink commits.
        const id = hooks?.reserveCheckpointId?.() ?? FINAL_CHECKPOINT_ID;
        const parts: PartSource[] = [];
        finalParts = { id, parts };
        await Promise.all(Array.from({ length: W }, (_, w) => attempt.call(w, { op: 'final-snapshot', id })));
        finalParts = undefined;
        await hooks?.commitFinalCheckpoint?.(id, parts);
        await Promise.all(Array.from({ length: W }, (_, w) => attempt.call(w, { op: 'final-commit', id })));
      },
      close: () => attempt.close(),
    };
  }
}

/** The main thread's stand-in for a task running in a worker. */
class RemoteTask implements CoordinatedTask {
  constructor(
    readonly name: string,
    readonly isSource: boolean,
    private readonly address: string,
    private readonly attempt: Attempt,
    private readonly worker: number,
  ) {}

  triggerCheckpoint(checkpointId: number, timestamp: number, incremental: boolean): void {
    this.attempt.post(this.worker, { t: 'trigger', task: this.address, id: checkpointId, timestamp, incremental });
  }

  notifyCheckpointComplete(checkpointId: number): Promise<void> {
    // As in one thread: a failing attempt never delivers it; the restart restores and commits instead.
    return Promise.race([this.attempt.call(this.worker, { op: 'notify', task: this.address, id: checkpointId }).catch(() => {}), this.attempt.failed]);
  }
}

type CallOp = Omit<Extract<ToWorker, { t: 'call' }>, 't' | 'req'>;

/** How long a worker may take to unwind an attempt before it is terminated instead. */
const RESET_TIMEOUT_MS = 5_000;

/** The workers of one attempt and the state of their conversation. */
class Attempt {
  private failure: EddyError | undefined;
  private ended = false;
  private nextReq = 0;
  private readonly calls = new Map<number, { resolve(): void; reject(e: unknown): void }>();
  private deployed = 0;
  private finished = 0;
  private onDeployed!: () => void;
  private onFinished!: () => void;
  private onFailure!: (e: EddyError) => void;
  private readonly deployedAll = new Promise<void>((resolve) => (this.onDeployed = resolve));
  private readonly finishedAll = new Promise<void>((resolve) => (this.onFinished = resolve));
  /** Rejects with the attempt's first failure. */
  private readonly failing = new Promise<never>((_, reject) => (this.onFailure = reject));
  /** Resolves once the attempt failed. */
  readonly failed: Promise<void> = this.failing.catch(() => {});
  /** Events the executor handles (acks, commits, finished tasks). */
  onEvent: (worker: number, message: FromWorker) => void = () => {};

  constructor(
    private readonly pool: WorkerPool,
    private readonly workers: readonly PooledWorker[],
  ) {
    this.failing.catch(() => {});
    workers.forEach((w, i) => {
      w.route = { message: (data) => this.receive(i, data as FromWorker), crashed: (e) => this.fail(e) };
    });
  }

  /** Connects every pair of workers with a channel, deploys, and waits until all are deployed. */
  async start(deployMessage: (worker: number, peers: Array<{ worker: number; port: MessagePortLike }>) => ToWorker): Promise<void> {
    const n = this.workers.length;
    const peers = Array.from({ length: n }, (): Array<{ worker: number; port: MessagePortLike }> => []);
    for (let a = 0; a < n; a++) {
      for (let b = a + 1; b < n; b++) {
        const { port1, port2 } = this.pool.platform.createChannel();
        peers[a].push({ worker: b, port: port1 });
        peers[b].push({ worker: a, port: port2 });
      }
    }
    for (let w = 0; w < n; w++) {
      if (this.workers[w].dead) this.fail(new EddyError('JOB_FAILED', `worker #${this.workers[w].id} died before the attempt began`, { component: 'executor:workers' }));
      this.post(w, deployMessage(w, peers[w]), peers[w].map((p) => p.port as unknown as Transferable));
    }
    await Promise.race([this.deployedAll, this.failing]);
  }

  post(worker: number, message: ToWorker, transfer?: Transferable[]): void {
    if (this.failure || this.ended || this.workers[worker].dead) return;
    this.workers[worker].handle.postMessage(message, transfer);
  }

  /** Asks a worker to do something and resolves once it did (rejects with its error, or the attempt's failure). */
  call(worker: number, op: CallOp): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return Promise.race([this.request(worker, op), this.failing]);
  }

  /** Starts every worker's tasks; resolves when all finished, rejects with the first failure. */
  run(): Promise<void> {
    for (let w = 0; w < this.workers.length; w++) this.post(w, { t: 'run' });
    return Promise.race([this.finishedAll, this.failing]);
  }

  /** Fails the attempt; `close` then resets the workers (or terminates those that do not come back). */
  fail(error: unknown): void {
    if (this.failure || this.ended) return;
    this.failure = error instanceof EddyError ? error : new EddyError('JOB_FAILED', error instanceof Error ? error.message : String(error), { component: 'executor:workers' }, { cause: error });
    this.onFailure(this.failure);
    // Tasks blocked on a dead peer would wait forever: unwind everyone now.
    void this.close();
  }

  private closing: Promise<unknown> | undefined;

  /** Ends the attempt: closes the operators after a successful run, resets every worker and returns it to the pool. */
  close(): Promise<unknown> {
    return (this.closing ??= this.doClose());
  }

  private async doClose(): Promise<unknown> {
    let first: unknown = undefined;
    if (!this.failure) {
      const results = await Promise.allSettled(this.workers.map((_, w) => this.call(w, { op: 'close' })));
      first = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
    }
    await Promise.all(
      this.workers.map(async (worker, w) => {
        if (!worker.dead) {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), RESET_TIMEOUT_MS)));
          const outcome = await Promise.race([this.request(w, { op: 'reset' }).then(() => 'ok', () => 'error'), timeout]);
          clearTimeout(timer);
          if (outcome !== 'ok') await worker.terminate();
        }
        this.pool.release(worker);
      }),
    );
    this.ended = true;
    return first;
  }

  private request(worker: number, op: CallOp): Promise<void> {
    const req = this.nextReq++;
    const done = new Promise<void>((resolve, reject) => this.calls.set(req, { resolve, reject }));
    if (this.workers[worker].dead) return Promise.reject(new EddyError('JOB_FAILED', `worker #${this.workers[worker].id} is dead`, { component: 'executor:workers' }));
    this.workers[worker].handle.postMessage({ t: 'call', req, ...op } satisfies ToWorker);
    return done;
  }

  private receive(worker: number, m: FromWorker): void {
    if (m.t === 'reply') {
      const call = this.calls.get(m.req);
      this.calls.delete(m.req);
      if (m.error) call?.reject(fromWireError(m.error, worker));
      else call?.resolve();
      return;
    }
    if (this.failure || this.ended) return;
    switch (m.t) {
      case 'deployed':
        if (++this.deployed === this.workers.length) this.onDeployed();
        return;
      case 'finished':
        if (++this.finished === this.workers.length) this.onFinished();
        return;
      case 'failed':
        this.fail(fromWireError(m.error, worker));
        return;
      default:
        this.onEvent(worker, m);
    }
  }
}
