/**
 * The physical plan of a job graph, computed the same way in every thread: each node's
 * parallelism, which nodes are chained into their input's task, and the tasks (one per
 * chain head and subtask). Executors that split a job over workers rely on every
 * worker and the main thread deriving the same plan — and the same channel numbering —
 * from the same graph.
 */
import { ConfigurationError } from '../api/errors.ts';
import { operatorIdOf, type GraphNode, type JobGraph } from './graph.ts';
import type { ChannelSink } from './network-output.ts';
import type { StreamTask, TaskTuning } from './task.ts';

/** Resolves a node's parallelism and checks it against the max parallelism. */
export function resolveParallelism(graph: JobGraph, node: GraphNode): number {
  const sourceMax = node.source?.source.maxParallelism;
  const p = node.parallelism ?? Math.min(graph.defaultParallelism, sourceMax ?? Infinity);
  if (!Number.isInteger(p) || p < 1) throw new ConfigurationError(`parallelism must be a positive integer, got ${p}`, { operator: node.name });
  if (p > graph.maxParallelism) throw new ConfigurationError(`parallelism ${p} is above the max parallelism ${graph.maxParallelism}`, { operator: node.name });
  if (sourceMax !== undefined && p > sourceMax)
    throw new ConfigurationError(`this source supports a parallelism of at most ${sourceMax}, got ${p}`, { operator: node.name });
  return p;
}

/** One node as deployed: its parallelism and the chain it belongs to. */
export interface PlannedNode {
  readonly node: GraphNode;
  readonly parallelism: number;
  /** The node this one is chained to (same task), if any. */
  readonly chainedTo: number | undefined;
  /** The head node of the chain (itself when not chained). */
  readonly head: number;
}

/** The plan of a whole graph, by node id. */
export interface JobPlan {
  readonly nodes: ReadonlyMap<number, PlannedNode>;
}

/** Plans the graph: a node is chained when its single input is `forward` at equal parallelism. */
export function planJob(graph: JobGraph): JobPlan {
  const nodes = new Map<number, PlannedNode>();
  const byOperatorId = new Map<string, string>();
  for (const node of graph.nodes) {
    // Two operators under one id would read and write each other's state in checkpoints.
    const id = operatorIdOf(node);
    const other = byOperatorId.get(id);
    if (other !== undefined) {
      throw new ConfigurationError(
        `the uid "${id}" is also given to operator "${other}": a uid names one operator's state in checkpoints and savepoints, so each must be unique`,
        { operator: node.name },
      );
    }
    byOperatorId.set(id, node.name);
    const parallelism = resolveParallelism(graph, node);
    const input = node.inputs.length === 1 ? node.inputs[0] : undefined;
    const upstream = input ? nodes.get(input.from) : undefined;
    const chainedTo = input?.partitioning.type === 'forward' && upstream?.parallelism === parallelism ? input.from : undefined;
    nodes.set(node.id, { node, parallelism, chainedTo, head: chainedTo === undefined ? node.id : nodes.get(chainedTo)!.head });
  }
  return { nodes };
}

/** Operator id → parallelism (a deployment's layout). */
export function operatorLayout(plan: JobPlan): Map<string, number> {
  return new Map([...plan.nodes.values()].map((p) => [operatorIdOf(p.node), p.parallelism]));
}

/** The sources that cannot replay from a checkpoint (names), for the exactly-once warning. */
export function nonReplayableSources(graph: JobGraph): string[] {
  return graph.nodes.filter((n) => n.source && n.source.source.replayable !== true).map((n) => n.name);
}

/** The address of a task: its chain head's node id and its subtask index. */
export function taskAddress(head: number, subtaskIndex: number): string {
  return `${head}/${subtaskIndex}`;
}

/**
 * Where an executor runs each task. The local executor runs all of them; a worker runs
 * its share and reaches the others through `remote` channel sinks.
 */
export interface Placement {
  /** Whether the task at `address` runs in this thread. */
  isLocal(head: number, subtaskIndex: number): boolean;
  /** The sending end of channels into a task that runs elsewhere. */
  remote(head: number, subtaskIndex: number): ChannelSink;
  /** Called with every local task once it exists (workers route incoming channels and commands to it). */
  bind?(address: string, task: StreamTask): void;
  /** How the local tasks run in this thread (a worker's: batch size, turns for its peers' messages). */
  readonly tuning?: TaskTuning;
}
