/**
 * sqlite-vs-raw: the keyed-count job (`engine-count.ts`: count per key in
 * ValueState<number>, one [key, count] per key at the end) on SqliteStateBackend with an
 * in-memory database, vs. a hand loop over the same events doing what a programmer would
 * write with sqlite-wasm directly: one prepared UPSERT per event
 * (`INSERT … ON CONFLICT(k) DO UPDATE SET c = c + 1`, oo1 `bind`/`stepReset`), in
 * transactions of 10,000 events, then one SELECT of every count. Both sides run in this
 * process on the same sqlite-wasm module and verify their counts against the generator's.
 * Keys are uniform (`'k' + i % keys`) or Zipf-skewed (s = 1, over the same number of keys).
 */
import { StreamExecutionEnvironment } from '../src/index.ts';
import { SqliteStateBackend } from '../src/backends/sqlite/index.ts';
import { loadSqlite } from '../src/backends/sqlite/loader.ts';
import { flushedOnDispose, prng, report, round, timeInterleaved, type Ev } from './common.ts';
import { Counter } from './engine-count.ts';

const EVENTS = Number(process.env.SQLITE_BENCH_EVENTS ?? 200_000);
const KEYS = 20_000;
const BATCH = 10_000;
const FLOOR = 0.5;

/** Events over `keys` keys, uniform or Zipf(1), with the count each key must end with. */
function events(distribution: 'uniform' | 'zipf'): { events: Ev[]; expected: Map<string, number> } {
  const out: Ev[] = new Array(EVENTS);
  const expected = new Map<string, number>();
  let pick: (i: number) => number = (i) => i % KEYS;
  if (distribution === 'zipf') {
    const cdf = new Float64Array(KEYS);
    let sum = 0;
    for (let r = 0; r < KEYS; r++) cdf[r] = sum += 1 / (r + 1);
    const rand = prng(42);
    pick = () => {
      const x = rand() * sum;
      let lo = 0;
      let hi = KEYS - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid]! < x) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
  }
  for (let i = 0; i < EVENTS; i++) {
    const k = 'k' + pick(i);
    out[i] = { k };
    expected.set(k, (expected.get(k) ?? 0) + 1);
  }
  return { events: out, expected };
}

function verify(got: Iterable<readonly [string, number]>, expected: Map<string, number>, who: string): void {
  let n = 0;
  for (const [k, c] of got) {
    n++;
    if (expected.get(k) !== c) throw new Error(`${who}: key ${k} counted ${c}, expected ${expected.get(k)}`);
  }
  if (n !== expected.size) throw new Error(`${who}: ${n} keys, expected ${expected.size}`);
}

async function engineCount(evs: readonly Ev[]): Promise<[string, number][]> {
  // Flushed at the end, like the raw side, every count ends up in SQLite.
  const env = StreamExecutionEnvironment.getExecutionEnvironment()
    .setParallelism(1)
    .setStateBackend(flushedOnDispose(new SqliteStateBackend({ vfs: 'memory' })));
  return env
    .fromCollection(evs)
    .keyBy((e) => e.k)
    .process(new Counter())
    .executeAndCollect();
}

async function rawCount(evs: readonly Ev[]): Promise<[string, number][]> {
  const sqlite3 = await loadSqlite();
  const db = new sqlite3.oo1.DB(':memory:', 'c');
  try {
    db.exec('PRAGMA synchronous=OFF; CREATE TABLE counts (k TEXT PRIMARY KEY, c INTEGER NOT NULL) WITHOUT ROWID');
    const upsert = db.prepare('INSERT INTO counts (k, c) VALUES (?1, 1) ON CONFLICT (k) DO UPDATE SET c = c + 1');
    for (let i = 0; i < evs.length; i += BATCH) {
      db.exec('BEGIN');
      const end = Math.min(i + BATCH, evs.length);
      for (let j = i; j < end; j++) upsert.bind(1, evs[j]!.k).stepReset();
      db.exec('COMMIT');
    }
    upsert.finalize();
    return db.selectArrays('SELECT k, c FROM counts') as [string, number][];
  } finally {
    db.close();
  }
}

/** Runs both distributions; one JSON line each. */
export async function sqliteVsRaw(runs: number): Promise<void> {
  for (const distribution of ['uniform', 'zipf'] as const) {
    const { events: evs, expected } = events(distribution);
    const [engine, raw] = await timeInterleaved(
      [
        { name: 'engine', run: async () => verify(await engineCount(evs), expected, 'engine') },
        { name: 'raw', run: async () => verify(await rawCount(evs), expected, 'raw') },
      ],
      runs,
    );
    const engineEps = EVENTS / (engine!.medianMs / 1000);
    const rawEps = EVENTS / (raw!.medianMs / 1000);
    const ratio = engineEps / rawEps;
    report({
      bench: 'sqlite-vs-raw',
      distribution,
      events: EVENTS,
      keys: KEYS,
      distinctKeys: expected.size,
      parallelism: 1,
      input: 'same pre-generated array on both sides; generation not timed; result check timed on both sides',
      engine:
        'keyed-count job (fromCollection → keyBy → KeyedProcessFunction, ValueState<number>) on SqliteStateBackend({ vfs: "memory" }), default 8 MiB cache',
      baseline: `hand loop: sqlite-wasm oo1 prepared UPSERT per event, ${BATCH} events per transaction, then SELECT all (in-memory DB)`,
      stat: `median of ${runs} interleaved runs after 1 warm-up each`,
      engineEventsPerSec: Math.round(engineEps),
      baselineEventsPerSec: Math.round(rawEps),
      ratio: round(ratio, 4),
      bestRatio: round(raw!.bestMs / engine!.bestMs, 4),
      engineMs: engine!.ms,
      baselineMs: raw!.ms,
      floor: FLOOR,
      pass: ratio >= FLOOR,
    });
  }
}
