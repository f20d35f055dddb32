/**
 * Operators of the broadcast state pattern (Flink's `CoBroadcastWithNonKeyedOperator` and
 * `CoBroadcastWithKeyedOperator`): the first input is the (keyed or not) stream, the
 * second the broadcast one, which every parallel instance receives whole. Broadcast state
 * is operator state in `broadcast` mode: checkpointed with the operator, and restored on
 * every instance at any parallelism.
 */
import type {
  BroadcastBaseContext,
  BroadcastContext,
  BroadcastProcessFunctionLike,
  KeyedBroadcastContext,
  KeyedBroadcastOnTimerContext,
  KeyedBroadcastProcessFunctionLike,
  KeyedStateFunction,
  ReadOnlyBroadcastContext,
  ReadOnlyBroadcastState,
} from '../../api/broadcast-functions.ts';
import type { MapStateDescriptor, StateDescriptor } from '../../api/descriptors.ts';
import { StateError } from '../../api/errors.ts';
import type { Collector, TimeDomain, TimerService } from '../../api/functions.ts';
import type { BroadcastState, MapStateKey } from '../../api/state.ts';
import type { Key } from '../../format/key-bytes.ts';
import { keyGroupForKey } from '../../format/key-groups.ts';
import { VOID_NAMESPACE } from '../../state/backend.ts';
import type { Timer } from '../timers.ts';
import { AbstractStreamOperator } from './base.ts';
import type { OutputBuffer, RecordBatch } from './operator.ts';
import { emitToSide } from './process.ts';

/** What both broadcast operators share: the declared states, the contexts' common part, the read-only views. */
abstract class BroadcastOperatorBase<F> extends AbstractStreamOperator<F> {
  protected timestamp = NaN;
  protected watermark = -Infinity;
  protected out: OutputBuffer | undefined;
  private readonly readOnly = new Map<string, ReadOnlyBroadcastState<MapStateKey, unknown>>();

  constructor(
    fn: F,
    /** The names of the descriptors given to `broadcast(...)`. */
    private readonly declared: ReadonlySet<string>,
  ) {
    super(fn);
  }

  protected baseContext(): BroadcastBaseContext {
    return {
      timestamp: () => (this.timestamp === this.timestamp ? this.timestamp : undefined),
      output: (tag, value) => emitToSide(this.out, tag, value, this.ctx.displayName),
      currentProcessingTime: () => this.ctx.clock.now(),
      currentWatermark: () => this.watermark,
    };
  }

  /** The writable broadcast state of a descriptor given to `broadcast(...)`. */
  protected broadcastState<K extends MapStateKey, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V> {
    const name = (descriptor as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string' || !this.declared.has(name)) {
      throw new StateError(
        'INVALID_ARGUMENT',
        `the broadcast state "${String(name)}" does not exist: getBroadcastState() takes one of the descriptors given to broadcast(...) (${[...this.declared].map((n) => `"${n}"`).join(', ')})`,
        { component: 'broadcast-state', operator: this.ctx.displayName, state: String(name) },
      );
    }
    return this.operatorState.getBroadcastState(descriptor);
  }

  /** The read-only view `processElement` gets. */
  protected readOnlyState<K extends MapStateKey, V>(descriptor: MapStateDescriptor<K, V>): ReadOnlyBroadcastState<K, V> {
    const state = this.broadcastState(descriptor);
    let view = this.readOnly.get(descriptor.name);
    if (view === undefined)
      this.readOnly.set(descriptor.name, (view = readOnlyView(state as BroadcastState<MapStateKey, unknown>, descriptor.name, this.ctx.displayName)));
    return view as ReadOnlyBroadcastState<K, V>;
  }

  override processWatermark(watermark: number, out: OutputBuffer): Promise<void> {
    this.watermark = watermark;
    return super.processWatermark(watermark, out);
  }
}

/** A read-only view of broadcast state: reads pass through, writes throw `STATE_READ_ONLY`. */
function readOnlyView(state: BroadcastState<MapStateKey, unknown>, name: string, operator: string): ReadOnlyBroadcastState<MapStateKey, unknown> {
  const refuse = (method: string) => (): never => {
    throw new StateError(
      'STATE_READ_ONLY',
      `broadcast state "${name}" is read-only in processElement (${method}() was called): only processBroadcastElement may change it, so that every parallel instance keeps the same copy`,
      { component: 'broadcast-state', operator, state: name },
    );
  };
  return {
    get: (k) => state.get(k),
    contains: (k) => state.contains(k),
    isEmpty: () => state.isEmpty(),
    immutableEntries: () => state.entries(),
    entries: () => state.entries(),
    keys: () => state.keys(),
    values: () => state.values(),
    put: refuse('put'),
    putAll: refuse('putAll'),
    remove: refuse('remove'),
    clear: refuse('clear'),
  } as ReadOnlyBroadcastState<MapStateKey, unknown>;
}

/** `stream.connect(broadcastStream).process(broadcastProcessFunction)`. */
export class BroadcastProcessOperator<IN1, IN2, OUT> extends BroadcastOperatorBase<BroadcastProcessFunctionLike<IN1, IN2, OUT>> {
  private readonly readOnlyContext: ReadOnlyBroadcastContext = { ...this.baseContext(), getBroadcastState: (d) => this.readOnlyState(d) };
  private readonly context: BroadcastContext = { ...this.baseContext(), getBroadcastState: (d) => this.broadcastState(d) };

  processBatch(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    this.out = out;
    return this.forEachRecord(batch, out, 'processElement', (v, o) => {
      this.timestamp = o.timestamp;
      return this.fn.processElement(v as IN1, this.readOnlyContext, o as Collector<OUT>);
    });
  }

  processBatch2(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    this.out = out;
    return this.forEachRecord(batch, out, 'processBroadcastElement', (v, o) => {
      this.timestamp = o.timestamp;
      return this.fn.processBroadcastElement(v as IN2, this.context, o as Collector<OUT>);
    });
  }
}

/** `keyedStream.connect(broadcastStream).process(keyedBroadcastProcessFunction)`: keyed state, timers, `applyToKeyedState`. */
export class KeyedBroadcastProcessOperator<K extends Key, IN1, IN2, OUT> extends BroadcastOperatorBase<KeyedBroadcastProcessFunctionLike<K, IN1, IN2, OUT>> {
  private domain: TimeDomain = 'EVENT_TIME';
  private readonly timerService: TimerService = this.keyedTimerService();
  private readonly readOnlyContext: KeyedBroadcastOnTimerContext<K> = {
    ...this.baseContext(),
    getBroadcastState: (d) => this.readOnlyState(d),
    timerService: () => this.timerService,
    getCurrentKey: () => this.timerKey() as K,
    timeDomain: () => this.domain,
  };
  private readonly context: KeyedBroadcastContext<K> = {
    ...this.baseContext(),
    getBroadcastState: (d) => this.broadcastState(d),
    applyToKeyedState: (d: StateDescriptor, fn: KeyedStateFunction<K, unknown>) => this.applyToKeyedState(d, fn),
  };

  processBatch(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    this.out = out;
    return this.forEachRecord(batch, out, 'processElement', (v, o) => {
      this.timestamp = o.timestamp;
      return this.fn.processElement(v as IN1, this.readOnlyContext, o as Collector<OUT>);
    });
  }

  processBatch2(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    this.out = out;
    // Broadcast records have no key: they reach keyed state only through applyToKeyedState.
    return this.forEachRecord(
      batch,
      out,
      'processBroadcastElement',
      (v, o) => {
        this.timestamp = o.timestamp;
        return this.fn.processBroadcastElement(v as IN2, this.context, o as Collector<OUT>);
      },
      false,
    );
  }

  protected override onTimer(timer: Timer, out: OutputBuffer): unknown {
    this.timestamp = timer.timestamp;
    this.domain = timer.domain;
    this.out = out;
    return this.fn.onTimer?.(timer.timestamp, this.readOnlyContext, out as Collector<OUT>);
  }

  /** Flink's `applyToKeyedState`: `fn(key, state)` for every key of this instance with state under `descriptor`. */
  private async applyToKeyedState(descriptor: StateDescriptor, fn: KeyedStateFunction<K, unknown>): Promise<void> {
    const state = this.keyedStateOf(descriptor);
    const call = typeof fn === 'function' ? fn : (key: K, s: unknown) => fn.process(key, s);
    const backend = this.backend!;
    // The keys first: the function may clear state, which would disturb a live iteration.
    const keys: Key[] = [];
    for await (const key of backend.keys(descriptor.name, VOID_NAMESPACE)) keys.push(key);
    for (const key of keys) {
      this.setCurrentKey(key, keyGroupForKey(key, this.ctx.maxParallelism));
      try {
        await call(key as K, state);
      } finally {
        backend.clearCurrentKey();
      }
    }
  }

  private keyedStateOf(d: StateDescriptor): unknown {
    const rc = this.runtimeContext;
    switch (d?.kind) {
      case 'value':
        return rc.getState(d as never);
      case 'list':
        return rc.getListState(d as never);
      case 'map':
        return rc.getMapState(d as never);
      case 'reducing':
        return rc.getReducingState(d as never);
      case 'aggregating':
        return rc.getAggregatingState(d as never);
      default:
        throw new StateError('INVALID_ARGUMENT', 'applyToKeyedState() needs a keyed state descriptor (ValueStateDescriptor, MapStateDescriptor, …)', {
          component: 'broadcast-state',
          operator: this.ctx.displayName,
        });
    }
  }
}
