/** The {@link RuntimeContext} handed to user functions. */
import type {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  ValueStateDescriptor,
} from '../../api/descriptors.ts';
import { StateError } from '../../api/errors.ts';
import type { RuntimeContext } from '../../api/functions.ts';
import type {
  AggregatingState,
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
} from '../../api/state.ts';
import type { KeyedStateStore } from '../../state/keyed-state-store.ts';
import type { OperatorContext } from './operator.ts';

/** A subtask's runtime context; keyed state is available only on keyed streams. */
export class StreamingRuntimeContext implements RuntimeContext {
  constructor(
    private readonly ctx: OperatorContext,
    private readonly keyed: KeyedStateStore | undefined,
  ) {}

  private store(descriptor: { name?: string } | undefined): KeyedStateStore {
    if (this.keyed === undefined) {
      throw new StateError(
        'NO_KEY_CONTEXT',
        'keyed state is only available on a keyed stream: call keyBy() before this operator, or use operator state (CheckpointedFunction) instead',
        { component: 'state', operator: this.ctx.displayName, state: descriptor?.name },
      );
    }
    return this.keyed;
  }

  getState<T>(d: ValueStateDescriptor<T>): ValueState<T> {
    return this.store(d).getState(d);
  }
  getListState<T>(d: ListStateDescriptor<T>): ListState<T> {
    return this.store(d).getListState(d);
  }
  getMapState<K extends MapStateKey, V>(d: MapStateDescriptor<K, V>): MapState<K, V> {
    return this.store(d).getMapState(d);
  }
  getReducingState<T>(d: ReducingStateDescriptor<T>): ReducingState<T> {
    return this.store(d).getReducingState(d);
  }
  getAggregatingState<IN, ACC, OUT>(d: AggregatingStateDescriptor<IN, ACC, OUT>): AggregatingState<IN, OUT> {
    return this.store(d).getAggregatingState(d);
  }
  getSyncState<T>(d: ValueStateDescriptor<T>): SyncValueState<T> {
    return this.syncStore(d).getSyncState(d);
  }
  getSyncListState<T>(d: ListStateDescriptor<T>): SyncListState<T> {
    return this.syncStore(d).getSyncListState(d);
  }
  getSyncMapState<K extends MapStateKey, V>(d: MapStateDescriptor<K, V>): SyncMapState<K, V> {
    return this.syncStore(d).getSyncMapState(d);
  }
  getSyncReducingState<T>(d: ReducingStateDescriptor<T>): SyncReducingState<T> {
    return this.syncStore(d).getSyncReducingState(d);
  }
  getSyncAggregatingState<IN, ACC, OUT>(d: AggregatingStateDescriptor<IN, ACC, OUT>): SyncAggregatingState<IN, OUT> {
    return this.syncStore(d).getSyncAggregatingState(d);
  }
  /** The store, told that user code accesses state synchronously (timers' keys are then made resident). */
  private syncStore(descriptor: { name?: string } | undefined): KeyedStateStore {
    const store = this.store(descriptor);
    store.syncInUse = true;
    return store;
  }
  getIndexOfThisSubtask(): number {
    return this.ctx.subtaskIndex;
  }
  getNumberOfParallelSubtasks(): number {
    return this.ctx.parallelism;
  }
  getMaxNumberOfParallelSubtasks(): number {
    return this.ctx.maxParallelism;
  }
  getTaskName(): string {
    return this.ctx.name;
  }
  getTaskNameWithSubtasks(): string {
    return this.ctx.displayName;
  }
  getJobName(): string {
    return this.ctx.jobName;
  }
}
