/**
 * Profiling harness for the engine side of keyed-count (not part of `npm run bench`):
 *   node --cpu-prof --cpu-prof-dir=/tmp/eddy-prof --import tsx bench/profile-keyed-count.ts [runs]
 *   node bench/top-self.mjs /tmp/eddy-prof/<file>.cpuprofile
 */
import { generateEvents, verifyCounts } from './common.ts';
import { runEngineCount } from './engine-count.ts';

const runs = Number(process.argv[2] ?? 5);
const events = generateEvents(1_000_000, 10_000);
for (let r = 0; r < runs; r++) {
  const t0 = performance.now();
  verifyCounts(await runEngineCount(events), 10_000, 100, 'engine');
  console.log(`run ${r}: ${(performance.now() - t0).toFixed(1)} ms`);
}
