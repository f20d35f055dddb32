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
 *   their rows are read at the barrier: that part of the pause follows the number of
 *   changed list and map rows.
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
import { finishAll, sameBytes, writeEntry } from './snapshots.ts';
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

/** A list or map entry's rows read at the barrier (none: removed). */
interface ReadEntry {
  readonly st: number;
  readonly kg: number;
  readonly k: Uint8Array;
  readonly ns: string;
  readonly rows: Row[];
}

/** The identity of an entry across the cache and the marks (the namespace's length keeps it unambiguous). */
function entryId(st: number, kg: number, k: Uint8Array, ns: string): string {
  let s = `${st}/${kg}/${ns.length}/${ns}`;
  for (let i = 0; i < k.length; i++) s += String.fromCharCode(k[i]!);
  return s;
}

/** What a delta's barrier captured; {@link encode} turns it into the delta's key groups. */
export class DeltaCapture {
  private constructor(
    private readonly held: readonly HeldRow[],
    private readonly read: readonly ReadEntry[],
    /** Epochs `(after, upTo]` hold the delta's changes. */
    private readonly after: number,
    private readonly upTo: number,
  ) {}

  /**
   * Captures, inside the snapshot call, the delta of the epochs `(after, upTo]`: the
   * cache's dirty value rows of those epochs by reference, and the current rows of the
   * marked list and map entries.
   */
  static capture(stmts: Statements, cache: ValueCache, states: readonly EncodedState[], after: number, upTo: number): DeltaCapture {
    const held: HeldRow[] = [];
    for (const row of cache.dirty()) {
      // A row last written in the base's epoch or before is in the base already.
      if (row.epoch > after && row.epoch <= upTo) held.push({ row, bytes: row.bytes, value: row.primitive });
    }
    const read: ReadEntry[] = [];
    for (const state of states) {
      if (state.shape === 'value') continue;
      let last: ReadEntry | undefined;
      for (const [kg, k, ns, uk, v] of stmts.markedEntryRows(state.id, after, upTo)) {
        if (last === undefined || last.kg !== kg || last.ns !== ns || !sameBytes(last.k, k)) read.push((last = { st: state.id, kg, k, ns, rows: [] }));
        if (uk !== null) last.rows.push([uk, v!]);
      }
    }
    return new DeltaCapture(held, read, after, upTo);
  }

  /**
   * Encodes the captured delta: present entries into key groups, absent ones (or wholly
   * dropped by a TTL filter) as removed, in slices (`state/slices.ts`); reads the value
   * marks in pages, between turns; `live` is false once the database is gone.
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
      if (!writeEntry(w, stateIndex, states[stateIndex]!, k, ns, rows)) {
        let r = removed.get(kg);
        if (r === undefined) removed.set(kg, (r = new RemovedEntryWriter()));
        r.add(stateIndex, k, ns);
      }
    };
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
    for (const e of this.read) {
      put(e.st, e.kg, e.k, e.ns, e.rows);
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
        if (!live()) throw new Error('the database was closed while a delta snapshot was being encoded');
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
