/**
 * The bounded write-behind cache of value rows (ValueState, ReducingState,
 * AggregatingState: the per-record hot path). A read of a cached row costs a decode, not
 * a SQL query; a write only replaces bytes in the cache. When the cache outgrows its
 * byte budget, every dirty row is written to SQLite in one batch (one transaction), and
 * then the oldest clean rows are evicted until it is back at three quarters of its budget.
 *
 * Rows are cached as their canonical encoding, not as live objects: the encoded size is
 * what the budget counts, and every read decodes a private copy, so user code changing a
 * value it read (or wrote) can never reach the stored state or a snapshot.
 */

/** One cached value row; `bytes === null` caches an absent value (a removal, or a miss). */
export interface CachedRow {
  readonly st: number;
  readonly kg: number;
  readonly k: Uint8Array;
  readonly ns: string;
  bytes: Uint8Array | null;
  exp: number | null;
  dirty: boolean;
  size: number;
}

/** Bookkeeping per row besides its bytes: the Map entry, the key bytes, the id string. */
const ROW_OVERHEAD = 96;

/** The cache; `writeBack` writes dirty rows to SQLite (in one batch) and is told nothing else. */
export class ValueCache {
  /** Insertion order is the eviction order: a write moves a row to the end. */
  private readonly rows = new Map<string, CachedRow>();
  private bytes = 0;
  private dirtyRows = 0;

  constructor(
    private readonly budgetBytes: number,
    private readonly writeBack: (dirty: CachedRow[]) => void,
  ) {}

  /** Bytes held now (encoded values, keys and an estimate of the bookkeeping). */
  get size(): number {
    return this.bytes;
  }

  /** The cached row of `id`, if any. */
  get(id: string): CachedRow | undefined {
    return this.rows.get(id);
  }

  /** Caches a row read from SQLite (clean). */
  loaded(id: string, st: number, kg: number, k: Uint8Array, ns: string, bytes: Uint8Array | null, exp: number | null): CachedRow {
    const row: CachedRow = { st, kg, k, ns, bytes, exp, dirty: false, size: sizeOf(k, ns, bytes) };
    this.rows.set(id, row);
    this.bytes += row.size;
    this.keepWithinBudget();
    return row;
  }

  /** Records a write (bytes, or null for a removal) of the current key's row. */
  write(id: string, st: number, kg: number, k: Uint8Array, ns: string, bytes: Uint8Array | null, exp: number | null): void {
    const old = this.rows.get(id);
    if (old !== undefined) {
      this.rows.delete(id);
      this.bytes -= old.size;
      if (old.dirty) this.dirtyRows--;
    }
    const row: CachedRow = { st, kg, k: old?.k ?? k, ns, bytes, exp, dirty: true, size: sizeOf(k, ns, bytes) };
    this.rows.set(id, row);
    this.bytes += row.size;
    this.dirtyRows++;
    this.keepWithinBudget();
  }

  /** Writes every dirty row back (one batch); the rows stay cached, clean. */
  flush(): void {
    if (this.dirtyRows === 0) return;
    const dirty: CachedRow[] = [];
    for (const row of this.rows.values()) if (row.dirty) dirty.push(row);
    this.writeBack(dirty);
    for (const row of dirty) row.dirty = false;
    this.dirtyRows = 0;
  }

  /** Drops every row of state `st` (after SQL changed its rows behind the cache); call {@link flush} first. */
  dropState(st: number): void {
    for (const [id, row] of this.rows) {
      if (row.st !== st) continue;
      this.rows.delete(id);
      this.bytes -= row.size;
    }
  }

  /** Drops everything; call {@link flush} first unless the rows are meant to be lost. */
  clear(): void {
    this.rows.clear();
    this.bytes = 0;
    this.dirtyRows = 0;
  }

  private keepWithinBudget(): void {
    if (this.bytes <= this.budgetBytes) return;
    this.flush();
    const target = this.budgetBytes * 0.75;
    for (const [id, row] of this.rows) {
      if (this.bytes <= target) break;
      this.rows.delete(id);
      this.bytes -= row.size;
    }
  }
}

function sizeOf(k: Uint8Array, ns: string, bytes: Uint8Array | null): number {
  return ROW_OVERHEAD + k.length + 2 * ns.length + (bytes?.length ?? 0);
}
