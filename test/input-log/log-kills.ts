/**
 * The SIGKILL proof of the durable log: `kill-job.ts` runs as a child process that is
 * killed with SIGKILL at random moments (while its producer appends and its job
 * processes) and rerun by the same command until it finishes; the output committed
 * across all its lives must equal a failure-free run over the events `0 … events-1`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { prng } from '../helpers/prng.ts';

const JOB = fileURLToPath(new URL('./kill-job.ts', import.meta.url));

/**
 * The job bundled once into plain JavaScript: a life then starts in a fraction of the time
 * tsx needs to compile eddy in every child, so 30 lives fit in the time budget.
 */
async function bundleJob(dir: string): Promise<string> {
  const outfile = join(dir, 'kill-job.mjs');
  await build({ entryPoints: [JOB], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, logLevel: 'error' });
  return outfile;
}

/** How one life of the job ended, and the log's `next` offset when it started. */
interface Life {
  end: 'finished' | 'killed' | string;
  startedAt?: { first: number; next: number };
}

function life(job: string, dir: string, events: number, killAfterMs: number | undefined, hangAfterMs: number): Promise<Life> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [job, dir, String(events)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let armed = false;
    const hang = setTimeout(() => child.kill('SIGKILL'), hangAfterMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (killAfterMs !== undefined && !armed && stdout.includes('started')) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => {
      clearTimeout(hang);
      const m = /started first=(\d+) next=(\d+)/.exec(stdout);
      const startedAt = m ? { first: Number(m[1]), next: Number(m[2]) } : undefined;
      if (stdout.includes('finished')) resolve({ end: 'finished', startedAt });
      else if (signal === 'SIGKILL') resolve({ end: armed ? 'killed' : 'hang', startedAt });
      else
        resolve({
          end: `exit ${code}: ${stderr
            .trim()
            .split('\n')
            .filter((l) => !/^\s+at /.test(l))
            .slice(0, 6)
            .join(' | ')}`,
          startedAt,
        });
    });
  });
}

/** What the committed output files hold, all together. */
export async function committed(dir: string): Promise<string[]> {
  const out = join(dir, 'out');
  const files = (await readdir(out)).filter((f) => f.endsWith('.json'));
  return (await Promise.all(files.map(async (f) => JSON.parse(await readFile(join(out, f), 'utf8')) as string[]))).flat();
}

/** The result of a run: its lives, and the committed output. */
export interface KillRun {
  lives: Life[];
  output: string[];
}

/**
 * Kills the job `kills` times, each `minMs … maxMs` after it started (drawn from `seed`),
 * then lets it finish (a life that hangs past `hangAfterMs` ends the run).
 */
export async function runLogKills(events: number, kills: number, seed: number, minMs = 150, maxMs = 900, hangAfterMs = 60_000): Promise<KillRun> {
  const random = prng(seed);
  const dir = await mkdtemp(join(tmpdir(), 'eddy-log-kills-'));
  try {
    const job = await bundleJob(await mkdtemp(join(dir, 'bin-')));
    const lives: Life[] = [];
    for (let i = 0; i <= kills; i++) {
      const kill = i < kills ? Math.floor(minMs + random() * (maxMs - minMs)) : undefined;
      const l = await life(job, join(dir, 'job'), events, kill, hangAfterMs);
      lives.push(l);
      if (process.env.LOG_KILLS_DEBUG) console.log(`life ${i}: kill after ${kill} ms: ${l.end} (log at ${JSON.stringify(l.startedAt)})`);
      if (l.end !== 'killed' && l.end !== 'finished') break;
      if (l.end === 'finished') break;
    }
    return { lives, output: await committed(join(dir, 'job')) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
