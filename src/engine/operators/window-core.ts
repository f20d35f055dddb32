/**
 * What every part of the window operator shares (the record paths, merging, firing): the
 * current key and window, the contexts handed to triggers, window functions and evictors,
 * a window's contents in keyed state (synchronously where resident), its cleanup time and
 * cleanup timer, and the late-data side output.
 */
import { AggregatingStateDescriptor, ListStateDescriptor, ReducingStateDescriptor, ValueStateDescriptor, type StateDescriptor } from '../../api/descriptors.ts';
import { ConfigurationError } from '../../api/errors.ts';
import type { Awaitable, Collector, RuntimeContext } from '../../api/functions.ts';
import type { AggregateFunction, ListState } from '../../api/state.ts';
import { MergingWindowAssigner, type WindowAssigner, type WindowAssignerContext } from '../../api/windowing/assigners.ts';
import type { Evictor, EvictorContext } from '../../api/windowing/evictors.ts';
import type { ProcessWindowContext } from '../../api/windowing/functions.ts';
import type { OnMergeContext, Trigger } from '../../api/windowing/triggers.ts';
import type { Window } from '../../api/windowing/windows.ts';
import { MAX_WATERMARK } from '../../api/watermarks.ts';
import type { Key } from '../../format/key-bytes.ts';
import type { KeyedStateBackend } from '../../state/backend.ts';
import type { KeyedStateStore } from '../../state/keyed-state-store.ts';
import type { InternalKvState } from '../../state/keyed-states.ts';
import type { OperatorTimers } from '../timers.ts';
import type { OperatorContext, OutputBuffer } from './operator.ts';
import { emitToSide } from './process.ts';
import type { MergingSetEntries, MergingSetStore } from './merging-window-set.ts';
import { mergeNamespaces, renamed, scoped, stateOf, syncContentsOf, windowStateStore, type ContentsTable, type SyncContents } from './window-state.ts';

/** How a window's contents are kept and handed to the window function. */
export type WindowContents =
  /** The records, in a list (process window functions). */
  | { readonly kind: 'list' }
  /** One value, reduced record by record. */
  | { readonly kind: 'reduce'; readonly reduce: (a: unknown, b: unknown) => unknown }
  /** One accumulator (aggregate functions). */
  | { readonly kind: 'aggregate'; readonly fn: AggregateFunction<unknown, unknown, unknown> };

/** Evaluates a fired window: the pre-aggregated value or the records in `input`. */
export type InternalWindowFunction = (
  key: Key,
  window: Window,
  ctx: ProcessWindowContext<Window>,
  input: unknown[],
  out: Collector<unknown>,
) => Awaitable<void>;

/** What `WindowedStream` configures. */
export interface WindowOperatorSpec {
  readonly assigner: WindowAssigner<unknown, Window>;
  readonly trigger: Trigger<unknown, Window>;
  readonly evictor?: Evictor<unknown, Window>;
  readonly allowedLateness: number;
  /** Tag id of the late-data side output. */
  readonly lateDataTag?: string;
  readonly contents: WindowContents;
  readonly apply: InternalWindowFunction;
  /** The user's window function, for `clear(context)`. */
  readonly clear?: (ctx: ProcessWindowContext<Window>) => Awaitable<void>;
}

/** Names of the operator's own states; user state names cannot start with `_window/`. */
const CONTENTS = '_window/contents';
const TRIGGER_PREFIX = '_window/trigger/';
const WINDOW_STATE_PREFIX = '_window/state/';
const MERGING_WINDOW_SET = '_window/merging-window-set';

/** The operator's own parts that the window parts use. */
export interface WindowHost {
  readonly ctx: OperatorContext;
  readonly timers: OperatorTimers;
  readonly backend: KeyedStateBackend;
  readonly store: KeyedStateStore;
  readonly runtimeContext: RuntimeContext;
  /** Key group of the current key. */
  keyGroup(): number;
}

/** The shared state of one window operator subtask (created in `open()`). */
export class WindowCore {
  /** The key being processed. */
  key: Key = 0;
  /** The window the trigger context and process context refer to. */
  window!: Window;
  /** The windows merged away while `onMerge` runs (for `mergePartitionedState`). */
  mergedWindows: Window[] = [];
  out!: OutputBuffer;
  readonly eventTime: boolean;
  readonly merging: MergingWindowAssigner<unknown, Window> | undefined;
  /** Whether every table answers at once (no residency to ask about). */
  readonly always: boolean;
  readonly contentsDescriptor: StateDescriptor;
  /** The contents, Promise-based (where not resident). */
  readonly contents: ListState<unknown> & InternalKvState;
  /** The same contents, synchronously. */
  readonly syncContents: SyncContents;
  /** The contents' table, for merging. */
  readonly contentsTable: ContentsTable;
  /** The in-flight windows of merging assigners, per key. */
  readonly mergingSet: MergingSetStore | undefined;
  readonly assignerContext: WindowAssignerContext;
  readonly triggerContext: OnMergeContext;
  readonly processContext: ProcessWindowContext<Window>;
  readonly evictorContext: EvictorContext;

  constructor(
    readonly spec: WindowOperatorSpec,
    readonly host: WindowHost,
  ) {
    const { ctx, timers, store, backend } = host;
    this.merging = spec.assigner instanceof MergingWindowAssigner ? spec.assigner : undefined;
    this.eventTime = spec.assigner.isEventTime();
    this.always = backend.syncAccess === 'always';
    const kind = spec.contents.kind;
    const d = (this.contentsDescriptor =
      spec.evictor !== undefined || kind === 'list'
        ? new ListStateDescriptor(CONTENTS)
        : kind === 'reduce'
          ? new ReducingStateDescriptor(CONTENTS, spec.contents.reduce)
          : new AggregatingStateDescriptor(CONTENTS, spec.contents.fn));
    this.contents = stateOf(store, d) as ListState<unknown> & InternalKvState;
    this.syncContents = syncContentsOf(store, d);
    this.contentsTable =
      d.kind === 'list' ? { kind: 'list', table: backend.listTable(CONTENTS) } : { kind: 'value', table: backend.valueTable(CONTENTS, d.kind as 'reducing') };
    this.mergingSet = this.merging === undefined ? undefined : this.mergingSetStore(store);
    this.assignerContext = { getCurrentProcessingTime: () => ctx.clock.now() };
    this.triggerContext = {
      getCurrentProcessingTime: () => ctx.clock.now(),
      getCurrentWatermark: () => timers.watermark,
      registerEventTimeTimer: (t) => void timers.register('EVENT_TIME', this.key, host.keyGroup(), t, this.window.namespace()),
      registerProcessingTimeTimer: (t) => {
        if (timers.register('PROCESSING_TIME', this.key, host.keyGroup(), t, this.window.namespace())) ctx.scheduleProcessingTime(t);
      },
      deleteEventTimeTimer: (t) => timers.delete('EVENT_TIME', this.key, host.keyGroup(), t, this.window.namespace()),
      deleteProcessingTimeTimer: (t) => timers.delete('PROCESSING_TIME', this.key, host.keyGroup(), t, this.window.namespace()),
      getPartitionedState: ((desc: StateDescriptor) =>
        scoped(stateOf(store, renamed(desc, TRIGGER_PREFIX + desc.name)) as object, this.window.namespace())) as OnMergeContext['getPartitionedState'],
      mergePartitionedState: (desc) =>
        mergeNamespaces(
          store,
          backend,
          renamed(desc, TRIGGER_PREFIX + desc.name),
          this.window.namespace(),
          this.mergedWindows.map((w) => w.namespace()),
          ctx.displayName,
        ),
    };
    this.processContext = {
      window: () => this.window,
      currentProcessingTime: () => ctx.clock.now(),
      currentWatermark: () => timers.watermark,
      windowState: () => windowStateStore(store, WINDOW_STATE_PREFIX, this.window.namespace()),
      globalState: () => host.runtimeContext,
      output: (tag, value) => emitToSide(this.out, tag, value, ctx.displayName),
    };
    this.evictorContext = { getCurrentProcessingTime: () => ctx.clock.now(), getCurrentWatermark: () => timers.watermark };
  }

  /**
   * The key's set of in-flight windows, in value state (namespace ''), straight over its
   * table: the operator writes it whole and only with window names, so no handle's checks
   * are needed, and the table answers at once wherever the key is resident.
   */
  private mergingSetStore(store: KeyedStateStore): MergingSetStore {
    const d = new ValueStateDescriptor<MergingSetEntries>(MERGING_WINDOW_SET);
    // Registered through the store like every state of the operator (kind checks, TTL: none).
    store.getState(d);
    const table = this.host.backend.valueTable<MergingSetEntries>(MERGING_WINDOW_SET, 'value');
    return {
      read: () => table.get(''),
      write: (entries) => (entries === undefined ? table.remove('') : table.put('', entries)),
    };
  }

  /** Whether the current key's contents under `ns` answer at once. */
  resident(ns: string): boolean {
    if (this.always) return true;
    this.syncContents.setCurrentNamespace(ns);
    return this.syncContents.isResident();
  }

  /** Adds a record (or [record, timestamp] with an evictor) to the contents under `ns`. */
  addContents(ns: string, stored: unknown): Awaitable<void> {
    if (this.resident(ns)) {
      this.syncContents.setCurrentNamespace(ns);
      this.syncContents.add(stored);
      return undefined;
    }
    this.contents.setCurrentNamespace(ns);
    return this.contents.add(stored);
  }

  /** The contents under `ns`: the list, reduced value or aggregate's result; `undefined` when empty. */
  getContents(ns: string): Awaitable<unknown> {
    if (this.resident(ns)) {
      this.syncContents.setCurrentNamespace(ns);
      return this.nonEmpty(this.syncContents.get());
    }
    this.contents.setCurrentNamespace(ns);
    return (this.contents.get() as Promise<unknown>).then((c) => this.nonEmpty(c));
  }

  /** A list's get() answers [] when empty; the operator treats that as "no contents". */
  nonEmpty(contents: unknown): unknown {
    return this.contentsDescriptor.kind === 'list' && (contents as unknown[]).length === 0 ? undefined : contents;
  }

  /** Drops the contents under `ns`. */
  clearContents(ns: string): Awaitable<void> {
    if (this.resident(ns)) {
      this.syncContents.setCurrentNamespace(ns);
      this.syncContents.clear();
      return undefined;
    }
    this.contents.setCurrentNamespace(ns);
    return this.contents.clear();
  }

  /** Combines two stored contents values when windows merge (reduce function, or the aggregate's merge). */
  fold(): ((a: unknown, b: unknown) => unknown) | undefined {
    const c = this.spec.contents;
    if (this.contentsDescriptor.kind === 'list') return undefined;
    if (c.kind === 'reduce') return c.reduce;
    if (c.kind === 'aggregate') {
      const fn = c.fn;
      if (typeof fn.merge !== 'function')
        throw new ConfigurationError(`merging windows need AggregateFunction.merge(a, b) for state "${CONTENTS}"`, { operator: this.host.ctx.displayName });
      return (a, b) => fn.merge!(a, b);
    }
    return undefined;
  }

  /** When a window's state goes: its end plus the allowed lateness (event time), its end (processing time). */
  cleanupTime(window: Window): number {
    if (!this.eventTime) return window.maxTimestamp();
    const t = window.maxTimestamp() + this.spec.allowedLateness;
    return t >= window.maxTimestamp() && t < MAX_WATERMARK ? t : MAX_WATERMARK;
  }

  /** Whether an event-time window is past its cleanup time already (its records are late data). */
  isWindowLate(window: Window): boolean {
    return this.eventTime && this.cleanupTime(window) <= this.host.timers.watermark;
  }

  /** The timer at the window's cleanup time (none for windows that never end). */
  registerCleanupTimer(window: Window): void {
    const t = this.cleanupTime(window);
    if (t === MAX_WATERMARK) return;
    this.window = window;
    if (this.eventTime) this.triggerContext.registerEventTimeTimer(t);
    else this.triggerContext.registerProcessingTimeTimer(t);
  }

  /** Deletes the cleanup timer of a window merged away. */
  deleteCleanupTimer(window: Window): void {
    const t = this.cleanupTime(window);
    if (t === MAX_WATERMARK) return;
    this.window = window;
    if (this.eventTime) this.triggerContext.deleteEventTimeTimer(t);
    else this.triggerContext.deleteProcessingTimeTimer(t);
  }

  /** A record that fell in no window because all were late goes to the late-data side output, if any. */
  sideOutputLate(skipped: boolean, value: unknown, timestamp: number): void {
    if (skipped && this.eventTime && timestamp + this.spec.allowedLateness <= this.host.timers.watermark) {
      if (this.spec.lateDataTag !== undefined) {
        this.out.timestamp = timestamp;
        this.out.sideOutput(this.spec.lateDataTag).collect(value);
      }
    }
  }
}
