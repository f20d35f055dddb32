/**
 * keyed-count: 1,000,000 events over 10,000 keys at parallelism 1, counted per key in
 * ValueState<number> by a KeyedProcessFunction, vs. the same count in a hand-written loop
 * over a JS Map. Both sides read the same pre-generated array (generation is not timed on
 * either side) and both produce the [key, count] pairs, which are verified.
 */
import { generateEvents, report, round, timeInterleaved, verifyCounts, type Ev } from './common.ts';
import { runEngineCount } from './engine-count.ts';

export const EVENTS = 1_000_000;
export const KEYS = 10_000;
const FLOOR = 0.1;

/** The baseline: one Map lookup and set per event, then the pairs. */
export function handCount(events: readonly Ev[]): [string, number][] {
  const counts = new Map<string, number>();
  for (let i = 0; i < events.length; i++) {
    const k = events[i]!.k;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts];
}

export async function keyedCount(runs: number): Promise<void> {
  const events = generateEvents(EVENTS, KEYS);
  const perKey = EVENTS / KEYS;
  const [engine, hand] = await timeInterleaved(
    [
      { name: 'engine', run: async () => verifyCounts(await runEngineCount(events), KEYS, perKey, 'engine') },
      { name: 'hand', run: () => verifyCounts(handCount(events), KEYS, perKey, 'hand') },
    ],
    runs,
  );
  const engineEps = EVENTS / (engine!.medianMs / 1000);
  const handEps = EVENTS / (hand!.medianMs / 1000);
  const ratio = engineEps / handEps;
  report({
    bench: 'keyed-count',
    events: EVENTS,
    keys: KEYS,
    parallelism: 1,
    input: 'same pre-generated array on both sides (engine: fromCollection); generation not timed; result check timed on both sides',
    stat: `median of ${runs} interleaved runs after 1 warm-up each`,
    engineEventsPerSec: Math.round(engineEps),
    baselineEventsPerSec: Math.round(handEps),
    baseline: 'hand-written loop over Map<string, number>',
    ratio: round(ratio, 4),
    bestRatio: round(hand!.bestMs / engine!.bestMs, 4),
    engineMs: engine!.ms,
    baselineMs: hand!.ms,
    floor: FLOOR,
    pass: ratio >= FLOOR,
  });
}
