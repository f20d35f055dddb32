/**
 * Which completed checkpoint a delta snapshot may build on: the bookkeeping every backend
 * with incremental snapshots shares. Once the first incremental snapshot is asked for,
 * writes are marked with the current `epoch`; every snapshot closes an epoch; when the
 * checkpoint of a snapshot completes, marks up to its epoch may be forgotten and that
 * checkpoint becomes the `base` of the next delta.
 */
export class DeltaEpochs {
  /** Incremented by every snapshot; writes are marked with it. */
  epoch = 0;
  /** Whether writes are marked (since the first incremental snapshot was asked for). */
  tracking = false;
  /** The last completed checkpoint a delta may build on. */
  base: number | undefined;
  /** Checkpoint id → the epoch its snapshot closed, until it completes. */
  private readonly epochOf = new Map<number, number>();

  /** Starts a snapshot, closing the current epoch; answers whether it may be a delta. */
  begin(checkpointId: number | undefined, incremental: boolean): boolean {
    const delta = incremental && this.tracking && this.base !== undefined;
    if (incremental) this.tracking = true;
    const epoch = this.epoch++;
    if (checkpointId !== undefined && this.tracking) this.epochOf.set(checkpointId, epoch);
    return delta;
  }

  /** A checkpoint completed: it becomes the base; returns the epoch to forget marks up to, if it was one of ours. */
  complete(checkpointId: number): number | undefined {
    const epoch = this.epochOf.get(checkpointId);
    if (epoch === undefined) return undefined;
    for (const id of [...this.epochOf.keys()]) if (id <= checkpointId) this.epochOf.delete(id);
    this.base = checkpointId;
    return epoch;
  }
}
