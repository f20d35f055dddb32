/**
 * A Node process appending to a durable file log and processing it, killed with SIGKILL at
 * random moments and rerun by the same command: the committed output equals a
 * failure-free run. `npm test` runs 5 kills (about 15 s); the full proof of issue 17, 30 kills
 * over 3,000 events, is `npm run test:log-kills` (LOG_KILLS=30; about 65 s on a loaded
 * 2-core machine). The job is bundled once with esbuild, so a life starts fast.
 */
import { describe, expect, it } from 'vitest';
import { expectedRunningCounts } from '../helpers/running-count.ts';
import { runLogKills } from './log-kills.ts';

const KILLS = Number(process.env.LOG_KILLS ?? 5);
/** Enough input (appended at ~140 events/s) that the producer is still appending during most kills. */
const EVENTS = KILLS >= 20 ? 3000 : 700;

describe('durable log under SIGKILL', () => {
  it(`${KILLS} SIGKILLs while appending and processing: committed output equals the failure-free run`, async () => {
    const run = await runLogKills(EVENTS, KILLS, 17);
    const ends = run.lives.map((l) => l.end);
    expect(ends.filter((e) => e === 'killed')).toHaveLength(KILLS);
    expect(ends.at(-1)).toBe('finished');
    // Kills hit the producer too: later lives found more of the input already in the log.
    const appendingLives = run.lives.filter((l) => l.startedAt !== undefined && l.startedAt.next < EVENTS).length;
    expect(appendingLives).toBeGreaterThan(1);
    // And the job: a checkpoint completed and truncated the log between kills. (At least
    // one truncation: under load 17–24 a life killed 150–900 ms after its start often
    // completes none, and runs with one truncation in 5 kills were seen.)
    expect(new Set(run.lives.map((l) => l.startedAt?.first)).size).toBeGreaterThan(1);
    expect(run.output.sort()).toEqual(expectedRunningCounts(EVENTS, 7));
  }, 600_000);
});
