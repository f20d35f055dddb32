/**
 * keyed-count-sync: the keyed-count job (1,000,000 events over 10,000 keys, parallelism 1)
 * with a fully synchronous KeyedProcessFunction (`getSyncState()`: `value()`/`update()`,
 * no Promise, no await), vs the hand-written Map loop (floor 0.30, goal 0.5) and vs the
 * idiomatic RxJS count (floor 4×). Same pre-generated array on every side, counts verified.
 */
import { ENGINE_WARMUPS, generateEvents, report, round, timeInterleaved, verifyCounts } from './common.ts';
import { runEngineCountSync } from './engine-count.ts';
import { EVENTS, handCount, KEYS } from './keyed-count.ts';
import { rxjsCount } from './keyed-count-rxjs.ts';

const FLOOR_HAND = 0.3;
const GOAL_HAND = 0.5;
const FLOOR_RXJS = 4;

/** Runs the bench and prints two JSON lines (vs the hand loop, vs RxJS); see bench/run.ts. */
export async function keyedCountSync(runs: number): Promise<void> {
  const events = generateEvents(EVENTS, KEYS);
  const perKey = EVENTS / KEYS;
  const [engine, hand, rx] = await timeInterleaved(
    [
      { name: 'engine-sync', run: async () => verifyCounts(await runEngineCountSync(events), KEYS, perKey, 'engine-sync') },
      { name: 'hand', run: () => verifyCounts(handCount(events), KEYS, perKey, 'hand') },
      { name: 'rxjs', run: async () => verifyCounts(await rxjsCount(events), KEYS, perKey, 'rxjs') },
    ],
    runs,
    ENGINE_WARMUPS,
  );
  const engineEps = EVENTS / (engine!.medianMs / 1000);
  const common = {
    events: EVENTS,
    keys: KEYS,
    parallelism: 1,
    function: 'KeyedProcessFunction with SyncValueState<number> (getSyncState): value()/update(), processElement and onTimer return nothing',
    input: 'same pre-generated array on every side (engine: fromCollection); generation not timed; result check timed on every side',
    stat: `median of ${runs} interleaved runs after ${ENGINE_WARMUPS} warm-ups each`,
    engineEventsPerSec: Math.round(engineEps),
    engineMs: engine!.ms,
  };
  const handEps = EVENTS / (hand!.medianMs / 1000);
  const vsHand = engineEps / handEps;
  report({
    bench: 'keyed-count-sync',
    ...common,
    baselineEventsPerSec: Math.round(handEps),
    baseline: 'hand-written loop over Map<string, number>',
    ratio: round(vsHand, 4),
    bestRatio: round(hand!.bestMs / engine!.bestMs, 4),
    baselineMs: hand!.ms,
    floor: FLOOR_HAND,
    goal: GOAL_HAND,
    pass: vsHand >= FLOOR_HAND,
  });
  const rxEps = EVENTS / (rx!.medianMs / 1000);
  const vsRx = engineEps / rxEps;
  report({
    bench: 'keyed-count-sync-rxjs',
    ...common,
    baselineEventsPerSec: Math.round(rxEps),
    baseline: 'rxjs 7: from(events).pipe(groupBy(k), mergeMap(g => g.pipe(scan(c+1), last(), map)), toArray())',
    ratio: round(vsRx, 4),
    bestRatio: round(rx!.bestMs / engine!.bestMs, 4),
    baselineMs: rx!.ms,
    floor: FLOOR_RXJS,
    pass: vsRx >= FLOOR_RXJS,
  });
}
