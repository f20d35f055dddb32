/**
 * `npm run example:cloudflare`: runs `worker.ts` locally in workerd (miniflare) with the
 * settings of `wrangler.toml`, posts the example's transactions through the Worker in
 * batches, and prints the alerts the Durable Objects raised.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { MAX_WATERMARK } from '../../src/index.ts';
import { transactions, type Alert } from '../fraud-detector.ts';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const toml = readFileSync(here('./wrangler.toml'), 'utf8');
const setting = (name: string) => new RegExp(`^${name}\\s*=\\s*"([^"]+)"`, 'm').exec(toml)?.[1];
const binding = /\[\[durable_objects\.bindings\]\]\s*name\s*=\s*"([^"]+)"\s*class_name\s*=\s*"([^"]+)"/.exec(toml);
if (!binding) throw new Error('wrangler.toml: no [[durable_objects.bindings]] with name and class_name');

// What wrangler does: bundle the Worker with esbuild for workerd.
const bundle = await build({
  entryPoints: [here(`./${setting('main')}`)],
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'browser',
  conditions: ['workerd', 'worker', 'browser'],
  external: ['node:*'],
  target: 'es2022',
  logLevel: 'silent',
});
const mf = new Miniflare({
  modules: true,
  script: bundle.outputFiles[0]!.text,
  compatibilityDate: setting('compatibility_date'),
  durableObjects: { [binding[1]]: { className: binding[2], useSQLite: true } },
});

try {
  const txs = transactions(1_000);
  const alerts: Alert[] = [];
  const BATCH = 100;
  for (let i = 0; i <= txs.length; i += BATCH) {
    // The last batch carries no transactions, only the end of event time (fires the last timers).
    const body = i < txs.length ? { id: `tx-${i}`, events: txs.slice(i, i + BATCH) } : { id: 'end', events: [], watermark: MAX_WATERMARK };
    const response = await mf.dispatchFetch('http://localhost/events', { method: 'POST', body: JSON.stringify(body) });
    const answer = (await response.json()) as { output: Alert[]; error?: { message: string } };
    if (!response.ok) throw new Error(`batch ${body.id}: ${answer.error?.message}`);
    alerts.push(...answer.output);
  }
  alerts.sort((a, b) => a.ts - b.ts);
  for (const a of alerts) console.log(`ALERT account=${a.accountId} amount=${a.amount} at=${a.ts}`);
  console.log(`${alerts.length} alerts from ${txs.length} transactions, in 4 Durable Objects (workerd)`);
} finally {
  await mf.dispose();
}
