/**
 * Reading a checkpoint back: the manifest, then every part it lists, each verified by
 * size and checksum before it is decoded. The loaded checkpoint hands each new operator
 * subtask its state at any parallelism: keyed state by key-group range (the backend
 * keeps the groups it owns), operator state and source splits redistributed.
 */
import { SnapshotError } from '../api/errors.ts';
import type { OperatorRestore, OperatorSnapshot } from './operators/operator.ts';
import { redistributeOperatorState, type OperatorStateSnapshot } from '../state/operator-state.ts';
import { mergeKeyedChain } from '../format/checkpoint-chain.ts';
import { foldTimerChain } from './timer-snapshots.ts';
import { decodeManifest, decodePart, type Manifest } from '../format/checkpoint-format.ts';
import { MANIFEST_NAME, type CheckpointStorage } from '../format/checkpoint-storage.ts';

/** A checkpoint read into memory, ready to hand out per-subtask restores. */
export class LoadedCheckpoint {
  private readonly redistributed = new Map<string, OperatorStateSnapshot[]>();

  constructor(
    readonly path: string,
    readonly manifest: Manifest,
    private readonly snapshots: ReadonlyMap<string, ReadonlyArray<OperatorSnapshot | undefined>>,
  ) {}

  /** The operators of the checkpoint that hold any state (keyed entries, timers, operator state, source splits). */
  statefulOperators(): string[] {
    const out: string[] = [];
    for (const [operatorId, list] of this.snapshots) if (list.some((s) => s !== undefined && holdsState(s))) out.push(operatorId);
    return out;
  }

  /** The state of subtask `index` of `parallelism` of an operator; undefined when the checkpoint has no such operator. */
  restoreFor(operatorId: string, index: number, parallelism: number): OperatorRestore | undefined {
    const old = this.snapshots.get(operatorId);
    if (old === undefined) return undefined;
    const present = old.filter((s): s is OperatorSnapshot => s !== undefined);
    const key = `${operatorId}/${parallelism}`;
    let opState = this.redistributed.get(key);
    if (!opState)
      this.redistributed.set(
        key,
        (opState = redistributeOperatorState(
          present.map((s) => s.operatorState),
          parallelism,
        )),
      );
    const splits = present.flatMap((s) => s.sourceSplits ?? []);
    const hasSplits = present.some((s) => s.sourceSplits !== undefined);
    return {
      keyed: present.flatMap((s) => (s.keyed ? [s.keyed] : [])),
      timers: present.flatMap((s) => (s.timers ? [s.timers] : [])),
      operatorState: opState[index],
      sourceSplits: hasSplits
        ? splits.slice(Math.floor((splits.length * index) / parallelism), Math.floor((splits.length * (index + 1)) / parallelism))
        : undefined,
    };
  }
}

function holdsState(s: OperatorSnapshot): boolean {
  return (
    (s.keyed !== undefined && s.keyed.keyGroups.size > 0) ||
    (s.timers !== undefined && s.timers.size > 0) ||
    (s.operatorState !== undefined && s.operatorState.states.length > 0) ||
    (s.sourceSplits !== undefined && s.sourceSplits.length > 0)
  );
}

/** Reads and verifies the checkpoint or savepoint in directory `path`. */
export async function loadCheckpoint(storage: CheckpointStorage, path: string): Promise<LoadedCheckpoint> {
  const manifestPath = `${path}/${MANIFEST_NAME}`;
  const bytes = await storage.get(manifestPath);
  if (bytes === undefined) {
    const hint =
      storage.name === 'memory'
        ? '; a MemoryCheckpointStorage is empty unless this process wrote to that same instance: configure the storage the savepoint was written to with env.getCheckpointConfig().setCheckpointStorage(...)'
        : '; it is read from the checkpoint storage configured with env.getCheckpointConfig().setCheckpointStorage(...)';
    throw new SnapshotError(
      'SNAPSHOT_CORRUPT',
      `no checkpoint at ${path} in the ${storage.name} checkpoint storage: ${manifestPath} does not exist (the checkpoint never completed, or the path is wrong)${hint}`,
      { component: `storage:${storage.name}` },
    );
  }
  const manifest = decodeManifest(bytes, manifestPath);
  const snapshots = new Map<string, Array<OperatorSnapshot | undefined>>();
  for (const op of manifest.operators) {
    const list: Array<OperatorSnapshot | undefined> = [];
    for (const chain of op.parts) {
      if (chain === null || chain.length === 0) {
        list.push(undefined);
        continue;
      }
      const parts: OperatorSnapshot[] = [];
      for (const handle of chain) {
        const part = await storage.get(handle.path);
        if (part === undefined)
          throw new SnapshotError('SNAPSHOT_CORRUPT', `${handle.path} is listed in ${manifestPath} but missing`, { component: `storage:${storage.name}` });
        parts.push(decodePart(part, handle));
      }
      // Operator state and splits are whole in the newest part; keyed state and timers fold the chain.
      const { timerDelta, ...newest } = parts[parts.length - 1];
      const keyedChain = parts.flatMap((p) => (p.keyed ? [p.keyed] : []));
      const timers = timerDelta !== undefined ? foldTimerChain(parts) : newest.timers;
      list.push({ ...newest, timers, keyed: keyedChain.length > 0 ? mergeKeyedChain(keyedChain) : undefined });
    }
    snapshots.set(op.operatorId, list);
  }
  return new LoadedCheckpoint(path, manifest, snapshots);
}

/** The directories of the completed checkpoints of a job, newest first. */
export async function listCompletedCheckpoints(storage: CheckpointStorage, jobId: string): Promise<string[]> {
  const found: Array<{ id: number; dir: string }> = [];
  for (const p of await storage.list(`${jobId}/`)) {
    const m = /^(.*\/chk-(\d+))\/_metadata$/.exec(p);
    if (m) found.push({ id: Number(m[2]), dir: m[1] });
  }
  return found.sort((a, b) => b.id - a.id).map((f) => f.dir);
}

/**
 * Loads the newest checkpoint among `candidates` that is intact; a corrupt one is
 * reported through `warn` and the next older one is tried. Undefined when none is left.
 */
export async function loadNewestIntact(
  storage: CheckpointStorage,
  candidates: readonly string[],
  warn: (message: string) => void,
): Promise<LoadedCheckpoint | undefined> {
  for (const dir of candidates) {
    try {
      return await loadCheckpoint(storage, dir);
    } catch (e) {
      if (!(e instanceof SnapshotError)) throw e;
      warn(`[eddy] [checkpoint] ${dir} cannot be restored (${e.message}); falling back to the previous complete checkpoint`);
    }
  }
  return undefined;
}
