/**
 * The SQLite keyed backend's `snapshot()` and checkpoint completion: a full snapshot from a
 * frozen page copy of the database (`frozen-copy.ts`), a delta from the change marks and
 * the write-behind cache (`delta-capture.ts`), the epochs of the marks (`mark-epochs.ts`)
 * and the deltas being encoded, which list and map writes let keep an entry first.
 */
import type { KeyGroupRange } from '../../format/key-groups.ts';
import { storageShapeOf, type KeyedStateSnapshot } from '../../format/snapshot-format.ts';
import type { KeyedSnapshotOptions } from '../../state/backend.ts';
import type { SnapshotHead } from '../../state/keyed-backend-base.ts';
import { Slices } from '../../state/slices.ts';
import { DeltaCapture, type KeepEntry } from './delta-capture.ts';
import { fingerprintOf } from './fingerprint.ts';
import { SnapshotSource } from './frozen-copy.ts';
import { MarkEpochs } from './mark-epochs.ts';
import type { Statements } from './schema.ts';
import { encodeFull, type EncodedState } from './snapshots.ts';
import type { SqlState } from './tables.ts';
import type { ValueCache } from './value-cache.ts';

/** What the snapshots need of their backend. */
export interface SnapshotHost {
  readonly stmts: Statements;
  readonly cache: ValueCache;
  readonly keyGroupRange: KeyGroupRange;
  /** Whether a full snapshot records its fingerprint, so that a restart may reuse the file. */
  readonly reuse: boolean;
  /** False once the backend is disposed. */
  live(): boolean;
  /** Writes the cache back. */
  flushSync(): void;
  /** A failure of SQLite as a typed error naming the states (or what) it concerned. */
  failure(e: unknown, what: string): unknown;
}

/** See the module comment; one per keyed backend. */
export class SnapshotTaker {
  /** Which delta a write belongs to (the backend marks its writes with `epochs.current`). */
  readonly epochs: MarkEpochs;
  /** Deltas being encoded: a list or map write first lets them keep the entry (`delta-capture.ts`). */
  private readonly deltas = new Set<DeltaCapture>();
  private readonly keepEntry: KeepEntry = (st, kg, k, ns) => {
    for (const d of this.deltas) d.keep(this.host.stmts, st, kg, k, ns);
  };

  constructor(private readonly host: SnapshotHost) {
    this.epochs = new MarkEpochs((epoch) => {
      if (!host.live()) return;
      try {
        host.stmts.forget(epoch);
      } catch (e) {
        throw host.failure(e, 'change marks');
      }
    });
  }

  /** What to tell before a list or map entry changes; undefined while no delta is encoded (nothing to keep). */
  get keeper(): KeepEntry | undefined {
    return this.deltas.size > 0 ? this.keepEntry : undefined;
  }

  /**
   * The capture runs inside the call and is small. A full snapshot writes the cache back,
   * commits and takes a frozen page copy of the database (`frozen-copy.ts`: its cost
   * follows the database's size). A delta keeps the cache's unwritten rows by reference,
   * nothing else (`delta-capture.ts`: its cost follows the rows the cache holds unwritten).
   * Both are encoded afterwards, in slices, while writes go on in the live database and
   * are marked for the next delta (list and map writes copy first what a delta holds).
   */
  async take(states: readonly SqlState[], head: SnapshotHead, options: KeyedSnapshotOptions): Promise<KeyedStateSnapshot> {
    const { host } = this;
    const names = () => states.map((s) => s.name).join(', ');
    const encoded: EncodedState[] = states.map((s) => ({ id: s.id, shape: storageShapeOf(s.kind), drop: s.options.snapshotFilter?.() }));
    // upTo: the epoch this snapshot closes; writes up to now carry it (or an earlier one).
    const { delta, upTo } = this.epochs.begin(options.checkpointId, options.incremental === true);
    host.cache.epoch = this.epochs.epoch;
    if (delta) return this.delta(head, encoded, upTo, names);
    host.flushSync();
    let src: SnapshotSource;
    try {
      // A persistent working copy is left consistent at every snapshot; the copy holds committed pages only.
      host.stmts.commit();
      src = SnapshotSource.capture(host.stmts.heap, host.stmts.db);
    } catch (e) {
      throw host.failure(e, names());
    }
    const writes = host.stmts.stateWrites;
    const slices = new Slices(src.frozen);
    try {
      // The call returns once the copy is taken: records queued meanwhile go first, the encoding follows.
      if (src.frozen) await slices.pause();
      const range = host.keyGroupRange;
      const full: KeyedStateSnapshot = { ...head, keyGroups: await encodeFull(src, encoded, range.start, range.end, slices) };
      src.close();
      // A full snapshot without TTL filtering equals the file if nothing was written since the capture: record its fingerprint for reuse after a restart.
      if (host.reuse && encoded.every((e) => e.drop === undefined) && writes === host.stmts.stateWrites && host.live()) {
        host.stmts.commit();
        const fingerprint = await fingerprintOf([full], range);
        if (fingerprint !== undefined && writes === host.stmts.stateWrites && host.live())
          host.stmts.recordCheckpoint(fingerprint, options.checkpointId ?? null);
      }
      return full;
    } catch (e) {
      throw host.failure(e, names());
    } finally {
      src.close();
    }
  }

  /** A delta of the epochs after the last completed checkpoint's, up to `upTo` (see `delta-capture.ts`). */
  private delta(head: SnapshotHead, encoded: readonly EncodedState[], upTo: number, names: () => string): Promise<KeyedStateSnapshot> {
    const { host } = this;
    const baseCheckpointId = this.epochs.base!;
    const capture = DeltaCapture.capture(host.cache, encoded, this.epochs.completed, upTo);
    this.deltas.add(capture);
    return this.epochs.whileReading(() =>
      capture
        .encode(host.stmts, encoded, () => host.live())
        .finally(() => this.deltas.delete(capture))
        .then(
          ({ keyGroups, removed }) => ({ ...head, keyGroups, incremental: { baseCheckpointId, removed } }),
          (e) => Promise.reject(host.failure(e, names())),
        ),
    );
  }

  /** A checkpoint completed: it becomes the next delta's base, and its marks may be forgotten. */
  complete(checkpointId: number): void {
    this.epochs.complete(checkpointId);
  }
}
