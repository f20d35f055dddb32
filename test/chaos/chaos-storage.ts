/**
 * A memory checkpoint storage that misbehaves on purpose, for the chaos runs: a part or a
 * manifest write that fails, a part that is stored torn (cut short, while the write
 * reports success), and a part read that returns flipped bits after a failure.
 */
import { MemoryCheckpointStorage } from '../../src/storages/memory.ts';

/** What goes wrong, and when (1-based counts of part or manifest writes). */
export interface StorageFaults {
  failPartWrite?: number;
  failManifestWrite?: number;
  /** The n-th part write stores only the first half of the bytes and reports success. */
  tearPartWrite?: number;
  /** After `corruptAfter.sprung`, the first part read returns a copy with one byte flipped. */
  corruptReadAfter?: Trap;
}

/**
 * A failure the job's user code raises once. A class, not a plain object: functions are
 * copied per subtask, and every copy must see the same trap.
 */
export class Trap {
  sprung = false;
  /** Set when the failure should happen at the next record (a storage fault arms it). */
  armed = false;
  constructor(readonly atRecord?: number) {}

  /** Throws the injected failure if this record is the one, or if the trap was armed. */
  check(seq: number): void {
    if (this.sprung) return;
    if (seq === this.atRecord || this.armed) {
      this.sprung = true;
      throw new Error(`injected failure at record ${seq}`);
    }
  }
}

/** Counts what it did, so a run can prove its fault really happened. */
export class ChaosStorage extends MemoryCheckpointStorage {
  partWrites = 0;
  manifestWrites = 0;
  /** Faults that really happened. */
  injected = 0;
  #tornCheckpoint: string | undefined;
  #corrupted = false;

  constructor(
    private readonly faults: StorageFaults,
    /** Armed once the checkpoint holding the torn part is committed, so a restore must meet it. */
    private readonly trap?: Trap,
  ) {
    super();
  }

  override async put(path: string, data: Uint8Array): Promise<void> {
    if (path.endsWith('/_metadata')) {
      if (++this.manifestWrites === this.faults.failManifestWrite) {
        this.injected++;
        throw new Error(`injected failure committing ${path}`);
      }
      await super.put(path, data);
      if (this.#tornCheckpoint !== undefined && path.startsWith(`${this.#tornCheckpoint}/`) && this.trap) this.trap.armed = true;
      return;
    }
    const n = ++this.partWrites;
    if (n === this.faults.failPartWrite) {
      this.injected++;
      throw new Error(`injected failure writing ${path}`);
    }
    if (n === this.faults.tearPartWrite && data.length > 1) {
      this.injected++;
      this.#tornCheckpoint = path.slice(0, path.lastIndexOf('/'));
      return super.put(path, data.subarray(0, data.length >> 1));
    }
    return super.put(path, data);
  }

  override async get(path: string): Promise<Uint8Array | undefined> {
    const data = await super.get(path);
    const trap = this.faults.corruptReadAfter;
    if (data && data.length > 8 && trap?.sprung && !this.#corrupted && !path.endsWith('/_metadata')) {
      this.#corrupted = true;
      this.injected++;
      data[data.length >> 1] ^= 0x5a;
    }
    return data;
  }
}
