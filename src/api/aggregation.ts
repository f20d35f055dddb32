/**
 * Rolling aggregations of a keyed stream (Flink's `SumAggregator` and
 * `ComparableAggregator`): reduce functions over one field, named (objects) or indexed
 * (arrays). `sum`, `min` and `max` keep the other fields of the key's first record;
 * `minBy` and `maxBy` keep the whole record holding the extreme value (on ties the
 * first one, unless `first` is false).
 */
import { StateError } from './errors.ts';

/** A field of a record: a property name, or an index into an array record. */
export type FieldExpression = string | number;

/** The kind of rolling aggregation (Flink's `AggregationFunction.AggregationType`). */
export type AggregationType = 'SUM' | 'MIN' | 'MAX' | 'MINBY' | 'MAXBY';

function get(record: unknown, field: FieldExpression, what: string): unknown {
  if (record === null || typeof record !== 'object' || !(field in (record as object))) {
    throw new StateError('INVALID_ARGUMENT', `${what}: the record has no field ${JSON.stringify(field)}`, { component: 'aggregation' });
  }
  return (record as Record<string | number, unknown>)[field];
}

/** A copy of `record` with `field` set to `value` (records are data: arrays stay arrays). */
function withField<T>(record: T, field: FieldExpression, value: unknown): T {
  if (Array.isArray(record)) {
    const copy = [...record];
    copy[field as number] = value;
    return copy as T;
  }
  return { ...(record as object), [field]: value } as T;
}

function comparable(v: unknown, what: string, field: FieldExpression): number | string | bigint {
  const t = typeof v;
  if (t === 'number' || t === 'string' || t === 'bigint') return v as number | string | bigint;
  throw new StateError('INVALID_ARGUMENT', `${what}: field ${JSON.stringify(field)} holds ${v === null ? 'null' : t}, not a number, string or bigint`, {
    component: 'aggregation',
  });
}

/** The reduce function of a rolling aggregation over `field`. */
export function aggregationFunction<T>(type: AggregationType, field: FieldExpression, first = true): (a: T, b: T) => T {
  if (!(typeof field === 'string' || (Number.isInteger(field) && field >= 0))) {
    throw new StateError('INVALID_ARGUMENT', `${type.toLowerCase()}() needs a field name or a non-negative index, got ${String(field)}`, {
      component: 'aggregation',
    });
  }
  const what = `${type === 'MINBY' ? 'minBy' : type === 'MAXBY' ? 'maxBy' : type.toLowerCase()}(${JSON.stringify(field)})`;
  if (type === 'SUM') {
    return (a, b) => {
      const x = get(a, field, what);
      const y = get(b, field, what);
      if (typeof x === 'number' && typeof y === 'number') return withField(a, field, x + y);
      if (typeof x === 'bigint' && typeof y === 'bigint') return withField(a, field, x + y);
      throw new StateError(
        'INVALID_ARGUMENT',
        `${what}: field ${JSON.stringify(field)} must hold numbers (or bigints) in every record, got ${typeof x} and ${typeof y}`,
        { component: 'aggregation' },
      );
    };
  }
  const min = type === 'MIN' || type === 'MINBY';
  return (a, b) => {
    const x = comparable(get(a, field, what), what, field);
    const y = comparable(get(b, field, what), what, field);
    if (typeof x !== typeof y)
      throw new StateError('INVALID_ARGUMENT', `${what}: field ${JSON.stringify(field)} holds a ${typeof x} in one record and a ${typeof y} in another`, {
        component: 'aggregation',
      });
    const aWins = min ? x < y : x > y;
    if (type === 'MIN' || type === 'MAX') return aWins ? a : withField(a, field, y);
    if (aWins) return a;
    return x === y ? (first ? a : b) : b;
  };
}
