/**
 * Profiling harness for ttl-overhead (not part of `npm run bench`): the job of one line of
 * the bench with TTL and without, alternately, with wall and CPU time per run (CPU time
 * is the steadier figure on a shared machine):
 *   node --expose-gc --import tsx bench/profile-ttl-overhead.ts [runs] [sync|async|sqlite]
 *   node --cpu-prof --cpu-prof-dir=/tmp/eddy-prof --import tsx bench/profile-ttl-overhead.ts 5 sync
 *   node bench/top-self.mjs /tmp/eddy-prof/<file>.cpuprofile
 * A fourth argument `ttl` or `plain` runs only that side (for a profile of one side).
 */
import { HashMapStateBackend, StreamExecutionEnvironment, type StateBackend } from '../src/index.ts';
import { SqliteStateBackend } from '../src/backends/sqlite/index.ts';
import { gc, generateEvents, verifyCounts, type Ev } from './common.ts';
import { Counter, SyncCounter } from './engine-count.ts';
import { SyncTtlCounter, TtlCounter } from './ttl-overhead.ts';

const runs = Number(process.argv[2] ?? 5);
const mode = process.argv[3] ?? 'sync';
const sqlite = mode === 'sqlite';
const n = sqlite ? 200_000 : 1_000_000;
const events = generateEvents(n, 10_000);
const backend = (): StateBackend => (sqlite ? new SqliteStateBackend({ vfs: 'memory' }) : new HashMapStateBackend());

function run(counter: Counter | SyncCounter): Promise<[string, number][]> {
  return StreamExecutionEnvironment.getExecutionEnvironment()
    .setParallelism(1)
    .setStateBackend(backend())
    .fromCollection(events)
    .keyBy((e: Ev) => e.k)
    .process(counter)
    .executeAndCollect();
}

async function timed(ttl: boolean): Promise<number> {
  gc();
  const c0 = process.cpuUsage();
  const counter = mode === 'sync' ? (ttl ? new SyncTtlCounter() : new SyncCounter()) : ttl ? new TtlCounter() : new Counter();
  verifyCounts(await run(counter), 10_000, n / 10_000, ttl ? 'ttl' : 'plain');
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

const ttlMs: number[] = [];
const plainMs: number[] = [];
const only = process.argv[4];
for (let r = 0; r < runs; r++) {
  const t = only === 'plain' ? NaN : await timed(true);
  const p = only === 'ttl' ? NaN : await timed(false);
  ttlMs.push(t);
  plainMs.push(p);
  console.log(`run ${r}: ttl ${t.toFixed(1)} ms cpu, plain ${p.toFixed(1)} ms cpu, ratio ${(p / t).toFixed(3)}`);
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const best = (xs: number[]): number => Math.min(...xs);
console.log(
  `${mode}: median ttl ${median(ttlMs).toFixed(1)} plain ${median(plainMs).toFixed(1)} ratio ${(median(plainMs) / median(ttlMs)).toFixed(3)}; best ratio ${(best(plainMs) / best(ttlMs)).toFixed(3)}`,
);
