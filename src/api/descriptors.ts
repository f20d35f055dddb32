/**
 * State descriptors: plain data that names a state and says what kind it is. A function
 * hands one to its {@link RuntimeContext} in `open()` and gets the state handle back.
 */
import type { AggregateFunction, ReduceFunction } from './state.ts';
import { StateError } from './errors.ts';
import { StateTtlConfig } from './ttl.ts';

/** The five kinds of keyed state. */
export type StateKind = 'value' | 'list' | 'map' | 'reducing' | 'aggregating';

/** What every descriptor carries. */
export abstract class StateDescriptor<T = unknown> {
  /** Unique per operator; reusing it with another kind is an error. */
  readonly name: string;
  /** Which of the five kinds this describes. */
  abstract readonly kind: StateKind;
  /** Time-to-live settings, when enabled with {@link StateDescriptor.enableTimeToLive}. */
  ttlConfig: StateTtlConfig | undefined = undefined;
  /** Phantom field so that descriptors of different value types stay distinct to TypeScript. */
  declare readonly __type?: T;

  constructor(name: string) {
    if (typeof name !== 'string' || name.length === 0) {
      throw new StateError('INVALID_ARGUMENT', `a state descriptor needs a non-empty string name, got ${String(name)}`, { component: 'descriptor' });
    }
    this.name = name;
  }

  /**
   * Lets the state's values expire (Flink's `enableTimeToLive`); see `src/api/ttl.ts` for
   * the semantics. Call it before the descriptor is used: a state keeps the config it was
   * registered with. A state cannot switch TTL on or off across a restore.
   */
  enableTimeToLive(ttlConfig: StateTtlConfig): this {
    if (!(ttlConfig instanceof StateTtlConfig)) {
      throw new StateError(
        'INVALID_ARGUMENT',
        `enableTimeToLive() needs a StateTtlConfig (StateTtlConfig.newBuilder(ms).build()), got ${ttlConfig === null ? 'null' : typeof ttlConfig}`,
        { component: 'descriptor', state: this.name },
      );
    }
    this.ttlConfig = ttlConfig;
    return this;
  }
}

/** Options of a {@link ValueStateDescriptor}. */
export interface ValueStateOptions<T> {
  /** Returned by `value()` when the key has no value (Flink's deprecated default value). */
  defaultValue?: T;
}

/** Describes a {@link ValueState}. */
export class ValueStateDescriptor<T> extends StateDescriptor<T> {
  readonly kind = 'value' as const;
  readonly defaultValue: T | undefined;
  constructor(name: string, options: ValueStateOptions<T> = {}) {
    super(name);
    this.defaultValue = options.defaultValue;
  }
}

/** Describes a {@link ListState} (also used for operator list, union and broadcast state). */
export class ListStateDescriptor<T> extends StateDescriptor<T> {
  readonly kind = 'list' as const;
}

/** Describes a {@link MapState} (also the descriptor of broadcast state). */
export class MapStateDescriptor<K, V> extends StateDescriptor<[K, V]> {
  readonly kind = 'map' as const;
}

/** Describes a {@link ReducingState}. */
export class ReducingStateDescriptor<T> extends StateDescriptor<T> {
  readonly kind = 'reducing' as const;
  readonly reduce: (a: T, b: T) => T;
  constructor(name: string, reduceFunction: ReduceFunction<T>) {
    super(name);
    if (typeof reduceFunction === 'function') this.reduce = reduceFunction;
    else if (reduceFunction && typeof reduceFunction.reduce === 'function') this.reduce = (a, b) => reduceFunction.reduce(a, b);
    else
      throw new StateError('INVALID_ARGUMENT', 'ReducingStateDescriptor needs a reduce function or an object with reduce(a, b)', {
        component: 'descriptor',
        state: name,
      });
  }
}

/** Describes an {@link AggregatingState}. */
export class AggregatingStateDescriptor<IN, ACC, OUT> extends StateDescriptor<ACC> {
  readonly kind = 'aggregating' as const;
  readonly aggregateFunction: AggregateFunction<IN, ACC, OUT>;
  constructor(name: string, aggregateFunction: AggregateFunction<IN, ACC, OUT>) {
    super(name);
    const f = aggregateFunction;
    if (!f || typeof f.createAccumulator !== 'function' || typeof f.add !== 'function' || typeof f.getResult !== 'function') {
      throw new StateError(
        'INVALID_ARGUMENT',
        'AggregatingStateDescriptor needs an AggregateFunction with createAccumulator(), add(value, acc) and getResult(acc)',
        { component: 'descriptor', state: name },
      );
    }
    this.aggregateFunction = f;
  }
}
