/**
 * The TTL conformance suite, unchanged, inside real workerd, on every backend listed in
 * worker/targets.ts (a file of its own next to state-backends.test.ts, so that each stays
 * short). One vitest test per backend; a failure lists the failed cases by name with their errors.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { STATE_BACKENDS } from './worker/targets.ts';
import { startWorkerdSuites, type WorkerdSuites } from './workerd-suites.ts';

let workerd: WorkerdSuites | undefined;
beforeAll(async () => {
  workerd = await startWorkerdSuites();
}, 120_000);
afterAll(() => workerd?.dispose());

describe('state TTL in workerd', () => {
  for (const target of Object.keys(STATE_BACKENDS)) {
    it(`TTL conformance suite on ${target}`, () => workerd!.run('ttl', target), 120_000);
  }
});
