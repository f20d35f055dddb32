/**
 * User functions, Flink's names with TypeScript's habits: a function is any object with
 * the right methods (a class instance or an object literal), and `map`, `flatMap` and
 * `filter` also take a plain arrow function. Every method may return a Promise.
 *
 * As in Flink, every parallel subtask gets its own instance: the engine makes a shallow
 * copy of the object passed (own fields copied, prototype shared) for each subtask, so
 * fields set in `open()` never leak between subtasks. Fields holding objects created
 * before the job (a shared array, say) are shared by reference: create them in `open()`.
 */
import type { AggregatingStateDescriptor, ListStateDescriptor, MapStateDescriptor, ReducingStateDescriptor, ValueStateDescriptor } from './descriptors.ts';
import { EddyError } from './errors.ts';
import type { OutputTag } from './output-tag.ts';
import type {
  AggregatingState,
  BroadcastState,
  ListState,
  MapState,
  MapStateKey,
  ReducingState,
  SyncAggregatingState,
  SyncListState,
  SyncMapState,
  SyncReducingState,
  SyncValueState,
  ValueState,
} from './state.ts';

/** A value or a Promise of it. */
export type Awaitable<T> = T | Promise<T>;

/** Emits records from `flatMap`, `processElement` and `onTimer`. */
export interface Collector<T> {
  collect(value: T): void;
}

/** What a function sees of the subtask it runs in, and the door to keyed state. */
export interface RuntimeContext {
  getState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T>;
  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
  getMapState<K extends MapStateKey, V>(descriptor: MapStateDescriptor<K, V>): MapState<K, V>;
  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): ReducingState<T>;
  getAggregatingState<IN, ACC, OUT>(descriptor: AggregatingStateDescriptor<IN, ACC, OUT>): AggregatingState<IN, OUT>;
  /**
   * The same state, read and written synchronously (Flink's original `ValueState`:
   * `value()`, `update()`): no Promise, no `await`. Works where the current key's state is
   * resident (see `src/api/state.ts`); throws `STATE_NOT_RESIDENT` elsewhere.
   */
  getSyncState<T>(descriptor: ValueStateDescriptor<T>): SyncValueState<T>;
  /** {@link getSyncState} for list state. */
  getSyncListState<T>(descriptor: ListStateDescriptor<T>): SyncListState<T>;
  /** {@link getSyncState} for map state. */
  getSyncMapState<K extends MapStateKey, V>(descriptor: MapStateDescriptor<K, V>): SyncMapState<K, V>;
  /** {@link getSyncState} for reducing state. */
  getSyncReducingState<T>(descriptor: ReducingStateDescriptor<T>): SyncReducingState<T>;
  /** {@link getSyncState} for aggregating state. */
  getSyncAggregatingState<IN, ACC, OUT>(descriptor: AggregatingStateDescriptor<IN, ACC, OUT>): SyncAggregatingState<IN, OUT>;
  /** 0-based index of this parallel subtask. */
  getIndexOfThisSubtask(): number;
  getNumberOfParallelSubtasks(): number;
  getMaxNumberOfParallelSubtasks(): number;
  /** The operator's name. */
  getTaskName(): string;
  /** The operator's name with the subtask, e.g. `Counter (2/4)`. */
  getTaskNameWithSubtasks(): string;
  /** The job's name. */
  getJobName(): string;
}

/** Lifecycle methods every function may have. */
export interface RichFunction {
  /** Called once per subtask before the first record; obtain state handles here. */
  open?(ctx: RuntimeContext): Awaitable<void>;
  /** Called once per subtask after the last record (also on failure, best effort). */
  close?(): Awaitable<void>;
}

/** The function of `map`: one output per input; a plain function or a rich function object with `map`. */
export type MapFunction<IN, OUT> = ((value: IN) => Awaitable<OUT>) | (RichFunction & { map(value: IN): Awaitable<OUT> });
/** The function of `flatMap`: any number of outputs per input, through `out`; a plain function or a rich function object with `flatMap`. */
export type FlatMapFunction<IN, OUT> =
  | ((value: IN, out: Collector<OUT>) => Awaitable<void>)
  | (RichFunction & { flatMap(value: IN, out: Collector<OUT>): Awaitable<void> });
/** The function of `filter`: keeps the inputs it returns true for; a plain function or a rich function object with `filter`. */
export type FilterFunction<T> = ((value: T) => Awaitable<boolean>) | (RichFunction & { filter(value: T): Awaitable<boolean> });
/** Folds two records of the same key into one (used by `KeyedStream.reduce`). */
export type ReduceFn<T> = ((a: T, b: T) => Awaitable<T>) | (RichFunction & { reduce(a: T, b: T): Awaitable<T> });

/** Time domains of timers. */
export type TimeDomain = 'EVENT_TIME' | 'PROCESSING_TIME';

/** Registers and deletes timers for the current key; reads the current times. */
export interface TimerService {
  currentProcessingTime(): number;
  currentWatermark(): number;
  registerEventTimeTimer(time: number): void;
  registerProcessingTimeTimer(time: number): void;
  deleteEventTimeTimer(time: number): void;
  deleteProcessingTimeTimer(time: number): void;
}

/** Context of `ProcessFunction.processElement`. */
export interface ProcessContext {
  /** The record's event-time timestamp, or `undefined` when it has none. */
  timestamp(): number | undefined;
  timerService(): TimerService;
  /** Emits `value` to the side output `tag`, with the current record's or timer's timestamp. */
  output<X>(tag: OutputTag<X>, value: X): void;
}

/** Context of `KeyedProcessFunction.processElement`. */
export interface KeyedProcessContext<K> extends ProcessContext {
  getCurrentKey(): K;
}

/** Context of `KeyedProcessFunction.onTimer`. */
export interface OnTimerContext<K> extends KeyedProcessContext<K> {
  timeDomain(): TimeDomain;
}

/** Shape of a keyed process function: records in, any number of records out, timers. */
export interface KeyedProcessFunctionLike<K, IN, OUT> extends RichFunction {
  processElement(value: IN, ctx: KeyedProcessContext<K>, out: Collector<OUT>): Awaitable<void>;
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<OUT>): Awaitable<void>;
}

/** Shape of a (non-keyed) process function. */
export interface ProcessFunctionLike<IN, OUT> extends RichFunction {
  processElement(value: IN, ctx: ProcessContext, out: Collector<OUT>): Awaitable<void>;
}

/**
 * Optional base of rich functions: keeps the {@link RuntimeContext} the engine hands it,
 * so that methods other than `open` can reach it through `getRuntimeContext()`.
 */
export abstract class AbstractRichFunction implements RichFunction {
  private runtimeContext?: RuntimeContext;
  /** Called by the engine before `open`. */
  setRuntimeContext(ctx: RuntimeContext): void {
    this.runtimeContext = ctx;
  }
  /** The context of the subtask this instance runs in. */
  getRuntimeContext(): RuntimeContext {
    if (!this.runtimeContext) {
      throw new EddyError(
        'INVALID_ARGUMENT',
        `getRuntimeContext() of ${this.constructor.name} was called before the function runs in a job: call it from open() on (the engine sets it before open()), not in the constructor or outside a job`,
        { component: 'function' },
      );
    }
    return this.runtimeContext;
  }
  open(_ctx: RuntimeContext): Awaitable<void> {}
  close(): Awaitable<void> {}
}

/** Base class of a map function with `open`/`close` (Flink's `RichMapFunction`). */
export abstract class RichMapFunction<IN, OUT> extends AbstractRichFunction {
  abstract map(value: IN): Awaitable<OUT>;
}

/** Base class of a flat-map function with `open`/`close` (Flink's `RichFlatMapFunction`). */
export abstract class RichFlatMapFunction<IN, OUT> extends AbstractRichFunction {
  abstract flatMap(value: IN, out: Collector<OUT>): Awaitable<void>;
}

/** Base class of a filter function with `open`/`close` (Flink's `RichFilterFunction`). */
export abstract class RichFilterFunction<T> extends AbstractRichFunction {
  abstract filter(value: T): Awaitable<boolean>;
}

/** Base class of a keyed process function (Flink's `KeyedProcessFunction`). */
export abstract class KeyedProcessFunction<K, IN, OUT> extends AbstractRichFunction implements KeyedProcessFunctionLike<K, IN, OUT> {
  abstract processElement(value: IN, ctx: KeyedProcessContext<K>, out: Collector<OUT>): Awaitable<void>;
  onTimer(_timestamp: number, _ctx: OnTimerContext<K>, _out: Collector<OUT>): Awaitable<void> {}
}

/** Base class of a non-keyed process function (Flink's `ProcessFunction`). */
export abstract class ProcessFunction<IN, OUT> extends AbstractRichFunction implements ProcessFunctionLike<IN, OUT> {
  abstract processElement(value: IN, ctx: ProcessContext, out: Collector<OUT>): Awaitable<void>;
}

/** Context of a sink's `invoke`. */
export interface SinkContext {
  timestamp(): number | undefined;
  currentWatermark(): number;
  currentProcessingTime(): number;
}

/** A sink: a plain function, or an object with `invoke` (Flink's `SinkFunction`). */
export type SinkFunction<T> = ((value: T) => Awaitable<void>) | (RichFunction & { invoke(value: T, ctx: SinkContext): Awaitable<void> });

/** The writer of a {@link Sink}, one per subtask (Flink's `SinkWriter`). */
export interface SinkWriter<T> {
  write(element: T, ctx: SinkContext): Awaitable<void>;
  /** Flushes buffered output; `endOfInput` is true after the last record of a bounded job. */
  flush?(endOfInput: boolean): Awaitable<void>;
  close?(): Awaitable<void>;
}

/** What a sink writer is created with. */
export interface SinkInitContext {
  getSubtaskId(): number;
  getNumberOfParallelSubtasks(): number;
}

/** A sink in the style of Flink's Sink V2: a factory of per-subtask writers. */
export interface Sink<T> {
  createWriter(ctx: SinkInitContext): Awaitable<SinkWriter<T>>;
}

/** The operator state of a function (Flink's `OperatorStateStore`). */
export interface OperatorStateStore {
  /** List state redistributed by even split when the parallelism changes. */
  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
  /** List state of which every subtask gets every element on restore. */
  getUnionListState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
  /** A map that every subtask holds the same copy of. */
  getBroadcastState<K extends MapStateKey, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V>;
}

/** Passed to `CheckpointedFunction.initializeState`. */
export interface FunctionInitializationContext {
  /** True when the state was restored from a checkpoint or savepoint. */
  isRestored(): boolean;
  getOperatorStateStore(): OperatorStateStore;
  /** The keyed states, when the function runs on a keyed stream. */
  getKeyedStateStore(): RuntimeContext | undefined;
}

/** Passed to `CheckpointedFunction.snapshotState`. */
export interface FunctionSnapshotContext {
  getCheckpointId(): number;
  getCheckpointTimestamp(): number;
}

/** A function with operator state (Flink's `CheckpointedFunction`). */
export interface CheckpointedFunction {
  /** Called before `open`, once per subtask; obtain operator state here. */
  initializeState(ctx: FunctionInitializationContext): Awaitable<void>;
  /** Called when a checkpoint is taken: write what is not yet in state. */
  snapshotState(ctx: FunctionSnapshotContext): Awaitable<void>;
}

/** Told when checkpoints complete (Flink's `CheckpointListener`); sinks commit here. */
export interface CheckpointListener {
  notifyCheckpointComplete(checkpointId: number): Awaitable<void>;
  notifyCheckpointAborted?(checkpointId: number): Awaitable<void>;
}
