// Runs npm scripts at the same time and fails if any of them fails: `npm test`'s static
// checks (three tsc projects, biome, the docs check) wait on the disk and on one another's
// single-threaded phases, so running them side by side shortens the test run. Each
// script's output is printed whole when it ends (never interleaved), with its time.
//
//   node scripts/parallel.mjs typecheck:node typecheck:core lint
import { spawn } from 'node:child_process';

/** Runs `npm run <script>` with its output captured; resolves to its exit code, output and seconds. */
function run(script) {
  const started = performance.now();
  const [name, ...args] = script.split(' ');
  const child = spawn('npm', ['run', name, ...(args.length > 0 ? ['--', ...args] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks = [];
  child.stdout.on('data', (c) => chunks.push(c));
  child.stderr.on('data', (c) => chunks.push(c));
  return new Promise((resolve) => {
    child.on('error', (e) => resolve({ script, code: 1, output: String(e), seconds: 0 }));
    child.on('close', (code, signal) =>
      resolve({ script, code: code ?? (signal ? 1 : 0), output: Buffer.concat(chunks).toString(), seconds: (performance.now() - started) / 1000 }),
    );
  });
}

const scripts = process.argv.slice(2);
if (scripts.length === 0) {
  console.error('usage: node scripts/parallel.mjs <npm script> [<npm script> …]');
  process.exit(2);
}
const results = await Promise.all(
  scripts.map((s) =>
    run(s).then((r) => {
      process.stdout.write(`${r.output}${r.output.endsWith('\n') || r.output === '' ? '' : '\n'}`);
      console.log(`[${r.code === 0 ? 'ok' : `FAILED (exit ${r.code})`}] npm run ${r.script} (${r.seconds.toFixed(1)} s)`);
      return r;
    }),
  ),
);
process.exitCode = results.some((r) => r.code !== 0) ? 1 : 0;
