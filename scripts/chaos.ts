/**
 * `npm run chaos`: the full chaos run (over 1,000 injected faults) across user code,
 * checkpoint storage, worker threads, processes and browser tabs; prints one table row per
 * fault family and a JSON line with the totals, and exits non-zero on any duplicate, loss,
 * hang or unexpected error. `CHAOS_SCALE=0.2 npm run chaos` runs a fifth of it.
 */
import { runInProcessChaos } from '../test/chaos/in-process.ts';
import { runPageReloadChaos } from '../test/chaos/page-reloads.ts';
import { runProcessKillChaos } from '../test/chaos/process-kills.ts';
import { merge, newTally, type Tally } from '../test/chaos/tally.ts';
import { runWorkerKillChaos } from '../test/chaos/worker-kills.ts';

const scale = Number(process.env.CHAOS_SCALE ?? 1);
const n = (count: number) => Math.max(1, Math.round(count * scale));
const seed = Number(process.env.CHAOS_SEED ?? 20261204);

const families: Array<[string, () => Promise<Tally>]> = [
  [
    'user code, storage writes and reads (one process)',
    () =>
      runInProcessChaos({
        seed,
        userFailures: n(580),
        failedPartWrites: n(140),
        failedManifestWrites: n(60),
        tornParts: n(90),
        corruptReads: n(90),
        sqliteEvery: 5,
      }),
  ],
  ['worker threads terminated', () => runWorkerKillChaos(n(40), seed)],
  ['processes killed with SIGKILL', () => runProcessKillChaos(n(15), 3, seed)],
  ['Chromium tabs reloaded', () => runPageReloadChaos(n(8), 3, seed)],
];

let total = newTally();
console.log('| faults of | injected | runs identical | runs with duplicates | runs with losses | hangs | refused (clear error) | other errors |');
console.log('|---|---|---|---|---|---|---|---|');
for (const [name, run] of families) {
  const t0 = performance.now();
  const t = await run();
  total = merge(total, t);
  console.log(
    `| ${name} | ${t.faults} | ${t.identical} | ${t.duplicates} | ${t.losses} | ${t.hangs} | ${t.refused} | ${t.errors} |  (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
  );
}
console.log(JSON.stringify({ chaos: 'total', seed, scale, ...total }));
const bad = total.duplicates + total.losses + total.hangs + total.errors;
if (bad > 0) {
  console.error(total.problems.join('\n'));
  process.exit(1);
}
