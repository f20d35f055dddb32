/**
 * The epochs of the SQLite backend's change marks: which delta a write belongs to, when
 * marks may be forgotten, and that they are not forgotten while a delta still reads them.
 *
 * Marks are kept per epoch (`schema.ts`), and a delta reads the marks of the epochs after
 * its base's up to its barrier in pages after the barrier (`delta-capture.ts`). A
 * checkpoint that completes meanwhile would forget marks up to its epoch, some of which
 * the pending delta (built on an older base) still needs, so forgetting waits until no
 * delta reads.
 */
import { DeltaEpochs } from '../../state/delta-epochs.ts';

/** See the module comment; `forget(epoch)` deletes the marks up to `epoch`. */
export class MarkEpochs {
  private readonly epochs = new DeltaEpochs();
  /** The epoch of the last completed checkpoint (-1: none): a delta holds the marks of later epochs. */
  completed = -1;
  /** Deltas reading marks now. */
  private reading = 0;
  /** The marks to forget once no delta reads (-1: none). */
  private deferred = -1;

  constructor(private readonly forget: (epoch: number) => void) {}

  /** The epoch writes are marked with now, or undefined while deltas are not tracked. */
  get current(): number | undefined {
    return this.epochs.tracking ? this.epochs.epoch : undefined;
  }

  /** The current epoch, tracked or not (what the cache tags its writes with). */
  get epoch(): number {
    return this.epochs.epoch;
  }

  /** The checkpoint a delta taken now builds on. */
  get base(): number | undefined {
    return this.epochs.base;
  }

  /** Whether a value row last written in `epoch` needs a mark when it is written back (tracked, and not in a completed checkpoint). */
  marks(epoch: number): boolean {
    return this.epochs.tracking && epoch > this.completed;
  }

  /** Starts a snapshot: whether it may be a delta, and the epoch it closes. */
  begin(checkpointId: number | undefined, incremental: boolean): { delta: boolean; upTo: number } {
    const upTo = this.epochs.epoch;
    return { delta: this.epochs.begin(checkpointId, incremental), upTo };
  }

  /** A checkpoint completed: its marks are forgotten now, or once no delta reads. */
  complete(checkpointId: number): void {
    const epoch = this.epochs.complete(checkpointId);
    if (epoch === undefined) return;
    this.completed = Math.max(this.completed, epoch);
    if (this.reading > 0) this.deferred = Math.max(this.deferred, epoch);
    else this.forget(epoch);
  }

  /** Runs a delta's reading of marks; forgetting waits until it (and every other) is done. */
  async whileReading<T>(read: () => Promise<T>): Promise<T> {
    this.reading++;
    try {
      return await read();
    } finally {
      if (--this.reading === 0 && this.deferred >= 0) {
        const epoch = this.deferred;
        this.deferred = -1;
        this.forget(epoch);
      }
    }
  }
}
