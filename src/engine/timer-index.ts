/** The index of one domain's timers by key (see {@link KeyIndex}). */
import type { KeyId } from '../format/key-ids.ts';
import type { Timer } from './timer-snapshots.ts';
import { LIVE } from './timer-order.ts';

/** An index entry left by a timer that fired: the key has no pending timer there. */
export function isFired(entry: Timer | Map<number, Timer>): boolean {
  return !(entry instanceof Map) && entry.endedIn !== LIVE;
}

/** Fired timers an index keeps before it removes them, while it has pending ones too (beyond twice as many). */
export const COMPACT_AT = 256;

/**
 * The timers of one key group (namespace `''`) or one namespace, by key: the timer itself
 * while a key has one (the common case, and no Map per key to allocate), a Map by
 * timestamp once it has more. A key's single timer stays in once it fired (ended: it
 * counts as absent) until the key registers again, the index has no pending timer left
 * (it is cleared whole) or fired ones outnumber pending ones ({@link compact}).
 */
export class KeyIndex {
  readonly byKey = new Map<KeyId, Timer | Map<number, Timer>>();
  /** Pending timers. */
  live = 0;
  /** Entries of fired timers still in `byKey`. */
  stale = 0;
  /** Keys with a Map by timestamp. */
  multi = 0;

  /** Removes the entries of fired timers. */
  compact(): void {
    for (const [id, entry] of this.byKey) if (isFired(entry)) this.byKey.delete(id);
    this.stale = 0;
  }
}
