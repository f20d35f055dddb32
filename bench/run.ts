/**
 * Benchmark runner: `npm run bench [-- name ...]`.
 * Prints one JSON line per bench, beginning `{"bench":`. Missing a floor never changes
 * the exit code (benches are not tests); only a crash or a wrong result does.
 */
import { keyedCount } from './keyed-count.ts';
import { keyedCountRxjs } from './keyed-count-rxjs.ts';
import { keyedCountSync } from './keyed-count-sync.ts';
import { stateMemory } from './state-memory.ts';
import { ttlOverhead } from './ttl-overhead.ts';
import { checkpointPause } from './checkpoint-pause.ts';
import { checkpointPauseSqlite } from './checkpoint-pause-sqlite.ts';
import { checkpointIncremental } from './checkpoint-incremental.ts';
import { recovery } from './recovery.ts';
import { sqliteVsRaw } from './sqlite-vs-raw.ts';
import { sqliteLargerThanMemory } from './sqlite-larger-than-memory.ts';
import { idbVsNaive } from './idb-vs-naive.ts';
import { opfsCheckpoint } from './opfs-checkpoint.ts';
import { workersSpeedup } from './workers-speedup.ts';
import { workersSpeedupChromium } from './workers-speedup-chromium.ts';
import { exchangeThroughput } from './exchange-throughput.ts';
import { windowBench } from './window.ts';
import { workerStart } from './worker-start.ts';
import { size } from './size.ts';
import { s3Checkpoint } from './s3-checkpoint.ts';
import { edge } from './edge.ts';
import { demo } from './demo.ts';
import { durableLog } from './durable-log.ts';
import { sqliteOpfs } from './sqlite-opfs.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

const benches: Record<string, (runs: number) => Promise<void>> = {
  'keyed-count': keyedCount,
  'keyed-count-rxjs': keyedCountRxjs,
  'keyed-count-sync': keyedCountSync,
  'state-memory': stateMemory,
  'ttl-overhead': ttlOverhead,
  'checkpoint-pause': checkpointPause,
  'checkpoint-pause-sqlite': checkpointPauseSqlite,
  'checkpoint-incremental': checkpointIncremental,
  recovery,
  'sqlite-vs-raw': sqliteVsRaw,
  'sqlite-larger-than-memory': sqliteLargerThanMemory,
  'idb-vs-naive': idbVsNaive,
  'opfs-checkpoint': opfsCheckpoint,
  'workers-speedup': workersSpeedup,
  'workers-speedup-chromium': workersSpeedupChromium,
  'exchange-throughput': exchangeThroughput,
  window: windowBench,
  'worker-start': workerStart,
  size,
  's3-checkpoint': s3Checkpoint,
  edge,
  demo,
  'durable-log': durableLog,
  'sqlite-opfs': sqliteOpfs,
};

const args = process.argv.slice(2).filter((a) => a !== '--');
const unknown = args.filter((a) => !(a in benches));
if (unknown.length > 0) {
  console.error(`unknown bench(es): ${unknown.join(', ')}; available: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}
if (!(Number.isInteger(RUNS) && RUNS >= 3)) {
  console.error(`BENCH_RUNS must be an integer >= 3, got ${process.env.BENCH_RUNS}`);
  process.exit(2);
}

for (const name of args.length > 0 ? args : Object.keys(benches)) {
  await benches[name]!(RUNS);
}
