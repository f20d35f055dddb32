/**
 * The capture and encoding of a SQLite delta snapshot, at a cost that follows what
 * changed since the base checkpoint rather than the database's size.
 *
 * What a delta holds is every entry marked in the epochs after the base's, as it was at
 * the barrier. Nothing of it needs copying at the barrier when it cannot change
 * afterwards, and most of it cannot:
 *
 * - Value rows not yet written back sit in the write-behind cache; the capture keeps
 *   their bytes (or immutable decoded value) by reference: a later write replaces them
 *   in the row, never changes them.
 * - Value rows written back are marked with their value and epoch (`schema.ts`); later
 *   writes add marks of later epochs and never replace an earlier epoch's mark, and the
 *   marks an earlier checkpoint's completion would forget are kept until no delta is
 *   reading (`mark-epochs.ts`). So the marks of epochs up to the barrier are
 *   read after it, in pages between turns, as they were at it.
 * - List and map entries are written in place in `kv` and their marks hold no rows, so
 *   their rows are read after the barrier too, with the marks, and kept as they were by
 *   copy-on-write: the first change after the barrier (a write, or TTL cleanup) to a
 *   list or map entry marked in the delta's epochs and not read by it yet first copies
 *   the entry's rows into the delta ({@link DeltaCapture.keep}). Any entry the delta
 *   reads in `kv` was therefore not changed since the barrier. The copies cost what is
 *   written while the delta encodes (a whole entry on its first write: one extra read of
 *   its rows), not what the delta holds; the entries are read first, so the window is short.
 *
 * Replaced: a page copy of the whole database at the barrier (`frozen-copy.ts`, kept for
 * full snapshots), about 20 ms per million value rows unloaded.
 */
import { ByteWriter } from '../../format/bytes.ts';
import { serializeValue } from '../../format/value-codec.ts';
import { RemovedEntryWriter } from '../../format/snapshot-format.ts';
import { Slices } from '../../state/slices.ts';
import type { Row, Statements } from './schema.ts';
import type { EncodedState } from './snapshots.ts';
import { finishAll, sameBytes, writeRowEntry } from '../../format/row-snapshots.ts';
import { rowKeyBytes, type CachedRow, type ValueCache } from './value-cache.ts';

/** Marks read per page while encoding (one page between two turns at most). */
const MARK_PAGE = 512;

/** A value row of the cache as it was at the barrier. */
interface HeldRow {
  readonly row: CachedRow;
  /** The encoded value, null when removed, undefined when cached decoded only (then `value`). */
  readonly bytes: Uint8Array | null | undefined;
  readonly value: unknown;
}

/** The identity of an entry across the cache and the marks (the namespace's length keeps it unambiguous). */
function entryId(st: number, kg: number, k: Uint8Array, ns: string): string {
  let s = `${st}/${kg}/${ns.length}/${ns}`;
  for (let i = 0; i < k.length; i++) s += String.fromCharCode(k[i]!);
  return s;
}

/** SQLite's order of BLOBs: bytes first, then the shorter first. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** The last list or map entry a delta read, in SQLite's key order. */
interface ReadPosition {
  readonly st: number;
  readonly kg: number;
  readonly k: Uint8Array;
  readonly ns: string;
}

/**
 * Whether the entry was read already: it sorts at or before `at` in the same state.
 * Namespaces of the same key are compared only for equality, as JS orders strings by
 * UTF-16 units and SQLite by UTF-8 bytes: a later namespace of that key is kept anyway.
 */
function readAlready(at: ReadPosition, st: number, kg: number, k: Uint8Array, ns: string): boolean {
  if (st !== at.st) return false;
  if (kg !== at.kg) return kg < at.kg;
  const c = compareBytes(k, at.k);
  return c !== 0 ? c < 0 : ns === at.ns;
}

/** Tells the deltas being encoded that an entry is about to change (see {@link DeltaCapture.keep}). */
export type KeepEntry = (st: number, kg: number, k: Uint8Array, ns: string) => void;

/** What a delta's barrier captured; {@link encode} turns it into the delta's key groups. */
export class DeltaCapture {
  /**
   * The list and map entries written since the barrier, by {@link entryId}: their rows at
   * the barrier if the delta holds them, null if it does not (the entry has no mark in its epochs).
   */
  private readonly kept = new Map<string, Row[] | null>();
  /** The list and map states whose marked entries are not all read yet. */
  private readonly unread: Set<number>;
  /** The entry read last, in a state of {@link unread}. */
  private position: ReadPosition | undefined;

  private constructor(
    private readonly held: readonly HeldRow[],
    states: readonly EncodedState[],
    /** Epochs `(after, upTo]` hold the delta's changes. */
    private readonly after: number,
    private readonly upTo: number,
  ) {
    this.unread = new Set(states.filter((s) => s.shape !== 'value').map((s) => s.id));
  }

  /**
   * Captures, inside the snapshot call, the delta of the epochs `(after, upTo]`: the
   * cache's dirty value rows of those epochs by reference; nothing else is read until
   * {@link encode}, and list and map entries are kept by {@link keep} from now on.
   */
  static capture(cache: ValueCache, states: readonly EncodedState[], after: number, upTo: number): DeltaCapture {
    const held: HeldRow[] = [];
    for (const row of cache.dirty()) {
      // A row last written in the base's epoch or before is in the base already.
      if (row.epoch > after && row.epoch <= upTo) {
        held.push({ row, bytes: row.bytes, value: row.primitive });
        row.held = true;
      }
    }
    return new DeltaCapture(held, states, after, upTo);
  }

  /** Whether list or map entries may still be read in `kv` (then every write to one must call {@link keep} first). */
  get reading(): boolean {
    return this.unread.size > 0;
  }

  /**
   * Copy-on-write: call before a list or map entry is changed (written, removed, or rows
   * of it deleted by TTL cleanup). If this delta holds the entry and has not read it yet,
   * its rows are copied now, as they were at the barrier (this is the first change since).
   */
  keep(stmts: Statements, st: number, kg: number, k: Uint8Array, ns: string): void {
    if (!this.unread.has(st) || (this.position !== undefined && readAlready(this.position, st, kg, k, ns))) return;
    const id = entryId(st, kg, k, ns);
    if (this.kept.has(id)) return;
    // Marks of the delta's epochs are all written by now: later writes mark later epochs.
    this.kept.set(id, stmts.isMarked(st, kg, k, ns, this.after, this.upTo) ? stmts.entryRows(st, kg, k, ns) : null);
  }

  /**
   * Encodes the captured delta: present entries into key groups, absent ones (or wholly
   * dropped by a TTL filter) as removed, in slices (`state/slices.ts`); reads the list and
   * map entries, then the value marks, in pages between turns; `live` is false once the
   * database is gone.
   */
  async encode(
    stmts: Statements,
    states: readonly EncodedState[],
    live: () => boolean,
  ): Promise<{ keyGroups: Map<number, Uint8Array>; removed: Map<number, Uint8Array> }> {
    // The snapshot call returns once the capture is taken: records queued meanwhile go first, the encoding follows.
    const slices = new Slices();
    await slices.pause();
    const indexOf = new Map(states.map((s, i) => [s.id, i]));
    const entries = new Map<number, ByteWriter>();
    const removed = new Map<number, RemovedEntryWriter>();
    const put = (st: number, kg: number, k: Uint8Array, ns: string, rows: Row[]) => {
      const stateIndex = indexOf.get(st);
      if (stateIndex === undefined) return;
      let w = entries.get(kg);
      if (w === undefined) entries.set(kg, (w = new ByteWriter()));
      if (!writeRowEntry(w, stateIndex, states[stateIndex]!, k, ns, rows)) {
        let r = removed.get(kg);
        if (r === undefined) removed.set(kg, (r = new RemovedEntryWriter()));
        r.add(stateIndex, k, ns);
      }
    };
    const alive = () => {
      if (!live()) throw new Error('the database was closed while a delta snapshot was being encoded');
    };
    // List and map entries first: copy-on-write lasts until they are read.
    for (const state of states) {
      if (state.shape === 'value') continue;
      let cursor: [number, Uint8Array, string] = [-1, new Uint8Array(0), ''];
      for (;;) {
        alive();
        const page = stmts.markedEntriesAfter(state.id, this.after, this.upTo, cursor, MARK_PAGE);
        let count = 0;
        let entry: { kg: number; k: Uint8Array; ns: string; rows: Row[] } | undefined;
        const close = () => {
          if (entry === undefined) return;
          // Rows copied before a write since the barrier replace those read now.
          const kept = this.kept.size === 0 ? undefined : this.kept.get(entryId(state.id, entry.kg, entry.k, entry.ns));
          put(state.id, entry.kg, entry.k, entry.ns, kept ?? entry.rows);
          cursor = [entry.kg, entry.k, entry.ns];
        };
        for (const [kg, k, ns, uk, v] of page) {
          if (entry === undefined || entry.kg !== kg || entry.ns !== ns || !sameBytes(entry.k, k)) {
            close();
            entry = { kg, k, ns, rows: [] };
            count++;
          }
          if (uk !== null) entry.rows.push([uk, v!]);
        }
        close();
        this.position = { st: state.id, kg: cursor[0], k: cursor[1], ns: cursor[2] };
        if (count < MARK_PAGE) break;
        if (slices.due()) await slices.pause();
      }
      this.unread.delete(state.id);
    }
    this.kept.clear();
    // The cache's rows are newer than any mark of the same entry: they go first, and their marks are skipped.
    const fromCache = new Set<string>();
    let n = 0;
    for (const { row, bytes, value } of this.held) {
      const k = rowKeyBytes(row);
      fromCache.add(entryId(row.st, row.kg, k, row.ns));
      const v = bytes === undefined ? serializeValue(value) : bytes;
      put(row.st, row.kg, k, row.ns, v === null ? [] : [[0, v]]);
      if ((++n & 255) === 0 && slices.due()) await slices.pause();
    }
    for (const state of states) {
      if (state.shape !== 'value') continue;
      let cursor: [number, Uint8Array, string, number] = [-1, new Uint8Array(0), '', -1];
      // The entry being read: its marks come in epoch order, the last one up to the barrier wins.
      let pending: [kg: number, k: Uint8Array, ns: string, v: Uint8Array | null] | undefined;
      const close = () => {
        if (pending === undefined) return;
        const [kg, k, ns, v] = pending;
        if (!fromCache.has(entryId(state.id, kg, k, ns))) put(state.id, kg, k, ns, v === null ? [] : [[0, v]]);
        pending = undefined;
      };
      for (;;) {
        alive();
        const page = stmts.valueMarksAfter(state.id, this.after, this.upTo, cursor, MARK_PAGE);
        for (const [kg, k, ns, epoch, v] of page) {
          if (pending === undefined || pending[0] !== kg || pending[2] !== ns || !sameBytes(pending[1], k)) close();
          pending = [kg, k, ns, v];
          cursor = [kg, k, ns, epoch];
        }
        if (page.length < MARK_PAGE) break;
        if (slices.due()) await slices.pause();
      }
      close();
    }
    return { keyGroups: finishAll(entries), removed: finishAll(removed) };
  }
}
