/**
 * `DataStream` and `KeyedStream`: Flink's fluent API. Each call adds a node to the
 * environment's job graph; nothing runs until `execute()` or `executeAndCollect()`.
 */
import { ConfigurationError } from '../api/errors.ts';
import type {
  FilterFunction,
  FlatMapFunction,
  KeyedProcessFunctionLike,
  MapFunction,
  ProcessFunctionLike,
  ReduceFn,
  Sink,
  SinkFunction,
} from '../api/functions.ts';
import type { WatermarkStrategy } from '../api/watermarks.ts';
import { checkOutputTag, type OutputTag } from '../api/output-tag.ts';
import { aggregationFunction, type FieldExpression } from '../api/aggregation.ts';
import { GlobalWindows, type WindowAssigner } from '../api/windowing/assigners.ts';
import { CountEvictor } from '../api/windowing/evictors.ts';
import { CountTrigger, PurgingTrigger } from '../api/windowing/triggers.ts';
import type { GlobalWindow, Window } from '../api/windowing/windows.ts';
import { WindowedStreamBase, type AddKeyedOperator, type WindowFunctionArg } from './windowed-stream.ts';
import { CoGroupedStreams, JoinedStreams, tagFirst, tagSecond, unionKey, type TaggedUnion, type WindowUnion } from './joined-streams.ts';
import type { ProcessWindowFunctionLike, WindowFunction } from '../api/windowing/functions.ts';
import type { AggregateFunction, ReduceFunction } from '../api/state.ts';
import { TwoPhaseCommitSink } from '../api/two-phase-commit.ts';
import type { CollectTarget, GraphNode, OperatorFactoryContext, Partitioning } from '../engine/graph.ts';
import type { Key } from '../format/key-bytes.ts';
import type { StreamOperator } from '../engine/operators/operator.ts';
import { instantiate } from '../engine/operators/function-copy.ts';
import { FilterOperator, FlatMapOperator, MapOperator } from '../engine/operators/simple.ts';
import { KeyedProcessOperator, ProcessOperator } from '../engine/operators/process.ts';
import { KeyedReduceOperator } from '../engine/operators/reduce.ts';
import { CollectResults, CollectSink, ImmediateCollectSink, SinkFunctionOperator, SinkWriterOperator } from '../engine/operators/sinks.ts';
import type { JobClient } from './job-client.ts';
import { LiveResults } from './live-results.ts';
import { PrintSink } from '../engine/sinks/print.ts';
import { TimestampsAndWatermarksOperator } from '../engine/operators/timestamps.ts';
import { checkFunction, className, classNamed, edgesFrom, notifies, type CollectedOutput, type MapOutput, type SideOutputSource } from './stream-functions.ts';
import { BroadcastConnectedStream, BroadcastStream, ConnectedStreams, IntervalJoin, type ConnectInputs } from './connected-streams.ts';
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
}

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
  keyBy<K extends Key>(keySelector: (value: T) => K): KeyedStream<T, K> {
    if (typeof keySelector !== 'function') throw new ConfigurationError('keyBy() needs a key selector function', { component: 'datastream' });
    return new KeyedStream<T, K>(this.env, this.sources, keySelector);
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

/** The records of a keyed stream grouped into windows (Flink's `WindowedStream`). */
export class WindowedStream<T, K extends Key, W extends Window> extends WindowedStreamBase<T, K, W> {
  /** @internal Made by `KeyedStream.window`. */
  constructor(addOperator: AddKeyedOperator, assigner: WindowAssigner<T, W>) {
    super(addOperator, assigner);
  }
  /** Folds each window's records into one value with `reduceFn` (kept incrementally, synchronous), optionally passed to `windowFn`. */
  reduce(reduceFn: ReduceFunction<T>): DataStream<T>;
  reduce<R>(reduceFn: ReduceFunction<T>, windowFn: WindowFunctionArg<T, R, K, W>): DataStream<R>;
  reduce<R>(reduceFn: ReduceFunction<T>, windowFn?: WindowFunctionArg<T, R, K, W>): DataStream<R | T> {
    return this.reduceOperator(reduceFn, windowFn) as DataStream<R | T>;
  }
  /** Aggregates each window incrementally (one accumulator per window), optionally passing the result to `windowFn`. */
  aggregate<ACC, V>(aggregateFn: AggregateFunction<T, ACC, V>): DataStream<V>;
  aggregate<ACC, V, R>(aggregateFn: AggregateFunction<T, ACC, V>, windowFn: WindowFunctionArg<V, R, K, W>): DataStream<R>;
  aggregate<ACC, V, R>(aggregateFn: AggregateFunction<T, ACC, V>, windowFn?: WindowFunctionArg<V, R, K, W>): DataStream<R | V> {
    return this.aggregateOperator(aggregateFn, windowFn) as DataStream<R | V>;
  }
  /** Evaluates each window with all its records (a `ProcessWindowFunction`). */
  process<R>(fn: ProcessWindowFunctionLike<T, R, K, W>): DataStream<R> {
    return this.processOperator(fn) as DataStream<R>;
  }
  /** Evaluates each window with all its records through a `WindowFunction`. */
  apply<R>(fn: WindowFunction<T, R, K, W>): DataStream<R> {
    return this.applyOperator(fn) as DataStream<R>;
  }
  /** Per window, the sum of `field`; the other fields are those of the window's first record. */
  sum(field: FieldExpression): DataStream<T> {
    return this.reduce(aggregationFunction<T>('SUM', field));
  }
  /** Per window, the minimum of `field`; the other fields are those of the window's first record. */
  min(field: FieldExpression): DataStream<T> {
    return this.reduce(aggregationFunction<T>('MIN', field));
  }
  /** Per window, the maximum of `field`; the other fields are those of the window's first record. */
  max(field: FieldExpression): DataStream<T> {
    return this.reduce(aggregationFunction<T>('MAX', field));
  }
  /** Per window, the record with the smallest `field` (on ties the first, or the last when `first` is false). */
  minBy(field: FieldExpression, first = true): DataStream<T> {
    return this.reduce(aggregationFunction<T>('MINBY', field, first));
  }
  /** Per window, the record with the largest `field` (on ties the first, or the last when `first` is false). */
  maxBy(field: FieldExpression, first = true): DataStream<T> {
    return this.reduce(aggregationFunction<T>('MAXBY', field, first));
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

/** A stream partitioned by key; its operators may use keyed state (and timers in `process`). */
export class KeyedStream<T, K extends Key> extends DataStream<T> {
  /** @internal */
  constructor(
    env: StreamGraphBuilder,
    sources: readonly GraphNode[],
    private readonly keySelector: (value: T) => K,
  ) {
    super(env, sources);
  }

  /**
   * As `DataStream.connect`; connected to another keyed stream, both inputs stay keyed
   * (a `KeyedCoProcessFunction` may follow), and to a broadcast stream it takes a
   * `KeyedBroadcastProcessFunction`.
   */
  override connect<T2>(other: BroadcastStream<T2>): BroadcastConnectedStream<T, T2, K>;
  override connect<T2>(other: DataStream<T2>): ConnectedStreams<T, T2>;
  override connect<T2>(other: DataStream<T2> | BroadcastStream<T2>): ConnectedStreams<T, T2> | BroadcastConnectedStream<T, T2, K> {
    if (other instanceof BroadcastStream) return new BroadcastConnectedStream<T, T2, K>(this.connectInputs(other.sources), this.keySelector, other);
    if (other instanceof KeyedStream) return new ConnectedStreams<T, T2>(this.connectInputs(other.sources), [this.keySelector, other.keySelector]);
    return super.connect(other);
  }

  /** Joins this stream with `other` by key and event-time interval (Flink's `intervalJoin`); give the interval with `between`. */
  intervalJoin<T2>(other: KeyedStream<T2, K>): IntervalJoin<T, T2, K> {
    if (!(other instanceof KeyedStream))
      throw new ConfigurationError('intervalJoin() needs a KeyedStream (keyBy() the other stream)', { component: 'datastream' });
    return new IntervalJoin<T, T2, K>(this.connectInputs(other.sources), [this.keySelector, other.keySelector]);
  }

  private keyed<R>(name: string, create: () => StreamOperator, fn: unknown): DataStream<R> {
    return this.transform<R>(name, { type: 'hash', keySelector: this.keySelector as (v: unknown) => Key }, true, create, undefined, fn);
  }

  /** Runs a `KeyedProcessFunction`: keyed state, timers and `onTimer`. */
  override process<F extends KeyedProcessFunctionLike<K, T, never>>(fn: F): DataStream<CollectedOutput<F, 'processElement'>> {
    checkFunction(fn, 'process', false);
    return classNamed(
      fn,
      this.keyed<CollectedOutput<F, 'processElement'>>(
        className(fn) ?? 'KeyedProcess',
        () => new KeyedProcessOperator(instantiate(fn as KeyedProcessFunctionLike<K, T, unknown>)),
        fn,
      ),
    );
  }

  override map<F extends MapFunction<T, unknown>>(fn: F): DataStream<MapOutput<F>> {
    checkFunction(fn, 'map', true);
    return this.keyed('Map', () => new MapOperator(instantiate(fn)), fn);
  }

  override flatMap<F extends FlatMapFunction<T, never>>(fn: F): DataStream<CollectedOutput<F, 'flatMap'>> {
    checkFunction(fn, 'flatMap', true);
    return this.keyed('FlatMap', () => new FlatMapOperator(instantiate(fn as FlatMapFunction<T, unknown>)), fn);
  }

  override filter<F extends FilterFunction<T>>(fn: F): DataStream<T> {
    checkFunction(fn, 'filter', true);
    return this.keyed('Filter', () => new FilterOperator(instantiate(fn)), fn);
  }

  /** Groups the records of each key into the windows `assigner` gives (Flink's `window`). */
  window<W extends Window>(assigner: WindowAssigner<T, W>): WindowedStream<T, K, W> {
    return new WindowedStream<T, K, W>((name, create, fn) => this.keyed(name, create, fn), assigner);
  }

  /**
   * Windows of `size` records per key; with `slide`, a window of the last `size` records
   * every `slide` records (Flink's `countWindow`).
   */
  countWindow(size: number, slide?: number): WindowedStream<T, K, GlobalWindow> {
    if (!Number.isInteger(size) || size < 1)
      throw new ConfigurationError(`countWindow() needs a positive integer size, got ${String(size)}`, { component: 'datastream' });
    const windowed = this.window(GlobalWindows.create<T>());
    if (slide === undefined) return windowed.trigger(PurgingTrigger.of(CountTrigger.of<T>(size)));
    if (!Number.isInteger(slide) || slide < 1)
      throw new ConfigurationError(`countWindow() needs a positive integer slide, got ${String(slide)}`, { component: 'datastream' });
    return windowed.evictor(CountEvictor.of<T>(size)).trigger(CountTrigger.of<T>(slide));
  }

  /** Folds the records of each key, emitting the running result for every record. */
  reduce(fn: ReduceFn<T>): DataStream<T> {
    checkFunction(fn, 'reduce', true);
    return this.keyed('Reduce', () => new KeyedReduceOperator(instantiate(fn)), fn);
  }

  /** Rolling sum of `field` per key; the other fields are those of the key's first record. */
  sum(field: FieldExpression): DataStream<T> {
    const fn = aggregationFunction<T>('SUM', field);
    return this.keyed('Keyed Aggregation', () => new KeyedReduceOperator(fn), undefined);
  }

  /** Rolling minimum of `field` per key; the other fields are those of the key's first record (use `minBy` for the record). */
  min(field: FieldExpression): DataStream<T> {
    const fn = aggregationFunction<T>('MIN', field);
    return this.keyed('Keyed Aggregation', () => new KeyedReduceOperator(fn), undefined);
  }

  /** Rolling maximum of `field` per key; the other fields are those of the key's first record (use `maxBy` for the record). */
  max(field: FieldExpression): DataStream<T> {
    const fn = aggregationFunction<T>('MAX', field);
    return this.keyed('Keyed Aggregation', () => new KeyedReduceOperator(fn), undefined);
  }

  /** The record with the smallest `field` so far per key; on ties the first such record, or the last when `first` is false. */
  minBy(field: FieldExpression, first = true): DataStream<T> {
    const fn = aggregationFunction<T>('MINBY', field, first);
    return this.keyed('Keyed Aggregation', () => new KeyedReduceOperator(fn), undefined);
  }

  /** The record with the largest `field` so far per key; on ties the first such record, or the last when `first` is false. */
  maxBy(field: FieldExpression, first = true): DataStream<T> {
    const fn = aggregationFunction<T>('MAXBY', field, first);
    return this.keyed('Keyed Aggregation', () => new KeyedReduceOperator(fn), undefined);
  }
}
