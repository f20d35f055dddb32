/**
 * The TTL conformance suite and the in-place TTL cases (test/ttl/in-place.suite.ts),
 * unchanged, inside real workerd, on every backend listed in worker/targets.ts (a file of its
 * own next to state-backends.test.ts, so that each stays short). One vitest test per backend
 * and suite; a failure lists the failed cases by name with their errors.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { IN_PLACE_CAPABILITIES, STATE_BACKENDS } from './worker/targets.ts';
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
  for (const target of Object.keys(IN_PLACE_CAPABILITIES)) {
    it(`TTL pairs renewed in place (test/ttl/in-place.suite.ts) on ${target}`, () => workerd!.run('ttl-in-place', target), 120_000);
  }
});
