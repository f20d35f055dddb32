/**
 * keyed-count-rxjs: the keyed-count job vs. idiomatic RxJS over the same pre-generated
 * array: from(events).pipe(groupBy(key), mergeMap(g => g.pipe(scan(+1), last(), map → [key, count]))).
 * The engine must be faster (ratio engine/rxjs > 1).
 */
import { from, groupBy, last, lastValueFrom, map, mergeMap, scan, toArray } from 'rxjs';
import { generateEvents, report, round, timeInterleaved, verifyCounts, type Ev } from './common.ts';
import { runEngineCount } from './engine-count.ts';
import { EVENTS, KEYS } from './keyed-count.ts';

const FLOOR = 1;

export function rxjsCount(events: readonly Ev[]): Promise<[string, number][]> {
  return lastValueFrom(
    from(events).pipe(
      groupBy((e) => e.k),
      mergeMap((g) =>
        g.pipe(
          scan((c: number) => c + 1, 0),
          last(),
          map((c): [string, number] => [g.key, c]),
        ),
      ),
      toArray(),
    ),
  );
}

export async function keyedCountRxjs(runs: number): Promise<void> {
  const events = generateEvents(EVENTS, KEYS);
  const perKey = EVENTS / KEYS;
  const [engine, rx] = await timeInterleaved(
    [
      { name: 'engine', run: async () => verifyCounts(await runEngineCount(events), KEYS, perKey, 'engine') },
      { name: 'rxjs', run: async () => verifyCounts(await rxjsCount(events), KEYS, perKey, 'rxjs') },
    ],
    runs,
  );
  const engineEps = EVENTS / (engine!.medianMs / 1000);
  const rxEps = EVENTS / (rx!.medianMs / 1000);
  const ratio = engineEps / rxEps;
  report({
    bench: 'keyed-count-rxjs',
    events: EVENTS,
    keys: KEYS,
    parallelism: 1,
    input: 'same pre-generated array on both sides (engine: fromCollection, rxjs: from(array)); generation not timed',
    stat: `median of ${runs} interleaved runs after 1 warm-up each`,
    engineEventsPerSec: Math.round(engineEps),
    baselineEventsPerSec: Math.round(rxEps),
    baseline: 'rxjs 7: from(events).pipe(groupBy(k), mergeMap(g => g.pipe(scan(c+1), last(), map)), toArray())',
    ratio: round(ratio, 4),
    bestRatio: round(rx!.bestMs / engine!.bestMs, 4),
    engineMs: engine!.ms,
    baselineMs: rx!.ms,
    floor: FLOOR,
    floorRule: 'ratio > floor',
    pass: ratio > FLOOR,
  });
}
