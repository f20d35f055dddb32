/**
 * Chaos across processes: the job of `process-job.ts` runs as a child process that is
 * killed with SIGKILL at random moments and started again by the same command until it
 * finishes; the output it committed across all its lives must equal a failure-free run.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prng } from '../helpers/prng.ts';
import { judge, newTally, record, type Tally } from './tally.ts';
import { expectedRunningCounts } from '../helpers/running-count.ts';

const JOB = fileURLToPath(new URL('./process-job.ts', import.meta.url));
const RECORDS = 1500;

/** One life of the job: resolves with how it ended; `killAfterMs` counts from the moment the job started. */
function life(dir: string, killAfterMs: number | undefined, hangAfterMs: number, timing?: { ms: number }): Promise<'finished' | 'killed' | 'hang' | string> {
  return new Promise((resolve) => {
    let startedAt = 0;
    const child = spawn(process.execPath, ['--import', 'tsx', JOB, dir, String(RECORDS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    const hang = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('hang');
    }, hangAfterMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (startedAt === 0 && stdout.includes('started')) startedAt = performance.now();
      if (killAfterMs !== undefined && stdout.includes('started') && !killed) {
        killed = true;
        setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => {
      clearTimeout(hang);
      if (timing) timing.ms = performance.now() - startedAt;
      if (signal === 'SIGKILL') resolve(stdout.includes('finished') ? 'finished' : 'killed');
      else if (code === 0) resolve('finished');
      else
        resolve(
          `exit ${code}: ${stderr
            .trim()
            .split('\n')
            .filter((l) => l.trim() && !/^\s+at /.test(l))
            .slice(0, 6)
            .join(' | ')}`,
        );
    });
  });
}

async function committed(dir: string): Promise<string[]> {
  const out = join(dir, 'out');
  const files = (await readdir(out)).filter((f) => f.endsWith('.json'));
  return (await Promise.all(files.map(async (f) => JSON.parse(await readFile(join(out, f), 'utf8')) as string[]))).flat();
}

/**
 * `runs` jobs, each killed `killsPerRun` times at moments drawn from `seed` (within the first
 * 80 % of a failure-free run's duration, measured first) and restarted until it finishes.
 */
export async function runProcessKillChaos(runs: number, killsPerRun: number, seed: number, hangAfterMs = 60_000): Promise<Tally> {
  const random = prng(seed);
  const expected = expectedRunningCounts(RECORDS, 7);
  const tally = newTally();
  const timing = { ms: 0 };
  // The failure-free run twice, timed by the faster: the first pays tsx's cold compile, and
  // kills drawn from its longer time often came after a warm life had already finished, so
  // a run in CI counted one fault where it drew two.
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 2; i++) {
    const probe = await mkdtemp(join(tmpdir(), 'eddy-chaos-process-'));
    try {
      const end = await life(probe, undefined, hangAfterMs, timing);
      if (end !== 'finished') throw new Error(`the failure-free run did not finish: ${end}`);
      fastest = Math.min(fastest, timing.ms);
    } finally {
      await rm(probe, { recursive: true, force: true });
    }
  }
  timing.ms = fastest;
  for (let r = 0; r < runs; r++) {
    const dir = await mkdtemp(join(tmpdir(), 'eddy-chaos-process-'));
    let faults = 0;
    let verdict: string | undefined;
    try {
      for (let lives = 0; verdict === undefined; lives++) {
        const kill = lives < killsPerRun ? Math.floor(random() * timing.ms * 0.8) : undefined;
        const end = await life(dir, kill, hangAfterMs);
        if (process.env.CHAOS_DEBUG) console.log(`life ${lives}: kill at ${kill} of ${timing.ms.toFixed(0)} ms: ${end}`);
        if (end === 'killed') faults++;
        else if (end === 'finished') verdict = 'finished';
        else verdict = end;
        if (lives > killsPerRun + 3) verdict ??= 'did not finish';
      }
      const name = `process killed ${faults} times (run ${r})`;
      if (verdict === 'hang') record(tally, name, faults, { kind: 'hang', after: hangAfterMs });
      else if (verdict !== 'finished') record(tally, name, faults, { kind: 'error', message: verdict });
      else record(tally, name, faults, judge(expected, (await committed(dir)).sort()));
    } finally {
      if (!process.env.CHAOS_KEEP) await rm(dir, { recursive: true, force: true });
      else console.log('kept', dir);
    }
  }
  return tally;
}
