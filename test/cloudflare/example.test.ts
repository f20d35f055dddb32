/**
 * `examples/cloudflare/`: the fraud-detection Worker, bundled and run in workerd with the
 * settings of its wrangler.toml, raises the same alerts as the job in Node.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { describe, expect, it } from 'vitest';
import { MAX_WATERMARK, WatermarkStrategy } from '../../src/api/watermarks.ts';
import { StreamExecutionEnvironment } from '../../src/datastream/environment.ts';
import { FraudDetector, transactions, type Transaction } from '../../examples/fraud-detector.ts';
import { batches, sorted } from './jobs.ts';
import { bundleWorker } from './workerd.ts';

describe('examples/cloudflare', () => {
  it('raises the alerts of the Node job from four Durable Objects', async () => {
    const txs = transactions(1_000);
    const expected = await StreamExecutionEnvironment.getExecutionEnvironment()
      .setParallelism(2)
      .fromCollection(txs)
      .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Transaction>(5_000).withTimestampAssigner((tx) => tx.ts))
      .setParallelism(1)
      .keyBy((tx) => tx.accountId)
      .process(new FraudDetector())
      .executeAndCollect('fraud-detection');
    expect(expected.length).toBe(20);

    const toml = readFileSync(fileURLToPath(new URL('../../examples/cloudflare/wrangler.toml', import.meta.url)), 'utf8');
    expect(toml).toMatch(/new_sqlite_classes = \["EddyJobObject"\]/);
    const script = await bundleWorker(fileURLToPath(new URL('../../examples/cloudflare/worker.ts', import.meta.url)));
    expect(script).not.toMatch(/from ["']node:/);
    const mf = new Miniflare({
      modules: true,
      script,
      compatibilityDate: /compatibility_date = "([^"]+)"/.exec(toml)![1],
      durableObjects: { EDDY_JOB: { className: 'EddyJobObject', useSQLite: true } },
    });
    try {
      const alerts: unknown[] = [];
      const bodies = [...batches(txs, 100).map((events, i) => ({ id: `tx-${i}`, events })), { id: 'end', events: [], watermark: MAX_WATERMARK }];
      for (const body of bodies) {
        const response = await mf.dispatchFetch('http://localhost/events', { method: 'POST', body: JSON.stringify(body) });
        const answer = (await response.json()) as { output: unknown[] };
        expect(response.status, JSON.stringify(answer)).toBe(200);
        alerts.push(...answer.output);
      }
      expect(sorted(alerts)).toEqual(sorted(expected));
    } finally {
      await mf.dispose();
    }
  });
});
