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
 * Rows are found by state, then namespace, then key id (`Map`s, the last bucket used
 * remembered), so that an access to a cached row allocates nothing: every record of a
 * Durable Object pays CPU time, billed.
 *
 * The cache cannot see a transaction the host rolls back: after one, the host calls
 * `afterRollback()` on the keyed backend, or the cache would keep rolled-back values.
 */
import { deserializeValue } from '../../format/value-codec.ts';
import type { KeyId } from '../../format/key-ids.ts';
import type { FullRow, Tables } from './schema.ts';

/** Marks a cached row whose value is not kept decoded. */
const NOT_DECODED: unique symbol = Symbol('not decoded');

/** The rows of one state and namespace, by key id (a `Map` keeps 1 and "1" apart). */
type Bucket = Map<KeyId, CachedRow>;

/** One cached value row; `bytes === null` caches an absent value (a removal, or a miss). A class, so every row has one shape. */
class CachedRow {
  dirty = false;
  /** `bytes` came from a write (nothing else holds them), so a later write of the same length may copy into them. */
  ownsBytes = false;
  constructor(
    readonly st: number,
    readonly kg: number,
    readonly k: Uint8Array,
    readonly ns: string,
    readonly id: KeyId,
    readonly bucket: Bucket,
    public bytes: Uint8Array | null,
    public decoded: unknown,
    public exp: number | null,
  ) {}
}

/** The cache of one keyed backend; see the module comment. */
export class ValueRowCache {
  /** The buckets of each state, by namespace; a bucket goes when its last row does. */
  private readonly buckets = new Map<number, Map<string, Bucket>>();
  /** Every cached row, oldest first (eviction goes by load order; a row rewritten in place keeps its place). */
  private readonly order = new Set<CachedRow>();
  /** The rows written since they were last written back, so a write-back costs what changed, not the cache's size. */
  private readonly dirty = new Set<CachedRow>();
  // The bucket of the last access: a record usually touches one state and namespace.
  private lastSt = -1;
  private lastNs = '';
  private last: Bucket | undefined;

  constructor(
    private readonly maxRows: number,
    private readonly tables: Tables,
    private readonly atomically: <T>(f: () => T) => T,
  ) {}

  /** Rows cached now. */
  get size(): number {
    return this.order.size;
  }

  /** The value of a row, from the cache or loaded into it (`k()` gives the key's canonical bytes). */
  get(st: number, kg: number, id: KeyId, k: () => Uint8Array, ns: string, shareable: (v: unknown) => boolean): unknown {
    const bucket = this.bucket(st, ns);
    let row = bucket.get(id);
    if (row === undefined) {
      const kb = k();
      const bytes = this.tables.getValue(st, kg, kb, ns) ?? null;
      let decoded: unknown = NOT_DECODED;
      if (bytes !== null) {
        const value = deserializeValue(bytes);
        if (shareable(value)) decoded = value;
      }
      row = new CachedRow(st, kg, kb, ns, id, bucket, bytes, decoded, null);
      this.add(row);
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
    const bucket = this.bucket(st, ns);
    let row = bucket.get(id);
    const decoded = bytes !== null && shareable ? value : NOT_DECODED;
    if (row === undefined) {
      row = new CachedRow(st, kg, k(), ns, id, bucket, bytes, decoded, exp);
      row.dirty = true;
      row.ownsBytes = bytes !== null;
      this.dirty.add(row);
      this.add(row);
      return;
    }
    const old = row.bytes;
    // Rows live long: a fresh array kept per write would outlive the young generation and be
    // collected from the old one, which costs more than the rest of the write with many keys.
    // Copied, the fresh one dies young, at no cost.
    if (row.ownsBytes && bytes !== null && old !== null && old.length === bytes.length) old.set(bytes);
    else {
      row.bytes = bytes;
      row.ownsBytes = bytes !== null;
    }
    row.decoded = decoded;
    row.exp = exp;
    if (!row.dirty) {
      row.dirty = true;
      this.dirty.add(row);
    }
  }

  /** The canonical key bytes of a cached row, if it is cached (they are exact, and cost nothing to ask for). */
  keyBytesOf(st: number, id: KeyId, ns: string): Uint8Array | undefined {
    return this.find(st, id, ns)?.k;
  }

  /**
   * Decodes a cached row's value afresh from its bytes, after a refused write: the caller may
   * have changed the decoded value in place (`ValueTable.ownedReads`) before the write that
   * should have stored it failed, and the bytes are what the row holds.
   */
  redecode(st: number, id: KeyId, ns: string): void {
    const row = this.find(st, id, ns);
    if (row !== undefined && row.bytes !== null && row.decoded !== NOT_DECODED) row.decoded = deserializeValue(row.bytes);
  }

  /** Writes every dirty row to SQLite, in one transaction; the rows stay cached, clean. */
  writeBack(): void {
    if (this.dirty.size === 0) return;
    const dirty = [...this.dirty];
    this.atomically(() => {
      const puts: FullRow[] = [];
      for (const r of dirty) {
        if (r.bytes === null) this.tables.deleteRow(r.st, r.kg, r.k, r.ns, 0);
        else puts.push([r.st, r.kg, r.k, r.ns, 0, r.bytes, r.exp]);
      }
      this.tables.putRows(puts);
    });
    for (const r of dirty) r.dirty = false;
    this.dirty.clear();
  }

  /** Forgets the rows of one state (after SQL changed them behind the cache); write back first. */
  dropState(st: number): void {
    const byNs = this.buckets.get(st);
    if (byNs === undefined) return;
    for (const bucket of byNs.values()) {
      for (const row of bucket.values()) {
        this.order.delete(row);
        this.dirty.delete(row);
      }
    }
    this.buckets.delete(st);
    if (this.lastSt === st) this.forgetLast();
  }

  /** Forgets every row, dirty ones included (after a rollback, or before a restore). */
  clear(): void {
    this.buckets.clear();
    this.order.clear();
    this.dirty.clear();
    this.forgetLast();
  }

  /** The bucket of a state's namespace, created on first use. */
  private bucket(st: number, ns: string): Bucket {
    if (st === this.lastSt && ns === this.lastNs) return this.last!;
    let byNs = this.buckets.get(st);
    if (byNs === undefined) this.buckets.set(st, (byNs = new Map()));
    let bucket = byNs.get(ns);
    if (bucket === undefined) byNs.set(ns, (bucket = new Map()));
    this.lastSt = st;
    this.lastNs = ns;
    this.last = bucket;
    return bucket;
  }

  private find(st: number, id: KeyId, ns: string): CachedRow | undefined {
    return this.buckets.get(st)?.get(ns)?.get(id);
  }

  private forgetLast(): void {
    this.lastSt = -1;
    this.lastNs = '';
    this.last = undefined;
  }

  private add(row: CachedRow): void {
    row.bucket.set(row.id, row);
    this.order.add(row);
    if (this.order.size <= this.maxRows) return;
    this.writeBack();
    // Back to three quarters, oldest first, so that eviction is not paid on every miss.
    const target = Math.floor(this.maxRows * 0.75);
    for (const old of this.order) {
      if (this.order.size <= target) break;
      this.evict(old);
    }
  }

  private evict(row: CachedRow): void {
    this.order.delete(row);
    const { bucket } = row;
    bucket.delete(row.id);
    if (bucket.size > 0) return;
    // A window's namespace is used for a while and then never again: its empty bucket goes.
    const byNs = this.buckets.get(row.st)!;
    byNs.delete(row.ns);
    if (byNs.size === 0) this.buckets.delete(row.st);
    if (this.last === bucket) this.forgetLast();
  }
}
