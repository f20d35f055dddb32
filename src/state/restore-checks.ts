/** Checks every backend runs before loading a keyed snapshot. */
import { SnapshotError } from '../api/errors.ts';
import { KEYED_SNAPSHOT_FORMAT_VERSION, type KeyedStateSnapshot } from '../format/snapshot-format.ts';

/**
 * Refuses a snapshot this build cannot read or that was taken with another max
 * parallelism (its key groups would land on the wrong keys).
 */
export function checkRestorable(snapshot: KeyedStateSnapshot, maxParallelism: number, component: string, operator?: string): void {
  if (snapshot.formatVersion !== KEYED_SNAPSHOT_FORMAT_VERSION) {
    throw new SnapshotError(
      'SNAPSHOT_INCOMPATIBLE',
      `keyed snapshot format version ${snapshot.formatVersion} is not supported (this build reads version ${KEYED_SNAPSHOT_FORMAT_VERSION})`,
      { component, operator },
    );
  }
  if (snapshot.maxParallelism !== maxParallelism) {
    throw new SnapshotError(
      'SNAPSHOT_INCOMPATIBLE',
      `the snapshot was taken with max parallelism ${snapshot.maxParallelism} but the job runs with ${maxParallelism}; max parallelism cannot change across a restore`,
      { component, operator },
    );
  }
}
