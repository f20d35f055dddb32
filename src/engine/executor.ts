/**
 * The executor contract and the deployment every executor shares. `deploy()` builds a job
 * graph's tasks in the current thread: `p` subtasks per operator, operators
 * chained where no exchange is needed, `keyBy` edges routed by key group. Tasks run as
 * concurrent async loops; bounded channels give back-pressure. One deployment is one
 * attempt of a job; the job runner restarts failed attempts from checkpoints.
 */
import type { Clock } from '../api/clock.ts';
import { EddyError } from '../api/errors.ts';
import { operatorIdOf, type JobGraph } from './graph.ts';
import { keyGroupRangeForSubtask } from '../format/key-groups.ts';
import { OutputBuffer, type OperatorContext, type OperatorRestore, type StreamOperator } from './operators/operator.ts';
import { SourceOperator } from './operators/source.ts';
import type { StateBackend } from '../state/backend.ts';
import { InputGate } from './input-gate.ts';
import { NetworkOutput, type ChannelSink } from './network-output.ts';
import { nonReplayableSources, operatorLayout, planJob, taskAddress, type Placement, type PlannedNode } from './plan.ts';
import { setLongTimeout } from './long-timer.ts';
import { ProcessingTimeScheduler } from './processing-time.ts';
import { partSourceOf } from './checkpoint-coordinator.ts';
import type { PartSource } from '../format/checkpoint-format.ts';
import { BackPressureMeter, sampleCounters, SubtaskCounters, type SubtaskSample } from './metrics.ts';
import { notRunning, readKeyState, routeQuery, type KeyStateView } from './state-query.ts';
import { StreamTask, type ChainMember, type CheckpointHooks, type CoordinatedTask } from './task.ts';
import { keepShapesOf } from './warm-shapes.ts';

/** What the executor needs besides the graph. */
export interface ExecutionOptions {
  readonly jobId: string;
  readonly stateBackend: StateBackend;
  readonly clock: Clock;
  /** Restored state per operator id and subtask index (already redistributed). */
  readonly restore?: (operatorId: string, subtaskIndex: number, parallelism: number) => OperatorRestore | undefined;
  /** The checkpoint coordinator, when checkpointing is enabled. */
  readonly checkpointHooks?: CheckpointHooks;
  /**
   * How long a failed or cancelled attempt's tasks may take to stop before they are
   * abandoned (a user function that never returns); default
   * {@link DEFAULT_TASK_CANCELLATION_TIMEOUT_MS}.
   */
  readonly cancellationTimeoutMs?: number;
  /** Where warnings go (abandoned tasks). */
  readonly warn?: (message: string) => void;
}

/**
 * Default of `env.setTaskCancellationTimeout`. Flink waits 180 s and then kills the
 * TaskManager; a task here cannot be killed (it shares the thread), so it is abandoned
 * sooner: its late output is discarded and the attempt ends without it.
 */
export const DEFAULT_TASK_CANCELLATION_TIMEOUT_MS = 5_000;

/** Resolves to true if `p` settles within `ms`, else false (never rejects). */
export function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let cancel: (() => void) | undefined;
  const timeout = new Promise<boolean>((resolve) => (cancel = setLongTimeout(() => resolve(false), ms)));
  return Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    timeout,
  ]).finally(() => cancel?.());
}

/** A deployed attempt of a job. */
export interface Deployment {
  /** The tasks the checkpoint coordinator drives (local tasks, or stand-ins for tasks in workers). */
  readonly tasks: readonly CoordinatedTask[];
  /** Operator id → parallelism. */
  readonly layout: ReadonlyMap<string, number>;
  /** The sources that cannot replay from a checkpoint (names), for the exactly-once warning. */
  readonly nonReplayableSources: readonly string[];
  /** Runs every task to the end of its input; rejects with the first failure. */
  run(): Promise<void>;
  /** Fails the attempt from outside (cancel, checkpoint failure past the tolerance). */
  fail(error: unknown): void;
  /** After a successful run: the final snapshot and commit of every operator. */
  finalCheckpoint(): Promise<void>;
  /** Closes every operator (best effort on failure); returns the first close error. */
  close(): Promise<unknown>;
  /** The cumulative counters of every operator subtask of the attempt, by operator then subtask. */
  sampleMetrics?(): Promise<SubtaskSample[]>;
  /** One key's state in the subtask (and worker) that owns it, read between two records. */
  queryState?(operatorUid: string, key: unknown): Promise<KeyStateView | undefined>;
}

/**
 * Runs the attempts of a job: the {@link LocalExecutor} (every task in this thread, the
 * default) or an executor that spreads the tasks over workers. Set with
 * `env.setExecutor()`; the job's code does not change.
 */
export interface Executor {
  /** Short name for messages (`executor:local`, `executor:workers`). */
  readonly name: string;
  /** Deploys one attempt of the job. */
  deploy(graph: JobGraph, options: ExecutionOptions): Promise<Deployment>;
}

/** Id of the final checkpoint taken when a job finishes, after every numbered one. */
export const FINAL_CHECKPOINT_ID = Number.MAX_SAFE_INTEGER;

/** A running instance of a node: its operator and chain member per subtask (only local subtasks are set). */
interface Deployed extends PlannedNode {
  readonly members: Array<ChainMember | undefined>;
}

/**
 * Builds and initialises the tasks of one attempt. Without `placement` every task runs
 * here; with one, only the tasks it calls local (a worker's share), and channels to the
 * others go to its remote sinks. Channel numbers depend only on the graph, so every
 * thread agrees on them.
 */
export async function deploy(graph: JobGraph, options: ExecutionOptions, placement?: Placement): Promise<Deployment> {
  const plan = planJob(graph);
  const isLocal = (head: number, i: number) => placement === undefined || placement.isLocal(head, i);
  const deployed = new Map<number, Deployed>();
  const tasks: StreamTask[] = [];
  const taskOf = new Map<ChainMember, StreamTask>();

  // 1. Operators and chains.
  for (const node of graph.nodes) {
    const planned = plan.nodes.get(node.id)!;
    const { parallelism, chainedTo: chained } = planned;
    const members: Array<ChainMember | undefined> = [];
    for (let i = 0; i < parallelism; i++) {
      if (!isLocal(planned.head, i)) {
        members.push(undefined);
        continue;
      }
      const op: StreamOperator = node.source
        ? new SourceOperator(node.source.source, node.source.watermarkStrategy)
        : node.createOperator!({ subtaskIndex: i, parallelism });
      // The operators of a chain wait for its outputs together: one meter per task.
      const meter = chained !== undefined ? deployed.get(chained)!.members[i]!.counters.backPressure : new BackPressureMeter();
      const counters = new SubtaskCounters(operatorIdOf(node), node.name, node.uid, i, parallelism, meter);
      const member: ChainMember = { op, out: new OutputBuffer(), next: [], network: [], operatorId: operatorIdOf(node), subtaskIndex: i, counters };
      members.push(member);
      if (chained !== undefined) {
        const parent = deployed.get(chained)!.members[i]!;
        parent.next.push(member);
        const side = node.inputs[0].sideOutput;
        if (side !== undefined) (parent.sideOf ??= new Map()).set(member, side);
        const task = taskOf.get(parent)!;
        task.members.push(member);
        taskOf.set(member, task);
      }
    }
    deployed.set(node.id, { ...planned, members });
    if (chained === undefined) {
      // Channels are numbered edge after edge (as in step 2); those of second-input edges are marked.
      const secondInput: boolean[] = [];
      for (const e of node.inputs) {
        const n = channelCount(e.partitioning.type, deployed.get(e.from)!.parallelism, parallelism);
        for (let c = 0; c < n; c++) secondInput.push(e.input === 2);
      }
      const channels = secondInput.length;
      members.forEach((m, i) => {
        if (m === undefined) return;
        const task = new StreamTask(
          `${node.name} (${i + 1}/${parallelism})`,
          [m],
          new InputGate(channels),
          node.source ? (m.op as SourceOperator<unknown>) : undefined,
          options.checkpointHooks,
          secondInput.includes(true) ? secondInput : undefined,
          placement?.tuning,
        );
        tasks.push(task);
        taskOf.set(m, task);
        placement?.bind?.(taskAddress(node.id, i), task);
      });
    }
  }

  // 2. Network edges: every producer subtask gets a NetworkOutput over the consumer subtasks it feeds.
  for (const d of deployed.values()) {
    if (d.chainedTo !== undefined) continue;
    const nextChannel = new Array<number>(d.parallelism).fill(0);
    for (const edge of d.node.inputs) {
      const up = deployed.get(edge.from)!;
      const forward = edge.partitioning.type === 'forward' && up.parallelism === d.parallelism;
      const partitioning = edge.partitioning.type === 'forward' && !forward ? ({ type: 'rebalance' } as const) : edge.partitioning;
      const base = nextChannel.slice();
      up.members.forEach((producer, s) => {
        if (producer === undefined) return;
        const consumers = forward ? [s] : d.members.map((_, j) => j);
        const targets = consumers.map((j) => {
          const consumer = d.members[j];
          const gate: ChannelSink = consumer !== undefined ? taskOf.get(consumer)!.gate : placement!.remote(d.node.id, j);
          return { gate, channel: base[j] + (forward ? 0 : s) };
        });
        const output = new NetworkOutput(
          partitioning,
          targets,
          graph.maxParallelism,
          `${d.node.name} (${consumers.length === 1 ? consumers[0] + 1 : '*'}/${d.parallelism})`,
          s,
        );
        output.backPressure = producer.counters.backPressure;
        producer.network.push(output);
        if (edge.sideOutput !== undefined) (producer.sideOf ??= new Map()).set(output, edge.sideOutput);
      });
      for (let j = 0; j < d.parallelism; j++) nextChannel[j] += forward ? 1 : up.parallelism;
    }
  }

  // 3. State, timers, processing time. A failure here fails the attempt (the job may
  // restart); what was initialized so far is closed first, so no backend stays open.
  const scheduler = new ProcessingTimeScheduler(options.clock);
  try {
    for (const d of deployed.values()) {
      for (let i = 0; i < d.parallelism; i++) {
        const member = d.members[i];
        if (member === undefined) continue;
        const task = taskOf.get(member)!;
        const ctx = operatorContext(graph, d, i, options, task, scheduleOn(scheduler, task, member));
        await member.op.initializeState(ctx, options.restore?.(ctx.operatorId, i, d.parallelism));
      }
    }
  } catch (error) {
    scheduler.cancelAll();
    for (const t of tasks) await t.close();
    throw error;
  }

  let failure: unknown;
  let onFailed!: () => void;
  const failed = new Promise<void>((resolve) => (onFailed = resolve));
  const fail = (e: unknown) => {
    if (failure !== undefined) return;
    failure = e;
    onFailed();
    for (const t of tasks) t.gate.fail(e);
  };
  const timeoutMs = options.cancellationTimeoutMs ?? DEFAULT_TASK_CANCELLATION_TIMEOUT_MS;
  const stopped = new Set<StreamTask>();
  return {
    tasks,
    layout: operatorLayout(plan),
    nonReplayableSources: nonReplayableSources(graph),
    fail,
    async run() {
      const all = Promise.all(
        tasks.map((t) =>
          t.run().then(
            () => void stopped.add(t),
            (e: unknown) => (stopped.add(t), fail(e)),
          ),
        ),
      );
      // Once the attempt failed, its tasks get a bounded time to unwind: one stuck in a
      // user function that never returns is abandoned, so that the job still settles.
      const unwound = await Promise.race([all.then(() => true), failed.then(() => settlesWithin(all, timeoutMs))]);
      if (!unwound) {
        for (const t of tasks) {
          if (stopped.has(t)) continue;
          t.abandon();
          options.warn?.(
            `[eddy] [executor:local] [job:${options.jobId}] task ${t.name} did not stop within ${timeoutMs} ms after the attempt failed (a user function that never returns?); it is abandoned and its late output discarded`,
          );
        }
      }
      scheduler.cancelAll();
      if (failure !== undefined) throw failure instanceof Error ? failure : new EddyError('JOB_FAILED', String(failure), { component: 'executor:local' });
    },
    async finalCheckpoint() {
      const hooks = options.checkpointHooks;
      if (hooks?.reserveCheckpointId === undefined || hooks.commitFinalCheckpoint === undefined) {
        for (const t of tasks) await t.finalCheckpoint(FINAL_CHECKPOINT_ID);
        return;
      }
      // Two phases, as on the worker executor: every final snapshot, persisted as a complete
      // checkpoint, before any sink commits. A process that dies after a commit then
      // restarts from a checkpoint that covers it, and commits nothing twice.
      const id = hooks.reserveCheckpointId();
      const parts: PartSource[] = [];
      for (const t of tasks) (await t.finalSnapshot(id)).forEach((snapshot, i) => parts.push(partSourceOf(t, i, snapshot)));
      await hooks.commitFinalCheckpoint(id, parts);
      for (const t of tasks) await t.finalCommit(id);
    },
    sampleMetrics: () => Promise.resolve(sampleCounters(countersOf(deployed), Date.now())),
    async queryState(operatorUid, key) {
      const route = routeQuery(graph, (n) => plan.nodes.get(n.id)!.parallelism, operatorUid, key);
      const member = deployed.get(route.node.id)!.members[route.subtaskIndex];
      const state = member?.op.queryableState?.();
      if (member === undefined || state === undefined)
        throw new EddyError('INVALID_ARGUMENT', `queryState: subtask ${route.subtaskIndex} of "${operatorUid}" has no keyed state here`, {
          component: 'executor:local',
        });
      return taskOf.get(member)!.runBetweenRecords(
        () => readKeyState(state, route, undefined),
        () => notRunning(failure === undefined ? 'stopping' : 'failing'),
      );
    },
    async close() {
      scheduler.cancelAll();
      let first: unknown;
      for (const t of tasks) {
        // An abandoned task's operators may be stuck too: closing them is bounded as well.
        const closing = t.close();
        if (await settlesWithin(closing, timeoutMs)) first ??= await closing;
      }
      // Only a local attempt's tasks: a worker's share closes in its own thread.
      if (placement === undefined) keepShapesOf(tasks);
      return first;
    },
  };
}

/**
 * A subtask's processing-time scheduling, made outside `deploy` so that the closure holds
 * only these three (one made there would hold the job graph, and with it the records of
 * a collection source, for as long as the closed job is kept: warm-shapes.ts).
 */
function scheduleOn(scheduler: ProcessingTimeScheduler, task: StreamTask, member: ChainMember): (time: number) => void {
  return (time) => scheduler.schedule(task, member, time);
}

/** The counters of every local operator subtask, by operator then subtask. */
function* countersOf(deployed: ReadonlyMap<number, Deployed>): Generator<SubtaskCounters> {
  for (const d of deployed.values()) for (const m of d.members) if (m !== undefined) yield m.counters;
}

/** Channels a consumer subtask gets from one input edge: one when forward, else one per producer. */
function channelCount(type: string, upstreamParallelism: number, parallelism: number): number {
  return type === 'forward' && upstreamParallelism === parallelism ? 1 : upstreamParallelism;
}

function operatorContext(
  graph: JobGraph,
  d: Deployed,
  i: number,
  options: ExecutionOptions,
  task: StreamTask,
  schedule: (time: number) => void,
): OperatorContext {
  const { node, parallelism } = d;
  return {
    jobName: graph.jobName,
    jobId: options.jobId,
    operatorId: operatorIdOf(node),
    name: node.name,
    displayName: `${node.name} (${i + 1}/${parallelism})`,
    subtaskIndex: i,
    parallelism,
    maxParallelism: graph.maxParallelism,
    keyGroupRange: keyGroupRangeForSubtask(graph.maxParallelism, parallelism, i),
    keyed: node.keyed,
    clock: options.clock,
    stateBackend: options.stateBackend,
    autoWatermarkInterval: graph.autoWatermarkInterval ?? 0,
    scheduleProcessingTime: schedule,
    hasMail: () => task.gate.hasMail,
    runMail: () => task.runMail(),
  };
}
