/**
 * Chaos in a browser tab: the job of `test/reload/page.ts` (IndexedDB state, OPFS
 * checkpoints, a two-phase-commit sink into localStorage) is stopped by real page reloads
 * at random moments and resumed by the next load from its newest OPFS checkpoint; the
 * output committed across all loads must equal a failure-free run.
 */
import { openChromium } from '../helpers/chromium-page.ts';
import { prng } from '../helpers/prng.ts';
import type { ReloadRun } from '../reload/page.ts';
import { failed, judge, newTally, record, settleWithin, type Tally } from './tally.ts';
import { expectedRunningCounts } from '../helpers/running-count.ts';

const RECORDS = 1200;

type PageApi = { eddyReload: { run(r: ReloadRun): Promise<string | null> }; chaosDone?: boolean };

/** `runs` jobs in one Chromium, each reloaded `reloadsPerRun` times after a random share of its records were committed. */
export async function runPageReloadChaos(runs: number, reloadsPerRun: number, seed: number, hangAfterMs = 120_000): Promise<Tally> {
  const random = prng(seed);
  const expected = expectedRunningCounts(RECORDS, 7);
  const tally = newTally();
  const session = await openChromium();
  try {
    const { page, origin } = session;
    for (let r = 0; r < runs; r++) {
      const run: ReloadRun = {
        job: `chaos-${r}-${Date.now().toString(36)}`,
        directory: `eddy-chaos-${r}-${Math.random().toString(36).slice(2, 8)}`,
        records: RECORDS,
        resume: false,
      };
      const committed = () =>
        page.evaluate(
          (prefix) =>
            Object.keys(localStorage)
              .filter((k) => k.startsWith(`${prefix}:`))
              .flatMap((k) => JSON.parse(localStorage.getItem(k)!) as string[]),
          run.job,
        );
      const start = async (resume: boolean) => {
        await page.waitForFunction(() => 'eddyReload' in globalThis, undefined, { timeout: 60_000 });
        await page.evaluate(
          (x) => {
            const g = globalThis as unknown as PageApi;
            void g.eddyReload.run(x).then(() => (g.chaosDone = true));
          },
          { ...run, resume },
        );
      };
      let reloads = 0;
      const settled = await settleWithin(hangAfterMs, async () => {
        await page.goto(`${origin}/test/reload/page.html`);
        await start(false);
        for (let k = 0; k < reloadsPerRun; k++) {
          // Reload at a random moment (0–150 ms) after the job committed something new since
          // its start or the last reload. Waiting for a share of the records instead was
          // passed by the job's end on a loaded machine (commits come in checkpoint-sized
          // steps, and an IndexedDB checkpoint can take a second there), leaving a run
          // without a single reload.
          const have = (await committed()).length;
          const done = () => page.evaluate(() => (globalThis as unknown as PageApi).chaosDone === true);
          while ((await committed()).length <= have && !(await done())) await new Promise((res) => setTimeout(res, 10));
          await new Promise((res) => setTimeout(res, Math.floor(150 * random())));
          if (await done()) break;
          await page.reload();
          reloads++;
          await start(true);
        }
        await page.waitForFunction(() => (globalThis as unknown as PageApi).chaosDone === true, undefined, { timeout: hangAfterMs, polling: 50 });
        return (await committed()).sort();
      });
      const name = `page reloaded ${reloads} times (run ${r})`;
      if ('hang' in settled) record(tally, name, reloads, { kind: 'hang', after: hangAfterMs });
      else if ('error' in settled) record(tally, name, reloads, failed(settled.error));
      else record(tally, name, reloads, judge(expected, settled.value));
    }
  } finally {
    await session.close();
  }
  return tally;
}
