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
import { ConfigurationError } from '../api/errors.ts';
import type { PartSource } from '../format/checkpoint-format.ts';
import { serializeValue } from '../format/value-codec.ts';
import { operatorIdOf, type JobGraph } from '../engine/graph.ts';
import { keyGroupRangeForSubtask, type KeyGroupRange } from '../format/key-groups.ts';
import type { OperatorRestore } from '../engine/operators/operator.ts';
import { FINAL_CHECKPOINT_ID, type Deployment, type ExecutionOptions, type Executor } from '../engine/executor.ts';
import { nonReplayableSources, operatorLayout, planJob } from '../engine/plan.ts';
import { SOURCE_BATCH_SIZE } from '../engine/task.ts';
import type { SubtaskSample } from '../engine/metrics.ts';
import { routeQuery, type KeyStateView } from '../engine/state-query.ts';
import { isWorkerCrash, WorkerPool } from './worker-pool.ts';
import { Attempt, RemoteTask } from './worker-attempt.ts';
import { fromWireError, graphFingerprint, placedTasks, workerOfSubtask, type WireRestore, type WorkerPlatform } from './worker-protocol.ts';

/** How a {@link WorkerExecutor} runs jobs. */
export interface WorkerExecutorOptions {
  /** Number of workers (threads); subtask `i` runs in worker `i % workers`. */
  readonly workers: number;
  /** The platform adapter, e.g. `nodeWorkerThreads()` or `webWorkers()` from src/runtimes/. */
  readonly platform: WorkerPlatform;
  /** Elements a channel between workers may have in flight before its sender waits; default 8. */
  readonly credits?: number;
  /**
   * How long (ms) a task in a worker may process its input before it lets the worker's
   * event loop in; default {@link DEFAULT_INPUT_YIELD_INTERVAL_MS}. Records and returned
   * credits from other workers arrive as messages, handled only between the worker's own
   * tasks, and a busy input loop is one long chain of microtasks: without these turns a
   * worker would answer its peers only once its input ran dry, and their sources wait.
   * Lower answers peers sooner for a few tens of µs per turn; `Infinity` turns it off.
   */
  readonly inputYieldIntervalMs?: number;
  /**
   * Records a source subtask in a worker reads at a time; default the platform's
   * `sourceBatchSize` (`webWorkers()`: 8,192), else 1,024 as in one thread. A batch is
   * split over the consumers, and each part that goes to another worker is one message:
   * fewer, larger messages cost less where messages are dear (Chromium), while more
   * records in flight at once cost the garbage collector more (Node).
   */
  readonly sourceBatchSize?: number;
  /**
   * Workers kept started beyond `workers` (default 0): a worker that dies is then
   * replaced by a ready one instead of a thread that still has to load eddy and the job.
   */
  readonly spareWorkers?: number;
}

/**
 * Default of `WorkerExecutorOptions.inputYieldIntervalMs`. Traced in Chromium
 * (workers-speedup at load 19–30, 9 runs per session), a worker waited on average 25 % of
 * a run between tasks without these turns (two sessions) and 7–12 % with 4 ms.
 */
export const DEFAULT_INPUT_YIELD_INTERVAL_MS = 4;

/** Runs each attempt of a job in a set of workers (kept in a pool between attempts and jobs). */
export class WorkerExecutor implements Executor {
  readonly name = 'workers';
  readonly workers: number;
  private readonly pool: WorkerPool;

  constructor(private readonly options: WorkerExecutorOptions) {
    if (!Number.isInteger(options?.workers) || options.workers < 1)
      throw new ConfigurationError(`WorkerExecutor needs { workers } as a positive integer, got ${String(options?.workers)}`, {
        component: 'executor:workers',
      });
    if (!options.platform || typeof options.platform.spawn !== 'function')
      throw new ConfigurationError('WorkerExecutor needs a platform adapter (nodeWorkerThreads() or webWorkers())', { component: 'executor:workers' });
    const interval = options.inputYieldIntervalMs;
    if (interval !== undefined && !(typeof interval === 'number' && interval >= 0))
      throw new ConfigurationError(`WorkerExecutor's inputYieldIntervalMs must be a number of ms >= 0 (Infinity: never), got ${String(interval)}`, {
        component: 'executor:workers',
      });
    const batch = options.sourceBatchSize;
    if (batch !== undefined && !(Number.isInteger(batch) && batch >= 1))
      throw new ConfigurationError(`WorkerExecutor's sourceBatchSize must be a positive integer, got ${String(batch)}`, { component: 'executor:workers' });
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
      throw new ConfigurationError(
        'a job run by a WorkerExecutor must be built by a defineJob() job (myJob.build(env, args)): workers import its module to build the same functions',
        { component: 'executor:workers' },
      );
    }
    const hooks = options.checkpointHooks;
    if (hooks && !hooks.acknowledgeParts)
      throw new ConfigurationError('the checkpoint hooks cannot receive parts from workers', { component: 'executor:workers' });
    const W = this.workers;
    const plan = planJob(graph);
    const collect = graph.nodes.find((n) => n.collect)?.collect;
    const attempt = new Attempt(this.pool, this.pool.acquire(W), options.cancellationTimeoutMs);

    // Stand-ins for the tasks, so the coordinator can drive them like local ones.
    const tasks = new Map<string, RemoteTask>();
    for (const t of placedTasks(plan, W)) tasks.set(t.address, new RemoteTask(t.name, t.isSource, t.address, attempt, t.worker));

    let finalParts: { id: number; parts: PartSource[] } | undefined;
    attempt.onEvent = (worker, m) => {
      switch (m.t) {
        case 'ack': {
          const parts: PartSource[] = m.parts.map((p) => ({
            operatorId: p.operatorId,
            subtaskIndex: p.subtaskIndex,
            incremental: p.incremental,
            bytes: () => p.bytes,
          }));
          if (finalParts?.id === m.id) finalParts.parts.push(...parts);
          else hooks?.acknowledgeParts?.(tasks.get(m.task)!, m.id, Promise.resolve(parts), m.syncMs);
          return;
        }
        case 'ack-failed':
          hooks?.acknowledgeParts?.(tasks.get(m.task)!, m.id, Promise.reject(fromWireError(m.error, worker)));
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
            if (!restore) continue;
            const own = restrictToKeyGroups(restore, keyGroupRangeForSubtask(graph.maxParallelism, p.parallelism, i));
            restores[workerOfSubtask(i, W)].push({ operatorId, subtaskIndex: i, bytes: serializeValue(own) });
          }
        }
      }
      const fingerprint = graphFingerprint(graph, plan);
      await attempt.start((w, peers) => ({
        t: 'deploy',
        worker: w,
        workers: W,
        jobId: options.jobId,
        jobName: graph.jobName,
        origin,
        defaultParallelism: graph.defaultParallelism,
        autoWatermarkInterval: graph.autoWatermarkInterval,
        maxParallelism: graph.maxParallelism,
        fingerprint,
        aligned: hooks?.aligned,
        restore: restores[w],
        peers,
        collectId: collect?.id,
        collectImmediate: collect?.immediate,
        credits: this.options.credits ?? 8,
        inputYieldIntervalMs: this.options.inputYieldIntervalMs ?? DEFAULT_INPUT_YIELD_INTERVAL_MS,
        sourceBatchSize: this.options.sourceBatchSize ?? this.options.platform.sourceBatchSize ?? SOURCE_BATCH_SIZE,
      }));
    } catch (e) {
      await attempt.close();
      throw e;
    }

    return {
      tasks: [...tasks.values()],
      layout: operatorLayout(plan),
      nonReplayableSources: nonReplayableSources(graph),
      fail: (e) => attempt.fail(e),
      run: () => attempt.run(),
      finalCheckpoint: async () => {
        // Two phases: all final snapshots, persisted as a complete checkpoint, before any sink commits.
        const id = hooks?.reserveCheckpointId?.() ?? FINAL_CHECKPOINT_ID;
        const parts: PartSource[] = [];
        finalParts = { id, parts };
        // Without a coordinator to keep them, the snapshots would be encoded for nothing.
        const hooksOnly = hooks?.commitFinalCheckpoint === undefined;
        await Promise.all(Array.from({ length: W }, (_, w) => attempt.call(w, { op: 'final-snapshot', id, hooksOnly })));
        finalParts = undefined;
        await hooks?.commitFinalCheckpoint?.(id, parts);
        await Promise.all(Array.from({ length: W }, (_, w) => attempt.call(w, { op: 'final-commit', id })));
      },
      close: () => attempt.close(),
      sampleMetrics: async () => {
        const samples = (await Promise.all(Array.from({ length: W }, (_, w) => attempt.ask(w, { op: 'metrics' })))).flat() as SubtaskSample[];
        const order = new Map(graph.nodes.map((n, i) => [operatorIdOf(n), i]));
        return samples.sort((a, b) => order.get(a.operatorId)! - order.get(b.operatorId)! || a.subtaskIndex - b.subtaskIndex);
      },
      queryState: async (operatorUid, key) => {
        // Checked here, so that a bad query costs no round trip and names the same errors as in one thread.
        const route = routeQuery(graph, (n) => plan.nodes.get(n.id)!.parallelism, operatorUid, key);
        return (await attempt.ask(workerOfSubtask(route.subtaskIndex, W), { op: 'query', operatorId: operatorUid, key })) as KeyStateView | undefined;
      },
    };
  }
}

/**
 * The part of a restore a subtask keeps: keyed state and timers of its own key groups
 * only. The backend would drop the others anyway; not shipping them keeps each worker's
 * restore message at its share of the state instead of all of it.
 */
function restrictToKeyGroups(restore: OperatorRestore, range: KeyGroupRange): OperatorRestore {
  const inRange = <V>(m: ReadonlyMap<number, V>) => new Map([...m].filter(([kg]) => range.contains(kg)));
  return {
    ...restore,
    keyed: restore.keyed.map((k) =>
      k.incremental
        ? { ...k, keyGroups: inRange(k.keyGroups), incremental: { ...k.incremental, removed: inRange(k.incremental.removed) } }
        : { ...k, keyGroups: inRange(k.keyGroups) },
    ),
    timers: restore.timers.map(inRange),
  };
}
