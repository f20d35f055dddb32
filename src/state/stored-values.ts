/**
 * The {@link StoredValues} core hands to backends. Plain user values are the default; a
 * state with TTL stores pairs and supplies its own (`TTL_PAIR_VALUES` in `ttl-context.ts`).
 */
import { cloneValue } from '../format/value-clone.ts';
import type { StoredValues } from './backend.ts';

/** True for the primitives the codec always encodes (not undefined, bigint or symbol). */
export function isPlainPrimitive(v: unknown): boolean {
  const t = typeof v;
  return t === 'number' || t === 'string' || t === 'boolean' || v === null;
}

/**
 * Plain user values: primitives are kept as they are, objects as a deep copy, so that the
 * caller changing its object later cannot change the state or a snapshot being encoded
 * (the same behaviour as every persistent backend). Only encodable primitives are shareable.
 */
export const PLAIN_VALUES: StoredValues = {
  copy: <T>(value: T): T => (value !== null && typeof value === 'object' ? cloneValue(value) : value),
  shareable: isPlainPrimitive,
};
