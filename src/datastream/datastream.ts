/**
 * `DataStream`: Flink's fluent API. Each call adds a node to the environment's job graph;
 * nothing runs until `execute()` or `executeAndCollect()`. Its keyed form, `KeyedStream`,
 * is in `keyed-stream.ts`, and `WindowedStream` in `windowed-stream.ts`.
 */
import { ConfigurationError } from '../api/errors.ts';
import type { FilterFunction, FlatMapFunction, MapFunction, ProcessFunctionLike, Sink, SinkFunction } from '../api/functions.ts';
import type { WatermarkStrategy } from '../api/watermarks.ts';
import { checkOutputTag, type OutputTag } from '../api/output-tag.ts';
import { CoGroupedStreams, JoinedStreams, tagFirst, tagSecond, unionKey, type TaggedUnion, type WindowUnion } from './joined-streams.ts';
import { TwoPhaseCommitSink } from '../api/two-phase-commit.ts';
import type { CollectTarget, GraphNode, OperatorFactoryContext, Partitioning } from '../engine/graph.ts';
import type { Key } from '../format/key-bytes.ts';
import type { StreamOperator } from '../engine/operators/operator.ts';
import { instantiate } from '../engine/operators/function-copy.ts';
import { FilterOperator, FlatMapOperator, MapOperator } from '../engine/operators/simple.ts';
import { ProcessOperator } from '../engine/operators/process.ts';
import { CollectResults, CollectSink, ImmediateCollectSink, SinkFunctionOperator, SinkWriterOperator } from '../engine/operators/sinks.ts';
import type { JobClient } from './job-client.ts';
import { LiveResults } from './live-results.ts';
import { PrintSink } from '../engine/sinks/print.ts';
import { TimestampsAndWatermarksOperator } from '../engine/operators/timestamps.ts';
import { checkFunction, className, classNamed, edgesFrom, notifies, type CollectedOutput, type MapOutput, type SideOutputSource } from './stream-functions.ts';
import { BroadcastConnectedStream, BroadcastStream, ConnectedStreams, type ConnectInputs } from './connected-streams.ts';
import type { MapStateDescriptor } from '../api/descriptors.ts';

declare module './connected-streams.ts' {
  /** The two-input calls return `DataStream`s (see `StreamTypes`). */
  interface StreamTypes<T> {
    stream: DataStream<T>;
  }
}

/** What a stream needs from its environment (implemented by `StreamExecutionEnvironment`). */
export interface StreamGraphBuilder {
  /** Adds a node and returns it. */
  addNode(spec: Omit<GraphNode, 'id'>): GraphNode;
  /** Runs the job built so far. */
  execute(jobName?: string): Promise<unknown>;
  /** Starts the job built so far and returns its client. */
  executeAsync(jobName?: string): Promise<JobClient>;
  /** Whether checkpoints are taken (collected results then wait for them). */
  isCheckpointingEnabled(): boolean;
  /** Makes the `KeyedStream` of `keyBy` (the environment imports it; this file cannot, see {@link KeyedStreamTypes}). */
  keyedStream<T, K extends Key>(sources: readonly GraphNode[], keySelector: (value: T) => K): KeyedStreamOf<T, K>;
}

/**
 * The stream type `keyBy` returns: `keyed-stream.ts` declares `keyed: KeyedStream<T, K>`
 * here (declaration merging), so that this file need not import it — `KeyedStream`
 * extends `DataStream`, and an import back would close a cycle.
 */
export interface KeyedStreamTypes<T, K extends Key> {
  /** Only for the type parameters; never set. */
  readonly __element?: [T, K];
}
/** `KeyedStream<T, K>`, through {@link KeyedStreamTypes}. */
export type KeyedStreamOf<T, K extends Key> = KeyedStreamTypes<T, K> extends { keyed: infer S } ? S : never;

/** A stream of records of type `T`. */
export class DataStream<T> {
  /** @internal */
  constructor(
    protected readonly env: StreamGraphBuilder,
    /** The nodes this stream's records come from (several after `union`). */
    protected readonly sources: readonly GraphNode[],
  ) {}

  /** The node that produced this stream; streams made by `union` have none. */
  protected get node(): GraphNode {
    if (this.sources.length !== 1) throw new ConfigurationError('a union of streams has no single operator to configure', { component: 'datastream' });
    return this.sources[0];
  }

  /** Sets the parallelism of the operator that produced this stream. */
  setParallelism(parallelism: number): this {
    if (!Number.isInteger(parallelism) || parallelism < 1) {
      throw new ConfigurationError(`setParallelism() needs a positive integer, got ${parallelism}`, { operator: this.node.name });
    }
    this.node.parallelism = parallelism;
    return this;
  }

  /** Names the operator that produced this stream (shown in errors). */
  name(name: string): this {
    this.node.name = name;
    this.node.nameFromClass = false;
    return this;
  }

  /** Gives the operator a stable id, so its state is found again after the job changes. */
  uid(uid: string): this {
    this.node.uid = uid;
    return this;
  }

  /** @internal Adds an operator fed by this stream; `collect` marks the collecting sink. */
  protected transform<R>(
    name: string,
    partitioning: Partitioning,
    keyed: boolean,
    create: (ctx: OperatorFactoryContext) => StreamOperator,
    collect?: CollectTarget,
    fn?: unknown,
  ): DataStream<R> {
    const inputs = edgesFrom(this.sources, partitioning);
    return new DataStream<R>(this.env, [this.env.addNode({ name, inputs, keyed, createOperator: create, collect, commitsOnCheckpoint: notifies(fn) })]);
  }

  /** @internal Wires this stream (first input) and `other` (second input) into a two-input operator. */
  protected connectInputs(other: readonly GraphNode[]): ConnectInputs {
    return (first, second) => (name, keyed, create, fn, nameFromClass) => {
      const inputs = [...edgesFrom(this.sources, first), ...edgesFrom(other, second).map((e) => ({ ...e, input: 2 as const }))];
      const node = this.env.addNode({ name, inputs, keyed, createOperator: create, commitsOnCheckpoint: notifies(fn) });
      if (nameFromClass) node.nameFromClass = true;
      return new DataStream<unknown>(this.env, [node]);
    };
  }

  /**
   * Connects this stream with another of any type (Flink's `connect`): one operator gets
   * both, each input through its own method (`map1`/`map2`, `processElement1`/`2`), and its
   * watermark is the minimum of both inputs'. With a {@link BroadcastStream}: the broadcast
   * state pattern (`process` with a `BroadcastProcessFunction`).
   */
  connect<T2>(other: BroadcastStream<T2>): BroadcastConnectedStream<T, T2>;
  connect<T2>(other: DataStream<T2>): ConnectedStreams<T, T2>;
  connect<T2>(other: DataStream<T2> | BroadcastStream<T2>): ConnectedStreams<T, T2> | BroadcastConnectedStream<T, T2> {
    if (other instanceof BroadcastStream) return new BroadcastConnectedStream<T, T2>(this.connectInputs(other.sources), undefined, other);
    if (!(other instanceof DataStream)) throw new ConfigurationError('connect() needs a DataStream or a BroadcastStream', { component: 'datastream' });
    return new ConnectedStreams<T, T2>(this.connectInputs(other.sources), undefined);
  }

  /**
   * With descriptors (Flink's `broadcast(MapStateDescriptor...)`): a {@link BroadcastStream}
   * to `connect` to, whose records reach every parallel instance and may be written into
   * those broadcast states. Without: every record goes to every instance of the next operator.
   */
  broadcast(): DataStream<T>;
  broadcast(...descriptors: MapStateDescriptor<unknown, unknown>[]): BroadcastStream<T>;
  broadcast(...descriptors: MapStateDescriptor<unknown, unknown>[]): DataStream<T> | BroadcastStream<T> {
    if (descriptors.length === 0) return this.transform('Broadcast', { type: 'broadcast' }, false, () => new MapOperator((v: T) => v));
    return new BroadcastStream<T>(this.sources, descriptors);
  }

  /** One output record per input record. Object functions may carry their own fields. */
  map<F extends MapFunction<T, unknown>>(fn: F): DataStream<MapOutput<F>> {
    checkFunction(fn, 'map', true);
    return this.transform('Map', { type: 'forward' }, false, () => new MapOperator(instantiate(fn)), undefined, fn);
  }

  /** Any number of output records per input record, emitted through `out.collect`. */
  flatMap<F extends FlatMapFunction<T, never>>(fn: F): DataStream<CollectedOutput<F, 'flatMap'>> {
    checkFunction(fn, 'flatMap', true);
    return this.transform('FlatMap', { type: 'forward' }, false, () => new FlatMapOperator(instantiate(fn as FlatMapFunction<T, unknown>)), undefined, fn);
  }

  /** Keeps the records for which `fn` returns true. */
  filter<F extends FilterFunction<T>>(fn: F): DataStream<T> {
    checkFunction(fn, 'filter', true);
    return this.transform('Filter', { type: 'forward' }, false, () => new FilterOperator(instantiate(fn)), undefined, fn);
  }

  /** Runs a `ProcessFunction` (no keyed state, no timers: use `keyBy(...).process` for those). */
  process<F extends ProcessFunctionLike<T, never>>(fn: F): DataStream<CollectedOutput<F, 'processElement'>> {
    checkFunction(fn, 'process', false);
    return classNamed(
      fn,
      this.transform<CollectedOutput<F, 'processElement'>>(
        className(fn) ?? 'Process',
        { type: 'forward' },
        false,
        () => new ProcessOperator(instantiate(fn)),
        undefined,
        fn,
      ),
    );
  }

  /**
   * The records the operator of this stream emitted to side output `tag` with
   * `ctx.output(tag, value)` (Flink's `getSideOutput`), with their timestamps.
   */
  getSideOutput<X>(tag: OutputTag<X>): DataStream<X> {
    checkOutputTag(tag, this.node.name);
    if ((this.node as SideOutputSource).sideOutput !== undefined) {
      throw new ConfigurationError(
        `getSideOutput() is called on the stream an operator produced, not on a side output (${String((this.node as SideOutputSource).sideOutput)})`,
        { operator: this.node.name },
      );
    }
    // A view of the node that edges read as "side output `tag.id` of this node"; its
    // other fields (parallelism, name) stay those of the producing node.
    const view = Object.create(this.node, { sideOutput: { value: tag.id, enumerable: true } }) as SideOutputSource;
    return new SideOutputStream<X>(this.env, [view]);
  }

  /** Partitions the stream by key: records with the same key go to the same subtask and state. */
  keyBy<K extends Key>(keySelector: (value: T) => K): KeyedStreamOf<T, K> {
    if (typeof keySelector !== 'function') throw new ConfigurationError('keyBy() needs a key selector function', { component: 'datastream' });
    return this.env.keyedStream(this.sources, keySelector);
  }

  /** Distributes records round-robin over the next operator's subtasks. */
  rebalance(): DataStream<T> {
    return this.transform('Rebalance', { type: 'rebalance' }, false, () => new MapOperator((v: T) => v));
  }

  /** Merges streams of the same type. */
  union(...others: DataStream<T>[]): DataStream<T> {
    return new DataStream<T>(this.env, [...this.sources, ...others.flatMap((o) => o.sources)]);
  }

  /**
   * Joins this stream with `other` in windows: `a.join(b).where(keyA).equalTo(keyB)
   * .window(assigner).apply(joinFn)` emits one result per pair of records with equal keys
   * in the same window (an inner join, Flink's `JoinedStreams`).
   */
  join<T2>(other: DataStream<T2>): JoinedStreams<T, T2> {
    return new JoinedStreams(this.coGroupInputs(other));
  }

  /**
   * Groups this stream and `other` by key in windows: `a.coGroup(b).where(keyA)
   * .equalTo(keyB).window(assigner).apply(coGroupFn)` calls the function once per key and
   * window with the records of both sides, either side possibly empty (Flink's `CoGroupedStreams`).
   */
  coGroup<T2>(other: DataStream<T2>): CoGroupedStreams<T, T2> {
    return new CoGroupedStreams(this.coGroupInputs(other));
  }

  private coGroupInputs<T2>(other: DataStream<T2>) {
    return <K extends Key>(first: (v: T) => K, second: (v: T2) => K): WindowUnion<T, T2> => {
      const key = unionKey(first, second);
      return (assigner) => {
        const first: DataStream<TaggedUnion<T, T2>> = this.map((v: T) => tagFirst<T, T2>(v));
        const second: DataStream<TaggedUnion<T, T2>> = other.map((v: T2) => tagSecond<T, T2>(v));
        return first.union(second).keyBy(key).window(assigner);
      };
    };
  }

  /** Assigns event-time timestamps and generates watermarks. */
  assignTimestampsAndWatermarks(strategy: WatermarkStrategy<T>): DataStream<T> {
    return this.transform('Timestamps/Watermarks', { type: 'forward' }, false, () => new TimestampsAndWatermarksOperator(strategy));
  }

  /** Sends every record to a sink function (a function, or an object with `invoke`). */
  addSink<F extends SinkFunction<T> | TwoPhaseCommitSink<T, unknown>>(fn: F): DataStreamSink {
    if (!(fn instanceof TwoPhaseCommitSink)) checkFunction(fn, 'sink', true);
    return new DataStreamSink(this.transform('Sink', { type: 'forward' }, false, () => new SinkFunctionOperator(instantiate(fn)), undefined, fn));
  }

  /** Writes every record through a Sink V2 (`createWriter` per subtask). */
  sinkTo(sink: Sink<T>): DataStreamSink {
    if (!sink || typeof sink.createWriter !== 'function')
      throw new ConfigurationError('sinkTo() needs a Sink with createWriter(ctx)', { component: 'datastream' });
    return new DataStreamSink(this.transform('Sink', { type: 'forward' }, false, () => new SinkWriterOperator(sink), undefined, sink));
  }

  /** Prints every record to the console's log (Flink's `print()`), prefixed `identifier:subtask> ` as in Flink. */
  print(sinkIdentifier?: string): DataStreamSink {
    return this.sinkTo(new PrintSink<T>('stdout', sinkIdentifier)).name('Print to Std. Out');
  }

  /** Prints every record to the console's error channel (Flink's `printToErr()`). */
  printToErr(sinkIdentifier?: string): DataStreamSink {
    return this.sinkTo(new PrintSink<T>('stderr', sinkIdentifier)).name('Print to Std. Err');
  }

  /** Runs the job and resolves to every record of this stream (bounded jobs). */
  async executeAndCollect(jobName = 'collect'): Promise<T[]> {
    const results = new CollectResults<T>();
    this.collectInto(results);
    await this.env.execute(jobName);
    return results.records;
  }

  /**
   * Starts the job and returns an async iterator over this stream's records while it runs
   * (Flink's `executeAndCollect()` iterator; for unbounded jobs). With checkpointing, records
   * arrive when the checkpoint covering them completes, exactly once across restarts;
   * without, as they are emitted. Leaving the loop (`break`, `return()`) cancels the job;
   * a failure of the job is thrown by the iteration. `jobClient()` gives the job's client.
   */
  executeAndCollectAsync(jobName = 'collect'): LiveResults<T> {
    const results = new LiveResults<T>(!this.env.isCheckpointingEnabled());
    this.collectInto(results);
    results.start(() => this.env.executeAsync(jobName));
    return results;
  }

  /**
   * @internal Adds the collecting sink (parallelism 1) that commits into `target`:
   * exactly-once per checkpoint, or at once for an `immediate` target; workers call it on
   * the stream a job function returns.
   */
  collectInto(target: CollectTarget): void {
    const sink = target.immediate ? new ImmediateCollectSink<T>(target) : new CollectSink<T>(target);
    this.transform(
      'Collect',
      { type: 'rebalance' },
      false,
      () => new SinkFunctionOperator<T>(instantiate(sink)),
      target,
      target.immediate ? undefined : sink,
    ).setParallelism(1);
  }
}

/** A side output: its operator is configured on the stream that produced it. */
class SideOutputStream<T> extends DataStream<T> {
  override setParallelism(_parallelism: number): this {
    throw new ConfigurationError('a side output has the parallelism of the operator that produced it: set it there', { operator: this.node.name });
  }
  override name(_name: string): this {
    throw new ConfigurationError('a side output is named by the operator that produced it: name it there', { operator: this.node.name });
  }
  override uid(_uid: string): this {
    throw new ConfigurationError('a side output has the uid of the operator that produced it: set it there', { operator: this.node.name });
  }
}

/** The end of a stream in a sink; only its parallelism and name can be set. */
export class DataStreamSink {
  constructor(private readonly stream: DataStream<unknown>) {}
  setParallelism(parallelism: number): this {
    this.stream.setParallelism(parallelism);
    return this;
  }
  name(name: string): this {
    this.stream.name(name);
    return this;
  }
  uid(uid: string): this {
    this.stream.uid(uid);
    return this;
  }
}
