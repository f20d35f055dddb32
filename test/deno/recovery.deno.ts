/**
 * A checkpointed job with a restart under `deno test`: vitest's
 * test/checkpoint/filesystem-recovery.test.ts, unchanged — a job checkpointing to disk fails
 * once, restarts from its files and gives exactly-once output — each of its cases a Deno test
 * through the portable runner (see conformance.deno.ts).
 */
import { denoTestFile } from '../portable/deno.ts';

await denoTestFile(() => import('../checkpoint/filesystem-recovery.test.ts'));
