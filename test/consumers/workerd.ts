/**
 * A Cloudflare Worker as wrangler would make it: esbuild bundles the Worker with the
 * `workerd`/`worker`/`browser` conditions, and miniflare runs the bundle in workerd.
 */
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';

/** Bundles `entry`, runs it in workerd (an R2 bucket bound as CHECKPOINTS) and asks it for `/?words=a,b,a`, `/main` and `/r2`. */
export async function runInWorkerd(entry: string): Promise<{ bundle: string; words: string; main: string; r2: string }> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    logLevel: 'silent',
  });
  const bundle = out.outputFiles[0]!.text;
  const mf = new Miniflare({ modules: true, script: bundle, compatibilityDate: '2026-07-01', r2Buckets: ['CHECKPOINTS'] });
  try {
    const words = await (await mf.dispatchFetch('http://localhost/?words=a,b,a')).text();
    const main = await (await mf.dispatchFetch('http://localhost/main')).text();
    const r2 = await (await mf.dispatchFetch('http://localhost/r2')).text();
    return { bundle, words, main, r2 };
  } finally {
    await mf.dispose();
  }
}
