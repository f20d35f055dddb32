/**
 * The per-subtask copy of a user function. Flink serialises a function and deserialises
 * it once per subtask, so no two subtasks share anything the function holds. eddy does
 * not serialise functions (they may hold closures and need no codec), but copies what
 * serialisation would have copied: the function's own fields, and in them every plain
 * data structure — plain objects, arrays, Maps, Sets, nested in any way, cycles kept.
 * Anything else stays shared by reference: class instances (their prototype is not
 * Object's), functions, Dates, typed arrays, Promises. A class instance is how a job
 * hands a subtask something deliberately shared (a results collector, a client).
 */

/** Makes the per-subtask copy of a user function: prototype shared, plain data fields copied deeply. */
export function instantiate<F>(fn: F): F {
  if (typeof fn !== 'object' || fn === null) return fn;
  const copies = new Map<object, unknown>();
  const copy = Object.create(Object.getPrototypeOf(fn)) as Record<PropertyKey, unknown>;
  copies.set(fn as object, copy);
  for (const key of Reflect.ownKeys(fn as object)) {
    const desc = Object.getOwnPropertyDescriptor(fn, key)!;
    if ('value' in desc) desc.value = copyData(desc.value, copies);
    Object.defineProperty(copy, key, desc);
  }
  return copy as F;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function copyData(v: unknown, copies: Map<object, unknown>): unknown {
  if (typeof v !== 'object' || v === null) return v;
  const seen = copies.get(v);
  if (seen !== undefined) return seen;
  if (Array.isArray(v) && Object.getPrototypeOf(v) === Array.prototype) {
    const out: unknown[] = new Array(v.length);
    copies.set(v, out);
    for (let i = 0; i < v.length; i++) out[i] = copyData(v[i], copies);
    return out;
  }
  if (v instanceof Map && Object.getPrototypeOf(v) === Map.prototype) {
    const out = new Map();
    copies.set(v, out);
    for (const [k, x] of v) out.set(copyData(k, copies), copyData(x, copies));
    return out;
  }
  if (v instanceof Set && Object.getPrototypeOf(v) === Set.prototype) {
    const out = new Set();
    copies.set(v, out);
    for (const x of v) out.add(copyData(x, copies));
    return out;
  }
  if (!isPlainObject(v)) return v;
  const out = Object.create(Object.getPrototypeOf(v)) as Record<PropertyKey, unknown>;
  copies.set(v, out);
  for (const key of Reflect.ownKeys(v)) {
    const desc = Object.getOwnPropertyDescriptor(v, key)!;
    if ('value' in desc) desc.value = copyData(desc.value, copies);
    Object.defineProperty(out, key, desc);
  }
  return out;
}
