/**
 * How a checkpoint lands in storage: one part per operator subtask at
 * `<job>/<chk|savepoint>-<id>/<operator>-<subtask>`, each recorded in its operator's chain
 * (a delta part extends the chain of the last completed checkpoint), and the manifest that
 * lists the chains, written last. The coordinator decides when; this writes.
 */
import { CheckpointError } from '../api/errors.ts';
import { encodeManifest, partHandle, type Manifest, type PartHandle, type PartSource } from '../format/checkpoint-format.ts';
import { MANIFEST_NAME, type CheckpointStorage } from '../format/checkpoint-storage.ts';
import type { CheckpointStatsTracker } from './checkpoint-stats.ts';

/** The operators of a running attempt: id → parallelism. */
export type OperatorLayout = ReadonlyMap<string, number>;

/** A checkpoint's chains being filled: per operator, one slot per subtask (`null` until its part is written). */
export type Chains = Map<string, Array<PartHandle[] | null>>;

/** Writes the parts and manifests of one job's checkpoints, and keeps the base chains of deltas. */
export class CheckpointWriter {
  /** The chains of the last completed (or restored) checkpoint, the base of the next delta. */
  private baseChains = new Map<string, ReadonlyArray<ReadonlyArray<PartHandle> | null>>();

  constructor(
    private readonly jobId: string,
    private readonly storage: CheckpointStorage,
    private readonly maxParallelism: number,
    /** Hears the bytes of every part written. */
    private readonly stats?: CheckpointStatsTracker,
  ) {}

  /** The directory of a checkpoint or savepoint. */
  dirOf(checkpointId: number, savepoint: boolean): string {
    return `${this.jobId}/${savepoint ? 'savepoint' : 'chk'}-${checkpointId}`;
  }

  /** One chain slot per subtask of every operator in `layout`, all still missing. */
  emptyChains(layout: OperatorLayout): Chains {
    const chains: Chains = new Map();
    for (const [operatorId, parallelism] of layout) chains.set(operatorId, new Array(parallelism).fill(null));
    return chains;
  }

  /** Writes one subtask's part into checkpoint `dir` and records its chain (a delta extends the base chain). */
  async writePart(dir: string, chains: Chains, checkpointId: number, part: PartSource): Promise<void> {
    const bytes = part.bytes();
    const path = `${dir}/${part.operatorId}-${part.subtaskIndex}`;
    await this.storage.put(path, bytes);
    this.stats?.reportWritten(checkpointId, bytes.length);
    const handle = partHandle(path, bytes);
    chains.get(part.operatorId)![part.subtaskIndex] = part.incremental
      ? [...this.baseChain(part.operatorId, part.subtaskIndex, checkpointId), handle]
      : [handle];
  }

  /** The manifest of a checkpoint whose parts are all in `chains`. */
  manifestOf(checkpointId: number, timestamp: number, savepoint: boolean, chains: Chains): Manifest {
    return {
      jobId: this.jobId,
      checkpointId,
      timestamp,
      savepoint,
      maxParallelism: this.maxParallelism,
      operators: [...chains].map(([operatorId, parts]) => ({ operatorId, parallelism: parts.length, parts })),
    };
  }

  /** Writes the manifest into `dir`: the commit point, before which the checkpoint does not exist. */
  writeManifest(dir: string, manifest: Manifest): Promise<void> {
    return this.storage.put(`${dir}/${MANIFEST_NAME}`, encodeManifest(manifest));
  }

  /** The chains of `manifest` (completed, or restored from) become the base of the next deltas. */
  setBase(manifest: Manifest): void {
    this.baseChains = new Map(manifest.operators.map((o) => [o.operatorId, o.parts]));
  }

  /** The chain a delta of an operator subtask extends: that of the last completed checkpoint. */
  private baseChain(operatorId: string, subtask: number, checkpointId: number): readonly PartHandle[] {
    const chain = this.baseChains.get(operatorId)?.[subtask];
    if (!chain || chain.length === 0) {
      throw new CheckpointError(
        'CHECKPOINT_FAILED',
        `checkpoint ${checkpointId}: ${operatorId}-${subtask} sent a delta, but no completed checkpoint holds its base`,
        { component: 'checkpoint-coordinator' },
      );
    }
    return chain;
  }
}
