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
import type { AggregatingState, ListState, MapState, MapStateKey, ReducingState, ValueState } from '../api/state.ts';
import { SystemClock, type Clock } from '../api/clock.ts';
import type { KeyedStateBackend } from './backend.ts';
import { AggregatingStateImpl } from './aggregating-state.ts';
import { ValueStateImpl } from './keyed-states.ts';
import { ListStateImpl } from './list-state.ts';
import { MapStateImpl } from './map-state.ts';
import { ReducingStateImpl } from './reducing-state.ts';
import { TtlStates } from './ttl-states.ts';

/** The keyed states of one operator subtask, by name. */
export class KeyedStateStore {
  private readonly byName = new Map<string, { kind: StateKind; state: unknown }>();
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

  private lookup<S>(descriptor: StateDescriptor, expected: StateKind, method: string, create: () => S): S {
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
      return existing.state as S;
    }
    const state = create();
    (state as { reportMisuseTo(report: (error: StateError) => void): void }).reportMisuseTo(this.reportMisuse);
    this.byName.set(descriptor.name, { kind: descriptor.kind, state });
    return state;
  }

  getState<T>(d: ValueStateDescriptor<T>): ValueState<T> {
    return this.lookup(
      d,
      'value',
      'getState',
      () => new ValueStateImpl<T>(this.backend, this.operatorName, d.name, this.tables.valueTable<T>(d, 'value'), d.defaultValue),
    );
  }

  getListState<T>(d: ListStateDescriptor<T>): ListState<T> {
    return this.lookup(d, 'list', 'getListState', () => new ListStateImpl<T>(this.backend, this.operatorName, d.name, this.tables.listTable<T>(d)));
  }

  getMapState<K extends MapStateKey, V>(d: MapStateDescriptor<K, V>): MapState<K, V> {
    return this.lookup(d, 'map', 'getMapState', () => new MapStateImpl<K, V>(this.backend, this.operatorName, d.name, this.tables.mapTable<V>(d)));
  }

  getReducingState<T>(d: ReducingStateDescriptor<T>): ReducingState<T> {
    return this.lookup(
      d,
      'reducing',
      'getReducingState',
      () => new ReducingStateImpl<T>(this.backend, this.operatorName, d.name, this.tables.valueTable<T>(d, 'reducing'), d.reduce),
    );
  }

  getAggregatingState<IN, ACC, OUT>(d: AggregatingStateDescriptor<IN, ACC, OUT>): AggregatingState<IN, OUT> {
    return this.lookup(
      d,
      'aggregating',
      'getAggregatingState',
      () => new AggregatingStateImpl<IN, ACC, OUT>(this.backend, this.operatorName, d.name, this.tables.valueTable<ACC>(d, 'aggregating'), d.aggregateFunction),
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
