/**
 * A Cloudflare Worker as wrangler would make it: esbuild bundles the Worker with the
 * `workerd`/`worker`/`browser` conditions, and miniflare runs the bundle in workerd.
 */
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';

/** Bundles `entry`, runs it in workerd and asks it for `/?words=a,b,a` and `/main`. */
export async function runInWorkerd(entry: string): Promise<{ bundle: string; words: string; main: string }> {
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
  const mf = new Miniflare({ modules: true, script: bundle, compatibilityDate: '2026-07-01' });
  try {
    const words = await (await mf.dispatchFetch('http://localhost/?words=a,b,a')).text();
    const main = await (await mf.dispatchFetch('http://localhost/main')).text();
    return { bundle, words, main };
  } finally {
    await mf.dispose();
  }
}
