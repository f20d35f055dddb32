/**
 * Where a job starts when its checkpoint storage already holds completed checkpoints of
 * an earlier run of the same job id (a process killed, a page reloaded, a job cancelled
 * under RETAIN_ON_CANCELLATION): from the newest of them when the program asked for it
 * (`env.fromLatestCheckpoint()`, like the Flink Kubernetes operator's `last-state`
 * upgrade mode), else from scratch with a warning that names the checkpoint.
 */
import { SnapshotError } from '../api/errors.ts';
import { decodeManifest, type Manifest } from '../format/checkpoint-format.ts';
import type { CheckpointStorage } from '../format/checkpoint-storage.ts';
import { loadNewestIntact, type LoadedCheckpoint } from './checkpoint-restore.ts';
import { MANIFEST_NAME } from '../format/checkpoint-storage.ts';
import { commitsOnCheckpoint, type JobGraph } from './graph.ts';

/** A completed checkpoint an earlier run left: its directory, and its manifest if readable. */
export interface PreviousCheckpoint {
  readonly dir: string;
  readonly manifest?: Manifest;
}

/** The manifests of `dirs` (newest first in, oldest first out); an unreadable one is listed without. */
export async function previousCheckpoints(storage: CheckpointStorage, dirs: readonly string[]): Promise<PreviousCheckpoint[]> {
  const out: PreviousCheckpoint[] = [];
  for (const dir of [...dirs].reverse()) {
    try {
      const bytes = await storage.get(`${dir}/${MANIFEST_NAME}`);
      out.push(bytes === undefined ? { dir } : { dir, manifest: decodeManifest(bytes, `${dir}/${MANIFEST_NAME}`) });
    } catch {
      out.push({ dir });
    }
  }
  return out;
}

/**
 * Loads the newest intact checkpoint of `dirs` (newest first) to resume from. When the
 * newest cannot be restored and the job commits output on checkpoints (exactly-once), an
 * older one would repeat output the newest's sinks already committed: refused, as on a
 * restart (see `JobRun`); the error names the checkpoint to restore explicitly instead.
 */
export async function loadLatestForResume(
  storage: CheckpointStorage,
  dirs: readonly string[],
  graph: JobGraph,
  aligned: boolean,
  warn: (m: string) => void,
): Promise<LoadedCheckpoint | undefined> {
  if (dirs.length === 0) return undefined;
  const loaded = await loadNewestIntact(storage, dirs, warn);
  if (!loaded) {
    throw new SnapshotError(
      'SNAPSHOT_CORRUPT',
      `none of the completed checkpoints of the job (${dirs.join(', ')}) can be restored; refusing to resume from scratch, which would repeat committed output (delete them to start over)`,
      { component: 'job' },
    );
  }
  if (loaded.path !== dirs[0] && aligned && commitsOnCheckpoint(graph)) {
    throw new SnapshotError(
      'SNAPSHOT_CORRUPT',
      `the newest checkpoint ${dirs[0]} cannot be restored, and resuming from ${loaded.path} would not be exactly-once: sinks already committed the output it covers. ` +
        `To accept duplicates, restore ${loaded.path} explicitly with env.fromSavepoint()`,
      { component: 'job' },
    );
  }
  return loaded;
}

/** The warning of a job that starts from scratch although an earlier run left checkpoints. */
export function notResumingWarning(jobId: string, newest: string, count: number): string {
  return (
    `[eddy] [job:${jobId}] the checkpoint storage holds ${count} completed checkpoint(s) of an earlier run of this job, the newest ${newest}; ` +
    `the job starts from scratch, so its output may repeat what that run committed. ` +
    `To continue where it stopped, call env.fromLatestCheckpoint() before execute(); ` +
    `retention deletes those checkpoints once this run's own complete`
  );
}
