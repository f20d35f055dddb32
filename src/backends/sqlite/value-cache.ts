/**
 * The bounded write-behind cache of value rows (ValueState, ReducingState,
 * AggregatingState: the per-record hot path). A read of a cached row costs a decode (or
 * nothing, for a primitive), not a SQL query; a write only replaces bytes in the cache.
 * When the cache outgrows its byte budget, every dirty row is written to SQLite in one
 * batch, and then the oldest rows are evicted until it is back at three quarters of it.
 *
 * Rows are cached as their canonical encoding, not as live objects: the encoded size is
 * what the budget counts, and every read of an object decodes a private copy, so user
 * code changing a value it read (or wrote) can never reach the stored state or a
 * snapshot. Values nobody can change are kept decoded instead (core says which, per state,
 * through `StoredValues.shareable`; for a state with TTL that covers its pairs around primitives):
 * a read then costs nothing, and a write encodes nothing until the row is written back
 * (a counter rewritten 20 times between flushes is encoded once, not 20 times).
 *
 * Rows live in buckets, one `Map` per (state, namespace) keyed by the key's `KeyId`, so
 * the hot path never builds a composite string key.
 */
import { serializeValue } from '../../format/value-codec.ts';
import { canonicalKeyBytes, type Key } from '../../format/key-bytes.ts';
import type { KeyId } from '../../format/key-ids.ts';

/** The rows of one (state, namespace), by key id. */
export type Bucket = Map<KeyId, CachedRow>;

/**
 * One cached value row; `bytes === null` caches an absent value (a removal, or a miss),
 * `bytes === undefined` a shareable value not encoded yet (see {@link rowBytes}). A
 * class, so every row has one shape.
 */
export class CachedRow {
  dirty = false;
  size = 0;
  /** The snapshot epoch of the row's last write (`ValueCache.epoch` then): which delta it belongs to. */
  epoch = 0;
  /**
   * True once a delta captured `primitive` by reference (`delta-capture.ts`) and until the
   * next write: a reader that changes the value in place (`ValueTable.ownedReads`) gets a copy first.
   */
  held = false;
  constructor(
    readonly st: number,
    readonly kg: number,
    readonly key: Key,
    readonly ns: string,
    readonly bucket: Bucket,
    readonly id: KeyId,
    public bytes: Uint8Array | null | undefined,
    /** The decoded value when it is shareable (safe to hand out as is, see `primitiveOf`); `NOT_DECODED` otherwise. */
    public primitive: unknown,
    public exp: number | null,
    /** Canonical key bytes, computed when the row is first written back. */
    public keyBytes: Uint8Array | undefined,
  ) {
    this.size = sizeOf(key, ns, bytes, primitive);
  }
}

/** Marks a row whose value is an object (decoded per read). */
export const NOT_DECODED: unique symbol = Symbol('not decoded');

/** Bookkeeping per row besides its bytes: the Map entries and the row object. */
const ROW_OVERHEAD = 128;

/** The encoded value of a present row, encoded now if it was cached decoded only. */
export function rowBytes(row: CachedRow): Uint8Array {
  return (row.bytes ??= serializeValue(row.primitive));
}

/** The canonical key bytes of a row (computed once). */
export function rowKeyBytes(row: CachedRow): Uint8Array {
  return (row.keyBytes ??= canonicalKeyBytes(row.key));
}

/**
 * The cache; `writeBack` writes dirty rows to SQLite (in one batch). Eviction goes by
 * load order (a row rewritten in place keeps its place): cheaper than exact LRU on the
 * per-record path, and a hot row evicted early is simply read again.
 */
export class ValueCache {
  /** Every cached row, oldest first. */
  private readonly order = new Set<CachedRow>();
  private bytes = 0;
  /** The rows written since they were last written back (kept apart so a delta's capture costs what changed, not the cache's size). */
  private readonly dirtyRows = new Set<CachedRow>();
  /** The current snapshot epoch (the backend's `DeltaEpochs.epoch`); every write tags its row with it. */
  epoch = 0;

  constructor(
    private readonly budgetBytes: number,
    private readonly writeBack: (dirty: CachedRow[]) => void,
  ) {}

  /** Bytes held now (encoded values, keys and an estimate of the bookkeeping). */
  get size(): number {
    return this.bytes;
  }

  /** Caches a row read from SQLite (clean). */
  loaded(row: CachedRow): CachedRow {
    row.bucket.set(row.id, row);
    this.order.add(row);
    this.bytes += row.size;
    this.keepWithinBudget();
    return row;
  }

  /** Records a write into the row of `id` (bytes, or null for a removal); `make` creates the row when it is not cached. */
  write(bucket: Bucket, id: KeyId, bytes: Uint8Array | null | undefined, primitive: unknown, exp: number | null, make: () => CachedRow): void {
    let row = bucket.get(id);
    if (row === undefined) {
      row = make();
      bucket.set(id, row);
      this.order.add(row);
    } else {
      this.bytes -= row.size;
      row.bytes = bytes;
      row.primitive = primitive;
      row.held = false;
      row.exp = exp;
      row.size = sizeOf(row.key, row.ns, bytes, primitive);
    }
    this.bytes += row.size;
    row.epoch = this.epoch;
    if (!row.dirty) {
      row.dirty = true;
      this.dirtyRows.add(row);
    }
    this.keepWithinBudget();
  }

  /** The rows not written back yet (live: a caller that keeps them must copy what it needs now). */
  dirty(): ReadonlySet<CachedRow> {
    return this.dirtyRows;
  }

  /** Writes every dirty row back (one batch); the rows stay cached, clean. */
  flush(): void {
    if (this.dirtyRows.size === 0) return;
    const dirty = [...this.dirtyRows];
    this.writeBack(dirty);
    for (const row of dirty) row.dirty = false;
    this.dirtyRows.clear();
  }

  /** Drops every row of state `st` (after SQL changed its rows behind the cache); call {@link flush} first. */
  dropState(st: number): void {
    for (const row of this.order) if (row.st === st) this.evict(row);
  }

  /** Drops the rows of state `st` whose deadline passed by `now` (after native cleanup deleted exactly those from SQL); call {@link flush} first. */
  dropExpired(st: number, now: number): void {
    for (const row of this.order) if (row.st === st && row.exp !== null && row.exp <= now) this.evict(row);
  }

  /** Drops everything; call {@link flush} first unless the rows are meant to be lost. */
  clear(): void {
    for (const row of this.order) row.bucket.delete(row.id);
    this.order.clear();
    this.bytes = 0;
    for (const row of this.dirtyRows) row.dirty = false;
    this.dirtyRows.clear();
  }

  private evict(row: CachedRow): void {
    this.order.delete(row);
    row.bucket.delete(row.id);
    this.bytes -= row.size;
  }

  private keepWithinBudget(): void {
    if (this.bytes <= this.budgetBytes) return;
    this.flush();
    const target = this.budgetBytes * 0.75;
    for (const row of this.order) {
      if (this.bytes <= target) break;
      this.evict(row);
    }
  }
}

function sizeOf(key: Key, ns: string, bytes: Uint8Array | null | undefined, decoded: unknown): number {
  const keySize = typeof key === 'string' ? 2 * key.length : 16;
  const valueSize = bytes === undefined ? decodedSize(decoded) : (bytes?.length ?? 0);
  return ROW_OVERHEAD + keySize + 2 * ns.length + valueSize;
}

/** An estimate (upper bound but for long strings) of the encoded size of a shareable value (a primitive, or an array of them), which is not encoded until written back. */
function decodedSize(v: unknown): number {
  if (!Array.isArray(v)) return typeof v === 'string' ? 5 + 2 * v.length : 9;
  let size = 2;
  for (const e of v) size += decodedSize(e);
  return size;
}
