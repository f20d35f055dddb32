/**
 * Matching a savepoint's state to the operators of the job that starts from it (Flink's
 * check behind `allowNonRestoredState`): state that no operator takes is refused, not
 * dropped silently, unless the user allows it.
 */
import { SnapshotError } from '../api/errors.ts';
import { operatorIdOf, type JobGraph } from './graph.ts';
import type { LoadedCheckpoint } from './checkpoint-restore.ts';

/** How a job starts from a savepoint (Flink's `SavepointRestoreSettings`). */
export interface SavepointRestoreSettings {
  /**
   * Start even when the savepoint holds state that no operator of the job takes (a
   * removed operator, a changed `uid()`, or an operator matched only by position in a
   * savepoint of another job): that state is left out. Default false: such a start is
   * refused with `SNAPSHOT_INCOMPATIBLE`.
   */
  readonly allowNonRestoredState?: boolean;
}

/**
 * The operator ids of `loaded` whose state must not be restored into `graph`, after
 * checking that leaving them out is allowed; throws `SNAPSHOT_INCOMPATIBLE` otherwise.
 *
 * Two kinds of state are not restored. State of an operator id the job does not have
 * (Flink refuses it the same way). And, when the savepoint was taken of another job,
 * state matched only through a generated id (`node-<n>`, an operator without `uid()`):
 * generated ids are positions in the graph, and the same position in another job says
 * nothing about the operator being the same; explicit uids are the way to carry state
 * across jobs, so those still match.
 */
export function unrestoredOperators(
  graph: JobGraph,
  jobId: string,
  loaded: LoadedCheckpoint,
  settings: SavepointRestoreSettings,
  warn: (message: string) => void,
): ReadonlySet<string> {
  const byId = new Map(graph.nodes.map((n) => [operatorIdOf(n), n]));
  const otherJob = loaded.manifest.jobId !== jobId;
  const missing: string[] = [];
  const positional: string[] = [];
  for (const operatorId of loaded.statefulOperators()) {
    const node = byId.get(operatorId);
    if (node === undefined) missing.push(operatorId);
    // The collect sink of executeAndCollect cannot be given a uid, and its state (its
    // transactions) is never committed into another execution anyway (see CollectSink).
    else if (otherJob && node.uid === undefined && node.collect === undefined) positional.push(`${operatorId} (${node.name})`);
  }
  const skipped = new Set([...missing, ...positional.map((p) => p.slice(0, p.indexOf(' ')))]);
  if (skipped.size === 0) return skipped;
  const reasons: string[] = [];
  if (missing.length > 0) reasons.push(`state of operator(s) ${missing.join(', ')} that match no operator of this job (removed, or its uid() changed)`);
  if (positional.length > 0) {
    reasons.push(
      `state of operator(s) ${positional.join(', ')} matched only by position (no uid()), while the savepoint was taken of job "${loaded.manifest.jobId}", not "${jobId}": give them the same uid() in both jobs to carry their state over`,
    );
  }
  const what = `${loaded.path} holds ${reasons.join('; and ')}`;
  if (settings.allowNonRestoredState !== true) {
    throw new SnapshotError(
      'SNAPSHOT_INCOMPATIBLE',
      `${what}. Refusing to drop that state silently; pass env.fromSavepoint(path, { allowNonRestoredState: true }) to start without it`,
      { component: 'job' },
    );
  }
  warn(`[eddy] [job:${jobId}] ${what}; allowNonRestoredState: starting without that state`);
  return skipped;
}
