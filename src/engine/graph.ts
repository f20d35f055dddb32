/**
 * The job graph the DataStream API builds and executors run: nodes (sources, operators,
 * sinks) with their parallelism, and edges that say how records move between them.
 */
import type { Source } from '../api/sources.ts';
import type { WatermarkStrategy } from '../api/watermarks.ts';
import type { Key } from '../format/key-bytes.ts';
import type { StreamOperator } from './operators/operator.ts';

/** How records travel along an edge. */
export type Partitioning =
  /** Subtask i feeds subtask i (same parallelism); such edges are chained. */
  | { readonly type: 'forward' }
  /** Round-robin over the consumer's subtasks. */
  | { readonly type: 'rebalance' }
  /** By key group of the key the selector returns (`keyBy`). */
  | { readonly type: 'hash'; readonly keySelector: (value: unknown) => Key }
  /** Every record to every subtask of the consumer (`broadcast`, the broadcast state pattern). */
  | { readonly type: 'broadcast' };

/** An edge into a node. */
export interface GraphEdge {
  readonly from: number;
  readonly partitioning: Partitioning;
  /** Set when the edge carries a side output of `from` (the tag id) instead of its main output. */
  readonly sideOutput?: string;
  /**
   * Set to 2 on the edges into the second input of a two-input operator (connected
   * streams, broadcast, joins): their records go to the operator's `processBatch2`.
   */
  readonly input?: 2;
}

/** What an operator factory is told about the subtask it creates an operator for. */
export interface OperatorFactoryContext {
  subtaskIndex: number;
  parallelism: number;
}

/**
 * Where `executeAndCollect` delivers committed records: `commit` is called once per
 * committed transaction id (repeats are ignored). A worker gets a stand-in with the
 * same `id` that forwards commits to the main thread.
 */
export interface CollectTarget {
  /** Tells this execution's transactions from those of the job a savepoint was taken of. */
  readonly id: string;
  commit(transactionId: string, records: readonly unknown[]): void;
  /** True when records are to be handed over as they are emitted (no checkpointing), not per completed checkpoint. */
  readonly immediate?: boolean;
}

/** One node of the job graph. */
export interface GraphNode {
  readonly id: number;
  /** Display name, used in error messages (`Counter (2/4)`). */
  name: string;
  /**
   * True while the name is the user function's class name: a minifier renames classes
   * differently in a page's and a worker's bundle, so workers do not compare it.
   */
  nameFromClass?: boolean;
  /** Stable id for state matching across job versions; defaults to a generated one. */
  uid?: string;
  /** Explicit parallelism, or undefined for the environment's default. */
  parallelism?: number;
  readonly inputs: GraphEdge[];
  /** True when the node's input is partitioned by key and it may use keyed state. */
  readonly keyed: boolean;
  /** For sources: the source and how its records get timestamps and watermarks. */
  readonly source?: { source: Source<unknown>; watermarkStrategy?: WatermarkStrategy<unknown> };
  /** For every other node: makes the operator of one subtask. */
  readonly createOperator?: (ctx: OperatorFactoryContext) => StreamOperator;
  /** For the sink of `executeAndCollect`: where its committed records go. */
  readonly collect?: CollectTarget;
  /**
   * True when the node's function acts on completed checkpoints (`notifyCheckpointComplete`,
   * e.g. a `TwoPhaseCommitSink` or the collect sink): what it committed cannot be taken
   * back, so a restore must never go back past a checkpoint it was told about.
   */
  readonly commitsOnCheckpoint?: boolean;
}

/** True when some node of the graph commits output when checkpoints complete. */
export function commitsOnCheckpoint(graph: JobGraph): boolean {
  return graph.nodes.some((n) => n.commitsOnCheckpoint === true || n.collect !== undefined);
}

/**
 * Where a job's graph can be built again, in another thread: the module that defines
 * the job (see `defineJob`), the export name, and the argument it was built with.
 */
export interface JobOrigin {
  readonly moduleUrl: string;
  readonly exportName: string;
  /** Structured-cloneable data the job function is called with. */
  readonly args: unknown;
}

/** The nodes of a job, in the order they were added (inputs always come first). */
export interface JobGraph {
  readonly jobName: string;
  readonly nodes: readonly GraphNode[];
  readonly defaultParallelism: number;
  readonly maxParallelism: number;
  /** Processing-time ms between periodic watermark emissions (0 or absent: only after batches). */
  readonly autoWatermarkInterval?: number;
  /** Set when the graph was built by a `defineJob` job: workers rebuild it from there. */
  readonly origin?: JobOrigin;
}

/** The stable id of a node for state: its uid, or one derived from its position. */
export function operatorIdOf(node: GraphNode): string {
  return node.uid ?? `node-${node.id}`;
}
