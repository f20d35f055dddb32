/**
 * Hands out keyed state by descriptor for one operator subtask (what `RuntimeContext`
 * delegates to). The same name always yields the same state object; a name reused with
 * another kind is an error rather than silent corruption.
 */
import type {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  StateDescriptor,
  StateKind,
  ValueStateDescriptor,
} from '../api/descriptors.ts';
import { StateError } from '../api/errors.ts';
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
} from '../api/state.ts';
import { SystemClock, type Clock } from '../api/clock.ts';
import type { KeyedStateBackend, ListTable, MapTable, ValueTable } from './backend.ts';
import { AggregatingStateImpl } from './aggregating-state.ts';
import { ValueStateImpl } from './keyed-states.ts';
import { ListStateImpl } from './list-state.ts';
import { MapStateImpl } from './map-state.ts';
import { ReducingStateImpl } from './reducing-state.ts';
import { SyncAggregatingStateImpl, SyncListStateImpl, SyncMapStateImpl, SyncReducingStateImpl, SyncValueStateImpl } from './sync-states.ts';
import { TtlStates } from './ttl-states.ts';

/** One registered state: its kind, its (possibly TTL-decorated) table and the handles over it. */
interface Entry {
  readonly kind: StateKind;
  readonly table: unknown;
  state?: unknown;
  sync?: unknown;
}

/** The keyed states of one operator subtask, by name. */
export class KeyedStateStore {
  private readonly byName = new Map<string, Entry>();
  /**
   * The first access to a state of this subtask made while no record or timer was being
   * processed (see `NO_KEY_CONTEXT`); the operator fails the task with it.
   */
  misuse: StateError | undefined;
  private readonly reportMisuse = (error: StateError): void => {
    this.misuse ??= error;
  };
  /** Tables by descriptor, decorated with TTL where the descriptor enables it. */
  private readonly tables: TtlStates;
  /**
   * Whether a synchronous handle was handed to user code (the runtime context sets it): the
   * operator then makes every timer's key resident before `onTimer`, as the batch prefetch
   * does for records. Built-in operators check residency themselves and need no prefetch.
   */
  syncInUse = false;

  /** `clock` is the processing time TTL runs on (the environment's clock). */
  constructor(
    readonly backend: KeyedStateBackend,
    private readonly operatorName: string,
    clock: Clock = new SystemClock(),
  ) {
    this.tables = new TtlStates(backend, operatorName, clock);
  }

  /**
   * Called by the operator for every record and timer, after its key is set: TTL samples
   * the processing time anew, and cleanup asked to run per record runs. Answers a Promise
   * only when there is something to wait for.
   */
  onRecord(): Promise<unknown> | undefined {
    return this.tables.active ? this.tables.onRecord() : undefined;
  }

  /** The entry of a descriptor's state, its table created on first use. */
  private entry(descriptor: StateDescriptor, expected: StateKind, method: string, table: () => unknown): Entry {
    checkDescriptor(descriptor, this.operatorName);
    if (descriptor.kind !== expected) {
      throw new StateError(
        'INVALID_ARGUMENT',
        `${method}() takes a descriptor of ${expected} state, but "${descriptor.name}" describes ${descriptor.kind} state`,
        { component: 'state', operator: this.operatorName, state: descriptor.name },
      );
    }
    const existing = this.byName.get(descriptor.name);
    if (existing) {
      if (existing.kind !== descriptor.kind) {
        throw new StateError(
          'STATE_KIND_MISMATCH',
          `state "${descriptor.name}" was first registered as ${existing.kind} state and cannot be reused as ${descriptor.kind} state; give each state its own name`,
          { component: 'state', operator: this.operatorName, state: descriptor.name },
        );
      }
      return existing;
    }
    const created: Entry = { kind: descriptor.kind, table: table() };
    this.byName.set(descriptor.name, created);
    return created;
  }

  private lookup<S>(descriptor: StateDescriptor, expected: StateKind, method: string, table: () => unknown, create: (table: never) => S): S {
    const e = this.entry(descriptor, expected, method, table);
    if (e.state === undefined) e.state = this.handle(create(e.table as never));
    return e.state as S;
  }

  private lookupSync<S>(descriptor: StateDescriptor, expected: StateKind, method: string, table: () => unknown, create: (table: never) => S): S {
    const e = this.entry(descriptor, expected, method, table);
    if (e.sync === undefined) {
      e.sync = this.handle(create(e.table as never));
      this.backend.requireResident?.(descriptor.name);
    }
    return e.sync as S;
  }

  private handle<S>(state: S): S {
    (state as { reportMisuseTo(report: (error: StateError) => void): void }).reportMisuseTo(this.reportMisuse);
    return state;
  }

  getState<T>(d: ValueStateDescriptor<T>): ValueState<T> {
    return this.lookup(
      d,
      'value',
      'getState',
      () => this.tables.valueTable<T>(d, 'value'),
      (t: ValueTable<T>) => new ValueStateImpl<T>(this.backend, this.operatorName, d.name, t, d.defaultValue),
    );
  }

  getListState<T>(d: ListStateDescriptor<T>): ListState<T> {
    return this.lookup(
      d,
      'list',
      'getListState',
      () => this.tables.listTable<T>(d),
      (t: ListTable<T>) => new ListStateImpl<T>(this.backend, this.operatorName, d.name, t),
    );
  }

  getMapState<K extends MapStateKey, V>(d: MapStateDescriptor<K, V>): MapState<K, V> {
    return this.lookup(
      d,
      'map',
      'getMapState',
      () => this.tables.mapTable<V>(d),
      (t: MapTable<V>) => new MapStateImpl<K, V>(this.backend, this.operatorName, d.name, t),
    );
  }

  getReducingState<T>(d: ReducingStateDescriptor<T>): ReducingState<T> {
    return this.lookup(
      d,
      'reducing',
      'getReducingState',
      () => this.tables.valueTable<T>(d, 'reducing'),
      (t: ValueTable<T>) => new ReducingStateImpl<T>(this.backend, this.operatorName, d.name, t, d.reduce),
    );
  }

  getAggregatingState<IN, ACC, OUT>(d: AggregatingStateDescriptor<IN, ACC, OUT>): AggregatingState<IN, OUT> {
    return this.lookup(
      d,
      'aggregating',
      'getAggregatingState',
      () => this.tables.valueTable<ACC>(d, 'aggregating'),
      (t: ValueTable<ACC>) => new AggregatingStateImpl<IN, ACC, OUT>(this.backend, this.operatorName, d.name, t, d.aggregateFunction),
    );
  }

  /** The synchronous handle of a value state (same data as {@link getState}). */
  getSyncState<T>(d: ValueStateDescriptor<T>): SyncValueState<T> {
    return this.lookupSync(
      d,
      'value',
      'getSyncState',
      () => this.tables.valueTable<T>(d, 'value'),
      (t: ValueTable<T>) => new SyncValueStateImpl<T>(this.backend, this.operatorName, d.name, t, d.defaultValue),
    );
  }

  /** The synchronous handle of a list state. */
  getSyncListState<T>(d: ListStateDescriptor<T>): SyncListState<T> {
    return this.lookupSync(
      d,
      'list',
      'getSyncListState',
      () => this.tables.listTable<T>(d),
      (t: ListTable<T>) => new SyncListStateImpl<T>(this.backend, this.operatorName, d.name, t),
    );
  }

  /** The synchronous handle of a map state. */
  getSyncMapState<K extends MapStateKey, V>(d: MapStateDescriptor<K, V>): SyncMapState<K, V> {
    return this.lookupSync(
      d,
      'map',
      'getSyncMapState',
      () => this.tables.mapTable<V>(d),
      (t: MapTable<V>) => new SyncMapStateImpl<K, V>(this.backend, this.operatorName, d.name, t),
    );
  }

  /** The synchronous handle of a reducing state. */
  getSyncReducingState<T>(d: ReducingStateDescriptor<T>): SyncReducingState<T> {
    return this.lookupSync(
      d,
      'reducing',
      'getSyncReducingState',
      () => this.tables.valueTable<T>(d, 'reducing'),
      (t: ValueTable<T>) => new SyncReducingStateImpl<T>(this.backend, this.operatorName, d.name, t, d.reduce),
    );
  }

  /** The synchronous handle of an aggregating state. */
  getSyncAggregatingState<IN, ACC, OUT>(d: AggregatingStateDescriptor<IN, ACC, OUT>): SyncAggregatingState<IN, OUT> {
    return this.lookupSync(
      d,
      'aggregating',
      'getSyncAggregatingState',
      () => this.tables.valueTable<ACC>(d, 'aggregating'),
      (t: ValueTable<ACC>) => new SyncAggregatingStateImpl<IN, ACC, OUT>(this.backend, this.operatorName, d.name, t, d.aggregateFunction),
    );
  }
}

/** Rejects things that are not descriptors (a plain string, a descriptor of another kind's method). */
export function checkDescriptor(descriptor: unknown, operator: string): asserts descriptor is StateDescriptor {
  const d = descriptor as StateDescriptor | undefined;
  if (!d || typeof d !== 'object' || typeof d.name !== 'string' || typeof d.kind !== 'string') {
    throw new StateError(
      'INVALID_ARGUMENT',
      `expected a state descriptor (e.g. new ValueStateDescriptor('count')), got ${descriptor === null ? 'null' : typeof descriptor}`,
      { component: 'state', operator },
    );
  }
}
