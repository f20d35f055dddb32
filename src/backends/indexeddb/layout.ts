/**
 * How eddy keys become IndexedDB key parts. IndexedDB orders and compares numbers and
 * strings natively, but has no bigint or boolean keys; core's `KeyId` (a Map-friendly id,
 * see `src/format/key-ids.ts`) is a number, a string, a bigint or a boolean. Bigints and
 * booleans become strings with a `\u0001` prefix that `keyId` never produces for a string
 * (its own escapes are `\u0001s` and `\u0001a`), so distinct keys stay distinct.
 */
import type { Key } from '../../format/key-bytes.ts';
import { keyFromId, type KeyId } from '../../format/key-ids.ts';

/** One key or user key as stored in an IndexedDB array key. */
export type KeyPart = number | string;

/** The IndexedDB key part of a key id. */
export function partOf(id: KeyId): KeyPart {
  switch (typeof id) {
    case 'number':
    case 'string':
      return id;
    case 'bigint':
      return '\u0001n' + id.toString();
    default:
      return id ? '\u0001t' : '\u0001f';
  }
}

/** The inverse of {@link partOf}. */
export function idOf(part: KeyPart): KeyId {
  if (typeof part === 'number' || part.charCodeAt(0) !== 1) return part;
  const tag = part.charCodeAt(1);
  if (tag === 0x6e /* n */) return BigInt(part.slice(2));
  if (tag === 0x74 /* t */) return true;
  if (tag === 0x66 /* f */) return false;
  return part;
}

/** The key a stored key part stands for. */
export function keyOfPart(part: KeyPart): Key {
  return keyFromId(idOf(part));
}

/** A record key: `[operatorId, keyGroup, state, key, namespace]`, plus the user key for map entries. */
export type RecordKey = [string, number, string, KeyPart, string] | [string, number, string, KeyPart, string, KeyPart];
