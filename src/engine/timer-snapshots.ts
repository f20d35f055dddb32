/**
 * The bytes of timer snapshots, full and delta, and the folding of an incremental chain.
 *
 * Per key group, an entry per timer: a tag byte (bit 0: processing time, bit 1: the
 * timer has a namespace, bit 2 — deltas only: the timer was removed), the canonical key
 * bytes, the namespace (only with bit 1) and the timestamp. A full snapshot sorts a
 * group's timers by (timestamp, registration order); a delta lists removals first, then
 * additions in the same order, relative to the timers of the checkpoint it builds on.
 */
import { SnapshotError } from '../api/errors.ts';
import { ByteReader, ByteWriter } from '../format/bytes.ts';
import { canonicalKeyBytes } from '../format/key-bytes.ts';
import { Slices } from '../state/slices.ts';
import type { TimeDomain } from '../api/functions.ts';
import type { Key } from '../format/key-bytes.ts';

/** A registered timer. */
export interface Timer {
  readonly timestamp: number;
  readonly key: Key;
  readonly keyGroup: number;
  readonly domain: TimeDomain;
  /**
   * The timer's namespace (Flink's timers are per key *and* namespace): `''` for a
   * function's own timers, the window for the window operator's.
   */
  readonly namespace: string;
  /**
   * The snapshot epoch in which the timer was deleted or fired (`LIVE` while pending).
   * A deleted timer stays in the heap and is skipped when it reaches the top; a snapshot
   * captured in an earlier epoch still counts it as pending (see `TimerQueue.capture`).
   */
  endedIn: number;
  /** The snapshot epoch in which the timer was added (deltas tell new timers by it). */
  addedIn: number;
  /** Registration order: breaks ties so firing order is deterministic. */
  readonly seq: number;
}

/** The timers an incremental part adds and removes since the checkpoint it builds on. */
export interface TimerDelta {
  readonly baseCheckpointId: number;
  /** Per key group: removal entries, then added timers (see the module comment). */
  readonly groups: ReadonlyMap<number, Uint8Array>;
}

const PROCESSING = 1;
const NAMESPACED = 2;
const REMOVED = 4;

/** What one queue held at a capture: the heap copy and the change logs up to then. */
export interface CapturedQueue {
  readonly heap: readonly Timer[];
  readonly epoch: number;
  /** Timers added since tracking began, in epoch order; only the first `addedLength` belong to the capture. */
  readonly added: readonly Timer[];
  readonly addedLength: number;
  /** Timers deleted or fired, in epoch order; only the first `endedLength` belong to the capture. */
  readonly ended: readonly Timer[];
  readonly endedLength: number;
}

function writeEntry(w: ByteWriter, t: Timer, removed: boolean): void {
  const namespaced = t.namespace !== '';
  w.u8((t.domain === 'EVENT_TIME' ? 0 : PROCESSING) + (namespaced ? NAMESPACED : 0) + (removed ? REMOVED : 0));
  w.lenBytes(canonicalKeyBytes(t.key));
  if (namespaced) w.string(t.namespace);
  w.f64(t.timestamp);
}

function byTimeThenSeq(a: Timer, b: Timer): number {
  return a.timestamp - b.timestamp || a.seq - b.seq;
}

function push(byGroup: Map<number, Timer[]>, t: Timer): void {
  let list = byGroup.get(t.keyGroup);
  if (!list) byGroup.set(t.keyGroup, (list = []));
  list.push(t);
}

/** Encodes the timers pending at the captures by key group, all of it after the capturing call returned, in slices. */
export async function encodeFullTimers(captured: readonly CapturedQueue[]): Promise<Map<number, Uint8Array>> {
  await Promise.resolve(); // nothing of the encoding runs inside the snapshot call
  const slices = new Slices();
  const byGroup = new Map<number, Timer[]>();
  for (const { heap, epoch } of captured) {
    for (let i = 0; i < heap.length; i++) {
      const t = heap[i];
      // Pending at capture: still live, or ended in a later epoch.
      if (t.endedIn > epoch) push(byGroup, t);
      if ((i & 4095) === 4095 && slices.due()) await slices.pause();
    }
  }
  const out = new Map<number, Uint8Array>();
  for (const group of [...byGroup.keys()].sort((a, b) => a - b)) {
    const timers = byGroup.get(group)!;
    timers.sort(byTimeThenSeq);
    if (slices.due()) await slices.pause();
    const w = new ByteWriter();
    for (let i = 0; i < timers.length; i++) {
      writeEntry(w, timers[i], false);
      if ((i & 4095) === 4095 && slices.due()) await slices.pause();
    }
    out.set(group, w.finish());
  }
  return out;
}

/**
 * Encodes what changed between the capture of epoch `baseEpoch` (that of the completed
 * checkpoint `baseCheckpointId`) and the captures: timers pending at the base that ended
 * since (removals), and timers added since that are still pending (additions). A timer
 * removed and registered again appears as both, the removal first.
 */
export async function encodeTimerDelta(captured: readonly CapturedQueue[], baseEpoch: number, baseCheckpointId: number): Promise<TimerDelta> {
  await Promise.resolve();
  const slices = new Slices();
  const removed = new Map<number, Timer[]>();
  const added = new Map<number, Timer[]>();
  for (const q of captured) {
    for (let i = 0; i < q.endedLength; i++) {
      const t = q.ended[i];
      if (t.endedIn > baseEpoch && t.addedIn <= baseEpoch) push(removed, t);
      if ((i & 4095) === 4095 && slices.due()) await slices.pause();
    }
    for (let i = 0; i < q.addedLength; i++) {
      const t = q.added[i];
      if (t.addedIn > baseEpoch && t.endedIn > q.epoch) push(added, t);
      if ((i & 4095) === 4095 && slices.due()) await slices.pause();
    }
  }
  const groups = new Map<number, Uint8Array>();
  for (const group of [...new Set([...removed.keys(), ...added.keys()])].sort((a, b) => a - b)) {
    if (slices.due()) await slices.pause();
    const w = new ByteWriter();
    for (const t of (removed.get(group) ?? []).sort(byTimeThenSeq)) writeEntry(w, t, true);
    for (const t of (added.get(group) ?? []).sort(byTimeThenSeq)) writeEntry(w, t, false);
    groups.set(group, w.finish());
  }
  return { baseCheckpointId, groups };
}

/** One entry of a group's bytes: its identity (the entry without the removal bit) and where it lies. */
interface RawEntry {
  readonly id: string;
  readonly removed: boolean;
  readonly timestamp: number;
  readonly bytes: Uint8Array;
}

function* rawEntries(bytes: Uint8Array, group: number): Generator<RawEntry> {
  const r = new ByteReader(bytes, 'checkpoint');
  while (!r.done) {
    const start = r.offset;
    const tag = r.u8();
    if (tag > 7) r.corrupt(`timers of key group ${group}: unknown entry tag ${tag}`);
    r.lenBytes();
    if ((tag & NAMESPACED) !== 0) r.string();
    const timestamp = r.f64();
    const entry = bytes.subarray(start, r.offset);
    let id = String.fromCharCode(tag & ~REMOVED);
    for (let i = 1; i < entry.length; i++) id += String.fromCharCode(entry[i]);
    yield { id, removed: (tag & REMOVED) !== 0, timestamp, bytes: entry };
  }
}

/**
 * Folds the timer parts of an incremental chain (oldest first) into full timers by key
 * group, byte for byte what a full snapshot at the newest part would hold: untouched
 * timers keep their order, timers added later follow them among equal timestamps.
 * Groups no delta touches are passed through without decoding.
 */
export function foldTimerChain(
  chain: ReadonlyArray<{ timers?: ReadonlyMap<number, Uint8Array>; timerDelta?: TimerDelta }>,
): Map<number, Uint8Array> | undefined {
  let full: Map<number, Uint8Array> | undefined;
  for (const part of chain) {
    if (part.timers !== undefined) {
      full = new Map(part.timers);
      continue;
    }
    if (part.timerDelta === undefined) continue;
    if (full === undefined)
      throw new SnapshotError(
        'SNAPSHOT_CORRUPT',
        `a timer delta over checkpoint ${part.timerDelta.baseCheckpointId} has no full timer snapshot before it in its chain`,
        {
          component: 'checkpoint',
        },
      );
    for (const [group, delta] of part.timerDelta.groups) {
      const entries = new Map<string, RawEntry>();
      const base = full.get(group);
      if (base !== undefined) for (const e of rawEntries(base, group)) entries.set(e.id, e);
      for (const e of rawEntries(delta, group)) {
        entries.delete(e.id);
        if (!e.removed) entries.set(e.id, e);
      }
      if (entries.size === 0) {
        full.delete(group);
        continue;
      }
      // Stable: among equal timestamps, the older entries stay first.
      const sorted = [...entries.values()].sort((a, b) => a.timestamp - b.timestamp);
      const w = new ByteWriter();
      for (const e of sorted) w.bytes(e.bytes);
      full.set(group, w.finish());
    }
  }
  return full;
}
