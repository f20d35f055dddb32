/**
 * R2CheckpointStorage inside real workerd on miniflare's R2 binding: the checkpoint-storage
 * conformance suite unchanged (on every storage of worker/targets.ts), then the R2 specifics
 * of worker/r2-cases.ts (the manifest commit race, keys, leases). A failure lists the failed
 * cases by name with their errors.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CHECKPOINT_STORAGES } from './worker/targets.ts';
import { startWorkerdSuites, type WorkerdSuites } from './workerd-suites.ts';

let workerd: WorkerdSuites | undefined;
beforeAll(async () => {
  workerd = await startWorkerdSuites();
}, 120_000);
afterAll(() => workerd?.dispose());

describe('checkpoint storages in workerd', () => {
  for (const target of Object.keys(CHECKPOINT_STORAGES)) {
    it(`checkpoint-storage conformance suite on ${target}`, () => workerd!.run('checkpoint-storage', target), 120_000);
  }
  it('R2CheckpointStorage specifics (the manifest commit race, keys, leases) on a real R2 binding', () => workerd!.run('r2-specific', 'r2', 5), 120_000);
});
