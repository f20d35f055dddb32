/**
 * eddy: Apache Flink's state management — keyed state, operator state, timers,
 * watermarks — in TypeScript, for browsers, Node, Deno and the edge.
 */
export { StreamExecutionEnvironment, DEFAULT_MAX_PARALLELISM, UPPER_BOUND_MAX_PARALLELISM, type JobExecutionResult } from './datastream/environment.ts';
export { ExecutionConfig, DEFAULT_AUTO_WATERMARK_INTERVAL } from './datastream/execution-config.ts';
export {
  CheckpointConfig,
  CheckpointingMode,
  ExternalizedCheckpointRetention,
  RestartStrategies,
  type ExponentialDelayRestartStrategy,
  type FailureRateRestartStrategy,
  type FixedDelayRestartStrategy,
  type RestartStrategy,
} from './datastream/checkpointing.ts';
export type { SavepointRestoreSettings } from './engine/restore-match.ts';
export { JobClient, type JobFailureInfo, type JobStatus, type SubscribeOptions } from './datastream/job-client.ts';
export type { JobEvent } from './engine/job-events.ts';
export type { JobMetrics, OperatorMetrics } from './engine/metrics.ts';
export type { CheckpointStats, CheckpointStatsSnapshot, CheckpointStatus, RestoredCheckpointStats } from './engine/checkpoint-stats.ts';
export type { KeyStateEntry, KeyStateView } from './engine/state-query.ts';
export { LiveResults } from './datastream/live-results.ts';
export { defineJob, JobDefinition, type JobFunction, type JobResult } from './datastream/job-definition.ts';
export type { Executor } from './engine/executor.ts';
export { LocalExecutor } from './engine/local-executor.ts';
export { WorkerExecutor, type WorkerExecutorOptions } from './workers/worker-executor.ts';
export type { MessagePortLike, SpawnedWorker, WorkerPlatform } from './workers/worker-protocol.ts';
export { OutputTag } from './api/output-tag.ts';
export type { AggregationType, FieldExpression } from './api/aggregation.ts';
export { TwoPhaseCommitSink } from './api/two-phase-commit.ts';
export type { CheckpointStorage, StorageLock } from './format/checkpoint-storage.ts';
export { MemoryCheckpointStorage } from './storages/memory.ts';
export { OpfsCheckpointStorage, type OpfsCheckpointStorageOptions } from './storages/opfs.ts';
export { DataStream, DataStreamSink } from './datastream/datastream.ts';
export { KeyedStream } from './datastream/keyed-stream.ts';
export { WindowedStream } from './datastream/windowed-stream.ts';
export {
  CoGroupedStreams,
  CoGroupWithWindow,
  JoinedStreams,
  JoinWithWindow,
  type CoGroupFunction,
  type JoinFunction,
  type TaggedUnion,
} from './datastream/joined-streams.ts';
export type { WindowFunctionArg } from './datastream/windowed-stream.ts';
export { BroadcastConnectedStream, BroadcastStream, ConnectedStreams, IntervalJoin, IntervalJoined } from './datastream/connected-streams.ts';
export {
  CoProcessFunction,
  KeyedCoProcessFunction,
  RichCoFlatMapFunction,
  RichCoMapFunction,
  type CoFlatMapFunction,
  type CoMapFunction,
  type CoProcessFunctionLike,
  type KeyedCoProcessFunctionLike,
} from './api/co-functions.ts';
export {
  BroadcastProcessFunction,
  KeyedBroadcastProcessFunction,
  type BroadcastBaseContext,
  type BroadcastContext,
  type BroadcastProcessFunctionLike,
  type KeyedBroadcastContext,
  type KeyedBroadcastOnTimerContext,
  type KeyedBroadcastProcessFunctionLike,
  type KeyedReadOnlyBroadcastContext,
  type KeyedStateFunction,
  type ReadOnlyBroadcastContext,
  type ReadOnlyBroadcastState,
} from './api/broadcast-functions.ts';
export { ProcessJoinFunction, type ProcessJoinContext, type ProcessJoinFunctionLike } from './api/join-functions.ts';
export { GlobalWindow, TimeWindow, Window } from './api/windowing/windows.ts';
export {
  EventTimeSessionWindows,
  GlobalWindows,
  MergingWindowAssigner,
  ProcessingTimeSessionWindows,
  SlidingEventTimeWindows,
  SlidingProcessingTimeWindows,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
  WindowAssigner,
  type SessionWindowTimeGapExtractor,
  type WindowAssignerContext,
} from './api/windowing/assigners.ts';
export {
  ContinuousEventTimeTrigger,
  CountTrigger,
  EventTimeTrigger,
  NeverTrigger,
  ProcessingTimeTrigger,
  PurgingTrigger,
  Trigger,
  TriggerResult,
  type OnMergeContext,
  type TriggerContext,
} from './api/windowing/triggers.ts';
export { CountEvictor, TimeEvictor, TimestampedValue, type Evictor, type EvictorContext } from './api/windowing/evictors.ts';
export {
  ProcessWindowFunction,
  type KeyedStateStore,
  type ProcessWindowContext,
  type ProcessWindowFunctionLike,
  type WindowFunction,
} from './api/windowing/functions.ts';
export {
  AbstractRichFunction,
  KeyedProcessFunction,
  ProcessFunction,
  RichFilterFunction,
  RichFlatMapFunction,
  RichMapFunction,
  type Awaitable,
  type CheckpointedFunction,
  type CheckpointListener,
  type Collector,
  type FilterFunction,
  type FlatMapFunction,
  type FunctionInitializationContext,
  type FunctionSnapshotContext,
  type KeyedProcessContext,
  type KeyedProcessFunctionLike,
  type MapFunction,
  type OnTimerContext,
  type OperatorStateStore,
  type ProcessContext,
  type ProcessFunctionLike,
  type ReduceFn,
  type RichFunction,
  type RuntimeContext,
  type Sink,
  type SinkContext,
  type SinkFunction,
  type SinkInitContext,
  type SinkWriter,
  type TimeDomain,
  type TimerService,
} from './api/functions.ts';
export {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  StateDescriptor,
  ValueStateDescriptor,
  type StateKind,
  type ValueStateOptions,
} from './api/descriptors.ts';
export type {
  AggregateFunction,
  AggregatingState,
  BroadcastState,
  ListState,
  MapState,
  MapStateKey,
  ReduceFunction,
  ReducingState,
  State,
  SyncAggregatingState,
  SyncListState,
  SyncMapState,
  SyncReducingState,
  SyncState,
  SyncValueState,
  ValueState,
} from './api/state.ts';
export { ManualClock, SystemClock, type Clock, type ObservableClock } from './api/clock.ts';
export {
  DEFAULT_INCREMENTAL_CLEANUP,
  StateTtlConfig,
  StateTtlConfigBuilder,
  StateVisibility,
  UpdateType,
  type CleanupStrategies,
  type IncrementalCleanupStrategy,
} from './api/ttl.ts';
export {
  MAX_WATERMARK,
  WatermarkStrategy,
  type TimestampAssigner,
  type WatermarkGenerator,
  type WatermarkOutput,
} from './api/watermarks.ts';
export type {
  Boundedness,
  GeneratorOptions,
  LiveBufferOptions,
  OverflowPolicy,
  Source,
  SourceReader,
  SourceReaderContext,
} from './api/sources.ts';
export type { AbortSignalLike, EventTargetLike, Provided, PushSourceOptions } from './engine/sources/push-source.ts';
export {
  BroadcastChannelSource,
  EventTargetSource,
  ServerSentEventSource,
  WebSocketSource,
  type BroadcastChannelLike,
  type EventSourceLike,
  type EventTargetSourceOptions,
  type MessageEventLike,
  type MessageSourceOptions,
  type ServerSentEventSourceOptions,
  type WebSocketLike,
} from './engine/sources/live-sources.ts';
export {
  deleteIndexedDbSink,
  IndexedDbSink,
  readIndexedDbSink,
  readIndexedDbSinkAfter,
  type IndexedDbSinkEntry,
  type IndexedDbSinkOptions,
  type IndexedDbSinkTransaction,
} from './runtimes/web/indexeddb-sink.ts';
export { OpfsSink, readOpfsSink, type OpfsSinkOptions } from './storages/opfs-sink.ts';
export type { PartFileSinkOptions, PartFileTransaction } from './api/part-file-sink.ts';
export { jsonLinesEncoder, simpleStringEncoder, type RecordEncoder } from './api/sink-encoders.ts';
export {
  WritableStreamSink,
  type WritableStreamLike,
  type WritableStreamSinkOptions,
  type WritableStreamWriterLike,
} from './engine/sinks/writable-stream.ts';
export {
  ReadableStreamSource,
  type ReadableStreamLike,
  type ReadableStreamReaderLike,
  type ReadableStreamSourceOptions,
} from './engine/sources/readable-stream.ts';
export {
  CheckpointError,
  CheckpointStorageError,
  ConfigurationError,
  EddyError,
  InputLogError,
  InvalidKeyError,
  SinkError,
  SnapshotError,
  SourceError,
  StateBackendError,
  StateError,
  UserFunctionError,
  type EddyErrorCode,
  type ErrorContext,
} from './api/errors.ts';
export { DurableLog, type DurableLogOptions } from './engine/input-log/durable-log.ts';
export type { DurableLogSourceOptions } from './engine/input-log/log-source.ts';
export type { InputLogBounds, InputLogStore } from './format/input-log-store.ts';
export { MemoryInputLogStore } from './storages/memory-input-log.ts';
export { IndexedDbInputLogStore, type IndexedDbInputLogStoreOptions } from './storages/indexeddb-input-log.ts';
export { OpfsInputLogStore, type OpfsInputLogStoreOptions } from './storages/opfs-input-log.ts';
export { HashMapStateBackend } from './backends/memory.ts';
export { IndexedDbStateBackend, type IndexedDbStateBackendOptions } from './backends/indexeddb/index.ts';
export type {
  KeyedStateBackend,
  KeyedStateBackendOptions,
  ListTable,
  MapTable,
  StateBackend,
  StateTableOptions,
  ValueTable,
} from './state/backend.ts';
export type { KeyedStateSnapshot, StateMetaInfo, TtlMetaInfo } from './format/snapshot-format.ts';
export { KeyGroupRange, keyGroupForKey, keyGroupRangeForSubtask, subtaskForKeyGroup } from './format/key-groups.ts';
export type { Key } from './format/key-bytes.ts';
