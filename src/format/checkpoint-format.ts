/**
 * The files of a checkpoint, independent of backend and storage:
 *
 *   frame := "EDDY" · version u8 · kind u8 · payload length u32 · payload · CRC-32 u32
 *
 * A part file holds one operator subtask's snapshot (keyed state by key group, timers,
 * operator state, source splits); the manifest (`_metadata`) lists every part with its
 * size and checksum and is written last: a checkpoint exists once its manifest does.
 * Payloads are encoded with the canonical value codec.
 */
import { SnapshotError } from '../api/errors.ts';
import { deserializeValue, serializeValue } from './value-codec.ts';
import type { KeyedStateSnapshot } from './snapshot-format.ts';

/** How a state is redistributed when the parallelism changes. */
export type OperatorStateMode = 'split' | 'union' | 'broadcast';

/** The operator state of one subtask in canonical form. */
export interface OperatorStateSnapshot {
  readonly states: ReadonlyArray<{ readonly name: string; readonly mode: OperatorStateMode; readonly bytes: Uint8Array }>;
}

/** Everything an operator subtask has to checkpoint. */
export interface OperatorSnapshot {
  readonly keyed?: KeyedStateSnapshot;
  /** Pending timers by key group (absent from an incremental part that has `timerDelta`). */
  readonly timers?: ReadonlyMap<number, Uint8Array>;
  /**
   * In an incremental part: the timers added and removed since the checkpoint the keyed
   * delta builds on, by key group (`engine/timer-snapshots.ts`); a restore folds the chain.
   */
  readonly timerDelta?: { readonly baseCheckpointId: number; readonly groups: ReadonlyMap<number, Uint8Array> };
  readonly operatorState?: OperatorStateSnapshot;
  /** A source reader's unfinished splits. */
  readonly sourceSplits?: unknown[];
}

/**
 * One operator subtask's part of a checkpoint as the coordinator writes it. Local tasks
 * hand over snapshots encoded on demand; tasks in workers send the bytes they encoded
 * themselves, so that every storage works (the coordinator is the only writer).
 */
export interface PartSource {
  readonly operatorId: string;
  readonly subtaskIndex: number;
  /** True when the part is a delta over the subtask's chain in the last completed checkpoint. */
  readonly incremental: boolean;
  /** The part file (see `encodePart`). */
  bytes(): Uint8Array;
}

/**
 * The newest version of the frame and of the part/manifest layouts, which this build
 * reads and writes. The history:
 *
 * - 1: the first layout.
 * - 2: a part may hold `timerDelta` (timers as a delta over the chain). A build that only
 *   knows version 1 would drop those timers silently, so such parts are framed as version 2
 *   and it refuses them; every other file still says 1, the oldest version that reads it.
 */
export const CHECKPOINT_FORMAT_VERSION = 2;
/** The oldest version this build still reads (files written before version 2 existed). */
export const OLDEST_READABLE_FORMAT_VERSION = 1;
const MAGIC = [0x45, 0x44, 0x44, 0x59]; // "EDDY"
const HEADER = 10;
const TRAILER = 4;

/** What a framed file contains. */
export const FileKind = { Part: 1, Manifest: 2 } as const;
/** One of {@link FileKind}'s values. */
export type FileKind = (typeof FileKind)[keyof typeof FileKind];

/**
 * Eight CRC tables for slicing-by-8 (eight bytes per step instead of one: restoring a
 * large checkpoint checksums every byte of it, and this is most of that time).
 */
const CRC_TABLES = (() => {
  const t = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) for (let k = 1; k < 8; k++) t[k * 256 + n] = t[t[(k - 1) * 256 + n] & 0xff] ^ (t[(k - 1) * 256 + n] >>> 8);
  return t;
})();

/** CRC-32 (IEEE 802.3, as zlib and PNG use it). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = CRC_TABLES;
  let c = -1;
  let i = start;
  for (const stop = end - 7; i < stop; i += 8) {
    const lo = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    c =
      t[1792 + (lo & 0xff)] ^
      t[1536 + ((lo >>> 8) & 0xff)] ^
      t[1280 + ((lo >>> 16) & 0xff)] ^
      t[1024 + (lo >>> 24)] ^
      t[768 + bytes[i + 4]] ^
      t[512 + bytes[i + 5]] ^
      t[256 + bytes[i + 6]] ^
      t[bytes[i + 7]];
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/**
 * Wraps a payload into a checksummed frame. `version`: the oldest format version that can
 * read the payload (see {@link CHECKPOINT_FORMAT_VERSION}).
 */
export function frame(kind: FileKind, payload: Uint8Array, version: number = OLDEST_READABLE_FORMAT_VERSION): Uint8Array {
  const out = new Uint8Array(HEADER + payload.length + TRAILER);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = version;
  out[5] = kind;
  view.setUint32(6, payload.length);
  out.set(payload, HEADER);
  view.setUint32(HEADER + payload.length, crc32(payload));
  return out;
}

/**
 * The payload of a frame, after checking magic, version, kind, length and checksum.
 * `checked`: the whole file already matched a checksum (the manifest's), which covers
 * the payload too, so it is not checksummed a second time.
 */
export function unframe(bytes: Uint8Array, kind: FileKind, path: string, checked = false): Uint8Array {
  const corrupt = (what: string) => new SnapshotError('SNAPSHOT_CORRUPT', `${path}: ${what}`, { component: 'checkpoint' });
  if (bytes.length < HEADER + TRAILER) throw corrupt(`file is truncated (${bytes.length} bytes)`);
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i]) throw corrupt('not an eddy checkpoint file (bad magic)');
  if (bytes[4] < OLDEST_READABLE_FORMAT_VERSION || bytes[4] > CHECKPOINT_FORMAT_VERSION) {
    // The checksum covers the payload, not the header: a flipped version byte looks like
    // a file of another version. Versions only grow one at a time, so a far-off or zero
    // version is corruption; a near one may be a newer build's file.
    const plausible = bytes[4] > CHECKPOINT_FORMAT_VERSION && bytes[4] <= CHECKPOINT_FORMAT_VERSION + 4;
    if (!plausible)
      throw corrupt(
        `the header's format version byte is ${bytes[4]}, which no eddy build writes (this build reads versions ${OLDEST_READABLE_FORMAT_VERSION} to ${CHECKPOINT_FORMAT_VERSION}): the file is corrupt`,
      );
    throw new SnapshotError(
      'SNAPSHOT_INCOMPATIBLE',
      `${path}: format version ${bytes[4]} is not supported (this build reads versions ${OLDEST_READABLE_FORMAT_VERSION} to ${CHECKPOINT_FORMAT_VERSION}): the file was written by a newer eddy, or it is corrupt`,
      { component: 'checkpoint' },
    );
  }
  if (bytes[5] !== kind) throw corrupt(`expected file kind ${kind}, found ${bytes[5]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(6);
  if (HEADER + length + TRAILER !== bytes.length) throw corrupt(`file is ${bytes.length} bytes, its header announces ${HEADER + length + TRAILER}`);
  const expected = view.getUint32(HEADER + length);
  if (!checked && crc32(bytes, HEADER, HEADER + length) !== expected) throw corrupt('checksum mismatch');
  return bytes.subarray(HEADER, HEADER + length);
}

/** A part file as the manifest refers to it. */
export interface PartHandle {
  readonly path: string;
  readonly size: number;
  readonly crc: number;
}

/**
 * One operator of a checkpoint: its parallelism and, per subtask, its chain of parts —
 * one part for a full snapshot; with incremental checkpoints the full part of an
 * earlier checkpoint followed by the deltas up to this one (older parts may live in the
 * directories of older checkpoints).
 */
export interface ManifestOperator {
  readonly operatorId: string;
  readonly parallelism: number;
  readonly parts: ReadonlyArray<ReadonlyArray<PartHandle> | null>;
}

/** The commit record of a checkpoint or savepoint. */
export interface Manifest {
  readonly jobId: string;
  readonly checkpointId: number;
  readonly timestamp: number;
  readonly savepoint: boolean;
  readonly maxParallelism: number;
  readonly operators: readonly ManifestOperator[];
}

/**
 * Encodes an operator subtask snapshot as a part file: version 2 when it holds a timer
 * delta (a version-1 reader must refuse it rather than lose the timers), else version 1.
 */
export function encodePart(snapshot: OperatorSnapshot): Uint8Array {
  return frame(FileKind.Part, serializeValue(snapshot), snapshot.timerDelta !== undefined ? 2 : OLDEST_READABLE_FORMAT_VERSION);
}

/** Decodes a part file, checking it against its handle first. */
export function decodePart(bytes: Uint8Array, handle: PartHandle): OperatorSnapshot {
  if (bytes.length !== handle.size) {
    throw new SnapshotError('SNAPSHOT_CORRUPT', `${handle.path}: file is ${bytes.length} bytes, the manifest says ${handle.size}`, { component: 'checkpoint' });
  }
  // One checksum pass: the manifest's covers the whole file; only when it differs does the
  // frame's own check run, to tell a damaged payload from a wrong manifest entry.
  const whole = crc32(bytes) === handle.crc;
  const payload = unframe(bytes, FileKind.Part, handle.path, whole);
  if (!whole) throw new SnapshotError('SNAPSHOT_CORRUPT', `${handle.path}: file checksum differs from the manifest`, { component: 'checkpoint' });
  return deserializeValue(payload) as OperatorSnapshot;
}

/** Encodes a manifest. */
export function encodeManifest(manifest: Manifest): Uint8Array {
  return frame(FileKind.Manifest, serializeValue(manifest));
}

/** Decodes a manifest. */
export function decodeManifest(bytes: Uint8Array, path: string): Manifest {
  const m = deserializeValue(unframe(bytes, FileKind.Manifest, path)) as Manifest;
  if (!m || typeof m.checkpointId !== 'number' || !Array.isArray(m.operators)) {
    throw new SnapshotError('SNAPSHOT_CORRUPT', `${path}: manifest has an unexpected shape`, { component: 'checkpoint' });
  }
  return m;
}

/** The handle of a part written from `bytes` to `path`. */
export function partHandle(path: string, bytes: Uint8Array): PartHandle {
  return { path, size: bytes.length, crc: crc32(bytes) };
}
