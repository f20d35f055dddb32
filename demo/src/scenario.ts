/**
 * The demo's world: card transactions made by a deterministic generator. Transaction `i`
 * is a pure function of `i`, so a replay after a restore produces the very same events,
 * and what every window must hold is known in advance (as in Flink's operations
 * playground): each of the {@link CARDS} cards makes exactly {@link PER_CARD_PER_SECOND}
 * transactions in every second of event time. Event time is the generator's own clock
 * (transaction `i` happens at `i / PER_SECOND` s); the rate slider only changes how fast
 * that clock runs against the wall clock.
 */

/** The state backends the page offers. */
export type BackendName = 'memory' | 'indexeddb' | 'sqlite';

/** The uid of the job's keyed operator whose state the inspector reads. */
export const PROFILE_UID = 'card-profile';
/** The uid of the job's window operator that counts each card's transactions per 1-s window (the inspector reads its windows in flight). */
export const COUNT_UID = 'count-per-card';

/** Cards in the world. */
export const CARDS = 100;
/** Transactions per card in every 1-second window of event time. */
export const PER_CARD_PER_SECOND = 10;
/** Transactions per second of event time, over all cards. */
export const PER_SECOND = CARDS * PER_CARD_PER_SECOND;
/**
 * The generator's fixed number of splits: transaction `i` belongs to split `i % SPLITS`.
 * The demo's largest parallelism, so that every source subtask has a split at any
 * parallelism from 1 to 4, and a restore at another parallelism redistributes them.
 */
export const SPLITS = 4;
/** Amounts below this (in cents) arm the fraud rule; see `CardProfile`. */
export const SMALL_CENTS = 100;
/** An amount above this (in cents) within 1 s after a small one raises an alert. */
export const LARGE_CENTS = 50_000;

const MERCHANTS = ['grocery', 'fuel', 'travel', 'online', 'restaurant', 'pharmacy', 'books', 'games'] as const;

/** One card transaction. `at` is the wall-clock time it was generated (for latency only; never checked). */
export interface Tx {
  readonly seq: number;
  readonly card: string;
  readonly cents: number;
  readonly merchant: string;
  /** Event time, ms. */
  readonly ts: number;
  readonly at: number;
}

/** The card of transaction `i`: within each block of CARDS transactions every card appears once. */
export function cardOf(i: number): number {
  // 7 is coprime with CARDS (100): for a fixed block, the map is a permutation of the cards.
  return ((i % CARDS) * 7 + Math.floor(i / CARDS)) % CARDS;
}

/** The name of card `n`. */
export function cardName(n: number): string {
  return `card-${String(n).padStart(3, '0')}`;
}

/** A small integer hash of `i` (deterministic amounts and merchants). */
function mix(i: number): number {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The event time of transaction `i`: PER_SECOND transactions per second, evenly spaced. */
export function eventTimeOf(i: number): number {
  return Math.floor(i / PER_SECOND) * 1000 + Math.floor(((i % PER_SECOND) * 1000) / PER_SECOND);
}

/** Transaction `i`, generated at wall-clock time `at`. */
export function transaction(i: number, at: number): Tx {
  const h = mix(i);
  // 1 in 16 is tiny (arms the fraud rule), 1 in 64 is large; the rest are everyday amounts.
  const cents = (h & 15) === 0 ? 1 + (h % 99) : (h & 63) === 1 ? 50_001 + (h % 100_000) : 100 + (h % 20_000);
  return { seq: i, card: cardName(cardOf(i)), cents, merchant: MERCHANTS[(h >>> 8) % MERCHANTS.length]!, ts: eventTimeOf(i), at };
}

/** How many transactions split `s` generated at position `next` (its next index is `s + SPLITS * next`). */
export function generatedBy(positions: readonly number[]): number {
  return positions.reduce((a, b) => a + b, 0);
}

/**
 * The number of transactions of `card` among those generated when the splits stood at
 * `positions`: the value the card's `count` state must have once the job caught up.
 */
export function expectedCount(card: string, positions: readonly number[]): number {
  let n = 0;
  positions.forEach((next, s) => {
    for (let k = 0; k < next; k++) if (cardName(cardOf(s + SPLITS * k)) === card) n++;
  });
  return n;
}
