/**
 * Key ids: a key as a JS `Map` key. Primitives are their own id; arrays (which a `Map`
 * compares by identity) become a string holding their canonical bytes.
 */

import { SnapshotError } from '../api/errors.ts';
import { TAG_ARRAY, encodeKeyToScratch, invalidKey, keyFromCanonicalBytes, keyScratch, trimKeyScratch, type Key } from './key-bytes.ts';

/** A key as a JS `Map` key: primitives are themselves, arrays become a tagged string. */
export type KeyId = string | number | bigint | boolean;

const ID_ESCAPE = '\u0001';
const LATIN1_CHUNK = 8192;

function latin1(bytes: Uint8Array, end: number): string {
  let s = '';
  // fromCharCode.apply has an argument-count limit, so long keys go in chunks.
  for (let i = 0; i < end; i += LATIN1_CHUNK) {
    const chunk = bytes.subarray(i, Math.min(end, i + LATIN1_CHUNK));
    s += String.fromCharCode.apply(null, chunk as unknown as number[]);
  }
  return s;
}

/**
 * A `Map`-friendly id for a key. Primitives are their own id (`-0` becomes `0`), except
 * strings starting with `\u0001`, which get the prefix `\u0001s`; arrays become
 * `\u0001a` + their canonical bytes as a latin1 string. Distinct keys never share an id.
 * Non-key values throw `InvalidKeyError`; strings are not checked for lone
 * surrogates here (hashKey does that).
 */
export function keyId(key: Key): KeyId {
  // Every keyed record asks for its key's id: the common case stays small enough to inline.
  if (typeof key === 'string' && key.charCodeAt(0) !== 1) return key;
  return otherKeyId(key);
}

function otherKeyId(key: Key): KeyId {
  switch (typeof key) {
    case 'string':
      return ID_ESCAPE + 's' + key;
    case 'number':
      if (key !== key) invalidKey(key);
      return key === 0 ? 0 : key;
    case 'bigint':
    case 'boolean':
      return key;
  }
  if (!Array.isArray(key)) invalidKey(key);
  const end = encodeKeyToScratch(key);
  const id = ID_ESCAPE + 'a' + latin1(keyScratch(), end);
  trimKeyScratch();
  return id;
}

function badId(message: string): never {
  throw new SnapshotError('SNAPSHOT_CORRUPT', `malformed key id: ${message}`, { component: 'keys' });
}

/** The exact inverse of {@link keyId}. Throws `SnapshotError` on ids it never produces. */
export function keyFromId(id: KeyId): Key {
  switch (typeof id) {
    case 'number':
      if (id !== id) badId('NaN');
      return id;
    case 'bigint':
    case 'boolean':
      return id;
    case 'string':
      break;
    default:
      return badId(`unexpected ${typeof id}`);
  }
  if (id.charCodeAt(0) !== 1) return id;
  const kind = id.charAt(1);
  if (kind === 's') return id.slice(2);
  if (kind !== 'a') badId('unknown escape');
  const bytes = new Uint8Array(id.length - 2);
  for (let i = 0; i < bytes.length; i++) {
    const c = id.charCodeAt(i + 2);
    if (c > 0xff) badId('array id is not latin1');
    bytes[i] = c;
  }
  if (bytes[0] !== TAG_ARRAY) badId('array id does not hold an array');
  return keyFromCanonicalBytes(bytes);
}

/**
 * An upper bound of the length of the canonical bytes of the key whose id is `id`, found
 * without encoding it; `Infinity` when there is none this cheap (a bigint). A string id
 * holds the key's UTF-16 units (one to three UTF-8 bytes each; a surrogate pair, four for
 * two) or, for an array, a latin1 char per canonical byte; the tag byte comes on top.
 */
export function keyBytesBound(id: KeyId): number {
  switch (typeof id) {
    case 'string':
      return 1 + 3 * id.length;
    case 'number':
      return 9;
    case 'boolean':
      return 2;
    default:
      return Infinity;
  }
}
