/**
 * The optional write-behind cache of value rows (ValueState, ReducingState,
 * AggregatingState), `DurableObjectStateBackendOptions.valueCache`. A read of a cached row
 * costs no SQL; a write only replaces the row in memory, and rows written many times
 * between write-backs reach SQLite once. Dirty rows are written back, in one transaction,
 * when the cache outgrows `maxRows` and whenever the backend flushes, snapshots, lists
 * keys, cleans up or is disposed.
 *
 * Rows are kept encoded (every read decodes a private copy), or decoded when core says the
 * value can never change (`StoredValues.shareable`), so user code changing a value it read
 * never reaches the stored state. A value kept decoded is handed to the reader as its own
 * (`ValueTable.ownedReads`: TTL renews its pairs in place and `put`s them back); it is
 * never what is written: every write encodes its bytes at once, and write-backs write those.
 *
 * The cache cannot see a transaction the host rolls back: after one, the host calls
 * `afterRollback()` on the keyed backend, or the cache would keep rolled-back values.
 */
import { deserializeValue } from '../../format/value-codec.ts';
import type { KeyId } from '../../format/key-ids.ts';
import type { FullRow, Tables } from './schema.ts';

/** Marks a cached row whose value is not kept decoded. */
const NOT_DECODED: unique symbol = Symbol('not decoded');

/** One cached value row; `bytes === null` caches an absent value (a removal, or a miss). */
interface CachedRow {
  readonly st: number;
  readonly kg: number;
  readonly k: Uint8Array;
  readonly ns: string;
  bytes: Uint8Array | null;
  decoded: unknown;
  exp: number | null;
  dirty: boolean;
}

/** The cache of one keyed backend; see the module comment. */
export class ValueRowCache {
  /** Rows by state, namespace and key id, oldest first (eviction goes by load order). */
  private readonly rows = new Map<string, CachedRow>();

  constructor(
    private readonly maxRows: number,
    private readonly tables: Tables,
    private readonly atomically: <T>(f: () => T) => T,
  ) {}

  /** Rows cached now. */
  get size(): number {
    return this.rows.size;
  }

  /** The value of a row, from the cache or loaded into it (`k()` gives the key's canonical bytes). */
  get(st: number, kg: number, id: KeyId, k: () => Uint8Array, ns: string, shareable: (v: unknown) => boolean): unknown {
    const cid = cacheId(st, ns, id);
    let row = this.rows.get(cid);
    if (row === undefined) {
      const kb = k();
      const bytes = this.tables.getValue(st, kg, kb, ns) ?? null;
      row = { st, kg, k: kb, ns, bytes, decoded: NOT_DECODED, exp: null, dirty: false };
      if (bytes !== null) {
        const value = deserializeValue(bytes);
        if (shareable(value)) row.decoded = value;
      }
      this.add(cid, row);
    }
    if (row.bytes === null) return undefined;
    return row.decoded !== NOT_DECODED ? row.decoded : deserializeValue(row.bytes);
  }

  /** Records a write (`bytes === null`: a removal); the value is kept decoded when `shareable`. */
  put(
    st: number,
    kg: number,
    id: KeyId,
    k: () => Uint8Array,
    ns: string,
    bytes: Uint8Array | null,
    value: unknown,
    shareable: boolean,
    exp: number | null,
  ): void {
    const cid = cacheId(st, ns, id);
    const row = this.rows.get(cid);
    const decoded = bytes !== null && shareable ? value : NOT_DECODED;
    if (row === undefined) this.add(cid, { st, kg, k: k(), ns, bytes, decoded, exp, dirty: true });
    else {
      row.bytes = bytes;
      row.decoded = decoded;
      row.exp = exp;
      row.dirty = true;
    }
  }

  /**
   * Decodes a cached row's value afresh from its bytes, after a refused write: the caller may
   * have changed the decoded value in place (`ValueTable.ownedReads`) before the write that
   * should have stored it failed, and the bytes are what the row holds.
   */
  redecode(st: number, id: KeyId, ns: string): void {
    const row = this.rows.get(cacheId(st, ns, id));
    if (row !== undefined && row.bytes !== null && row.decoded !== NOT_DECODED) row.decoded = deserializeValue(row.bytes);
  }

  /** Writes every dirty row to SQLite, in one transaction; the rows stay cached, clean. */
  writeBack(): void {
    const dirty: CachedRow[] = [];
    for (const row of this.rows.values()) if (row.dirty) dirty.push(row);
    if (dirty.length === 0) return;
    this.atomically(() => {
      const puts: FullRow[] = [];
      for (const r of dirty) {
        if (r.bytes === null) this.tables.deleteRow(r.st, r.kg, r.k, r.ns, 0);
        else puts.push([r.st, r.kg, r.k, r.ns, 0, r.bytes, r.exp]);
      }
      this.tables.putRows(puts);
    });
    for (const r of dirty) r.dirty = false;
  }

  /** Forgets the rows of one state (after SQL changed them behind the cache); write back first. */
  dropState(st: number): void {
    for (const [cid, row] of this.rows) if (row.st === st) this.rows.delete(cid);
  }

  /** Forgets every row, dirty ones included (after a rollback, or before a restore). */
  clear(): void {
    this.rows.clear();
  }

  private add(cid: string, row: CachedRow): void {
    this.rows.set(cid, row);
    if (this.rows.size <= this.maxRows) return;
    this.writeBack();
    // Back to three quarters, oldest first, so that eviction is not paid on every miss.
    const target = Math.floor(this.maxRows * 0.75);
    for (const key of this.rows.keys()) {
      if (this.rows.size <= target) break;
      this.rows.delete(key);
    }
  }
}

/** The cache key of a row: state, namespace (length-prefixed, so no namespace can run into the id) and key id (typed: 1 and "1" differ). */
function cacheId(st: number, ns: string, id: KeyId): string {
  return `${st}:${ns.length}:${ns}${typeof id}:${String(id)}`;
}
