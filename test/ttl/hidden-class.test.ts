import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const probe = fileURLToPath(new URL('./hidden-class-probe.ts', import.meta.url));

describe('the idle TTL tables kept between jobs (src/state/hidden-class.ts)', () => {
  // In a child process: V8's %HaveSameMap needs --allow-natives-syntax, which vitest's workers do not have.
  it('share their hidden classes, and their context and record time theirs, with the value, list and map tables a job uses', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--allow-natives-syntax', '--expose-gc', '--import', 'tsx', probe], { timeout: 60_000 });
    // A false here means a real object's class moved away from the idle one (a field added
    // in another order, or a time field that starts as a small integer): V8 then forgets the
    // real class between jobs again, and TTL jobs deoptimise (bench/README, ttl-overhead).
    const all = Object.fromEntries(['value', 'list', 'map'].flatMap((k) => [`${k}Table`, `${k}Context`, `${k}RecordTime`].map((f) => [f, true])));
    expect(JSON.parse(stdout)).toEqual(all);
  });
});
