/**
 * Profiling harness for keyed-count-sync (not part of `npm run bench`): the synchronous
 * engine count and the hand loop alternately, with wall and CPU time per run (CPU time is
 * the steadier figure on a shared machine):
 *   node --cpu-prof --cpu-prof-dir=/tmp/eddy-prof --import tsx bench/profile-keyed-count-sync.ts [runs]
 *   node bench/top-self.mjs /tmp/eddy-prof/<file>.cpuprofile
 * With --expose-gc it forces a GC before every run, as the bench does (timeInterleaved).
 */
import { gc, generateEvents, verifyCounts } from './common.ts';
import { runEngineCountSync } from './engine-count.ts';
import { handCount } from './keyed-count.ts';
const runs = Number(process.argv[2] ?? 5);
const events = generateEvents(1_000_000, 10_000);
for (let r = 0; r < runs; r++) {
  gc();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  verifyCounts(await runEngineCountSync(events), 10_000, 100, 'engine');
  const c1 = process.cpuUsage(c0);
  const t1 = performance.now();
  gc();
  const c2 = process.cpuUsage();
  verifyCounts(handCount(events), 10_000, 100, 'hand');
  const c3 = process.cpuUsage(c2);
  console.log(
    `run ${r}: engine ${(t1 - t0).toFixed(1)} ms wall, ${((c1.user + c1.system) / 1000).toFixed(1)} ms cpu; hand ${(performance.now() - t1).toFixed(1)} ms wall, ${((c3.user + c3.system) / 1000).toFixed(1)} ms cpu`,
  );
}
