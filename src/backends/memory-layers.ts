/**
 * Copy-on-write without the copy: a write to a key group's map that a running snapshot
 * still reads goes into a {@link LayeredMap} over it instead of into a copy of it
 * (copying a group of ~7,800 keys took ~3.5 ms, which one record then waited for). Once no
 * snapshot reads the map below any more, the layer's changes move down into it in the
 * background, a bounded number per step, and the plain map takes the layer's place again.
 *
 * A layer keeps the order a plain `Map` would have had with the same writes (keys still
 * in the map below stay where they were; keys added, or removed and added again, come
 * after them in the order they were last added), so a snapshot of it is byte for byte the
 * snapshot of a map that saw the same writes.
 */
import type { KeyId } from '../format/key-ids.ts';

/** What the in-memory backend needs of a key group's map: a `Map`, or a layer over one. */
export interface KeyMap {
  readonly size: number;
  get(id: KeyId): unknown;
  has(id: KeyId): boolean;
  set(id: KeyId, value: unknown): unknown;
  delete(id: KeyId): boolean;
  keys(): IterableIterator<KeyId>;
  entries(): IterableIterator<[KeyId, unknown]>;
  [Symbol.iterator](): IterableIterator<[KeyId, unknown]>;
}

/** Per key group (index = key group - range start): key id → stored value. */
export type KeyGroupMaps = Array<KeyMap | undefined>;

/** The changes written over a map (the base) that a snapshot still reads; reads see base + changes. */
export class LayeredMap implements KeyMap {
  /** Keys written since the layer began, in the order a plain map would have added them. */
  private readonly over = new Map<KeyId, unknown>();
  /** Keys of the base removed since (their place in the base's order is gone). */
  private readonly gone = new Set<KeyId>();
  /** Keys of `over` that are not live in the base (they count towards the size). */
  private added = 0;

  /**
   * @param base the map below (frozen while a snapshot reads it)
   * @param owner the array whose slot `index` this layer occupies, given back to the base once merged
   */
  constructor(
    public base: KeyMap,
    readonly owner: KeyGroupMaps,
    readonly index: number,
  ) {}

  /** True when `id` is in the base at its base position (not removed since). */
  private liveInBase(id: KeyId): boolean {
    return !this.gone.has(id) && this.base.has(id);
  }

  get size(): number {
    return this.base.size - this.gone.size + this.added;
  }

  get(id: KeyId): unknown {
    const v = this.over.get(id);
    if (v !== undefined || this.over.has(id)) return v;
    return this.gone.has(id) ? undefined : this.base.get(id);
  }

  has(id: KeyId): boolean {
    return this.over.has(id) || this.liveInBase(id);
  }

  set(id: KeyId, value: unknown): this {
    if (!this.over.has(id) && !this.liveInBase(id)) this.added++;
    this.over.set(id, value);
    return this;
  }

  delete(id: KeyId): boolean {
    const live = this.liveInBase(id);
    const inOver = this.over.delete(id);
    if (live) {
      this.gone.add(id);
      return true;
    }
    if (inOver) this.added--;
    return inOver;
  }

  *entries(): IterableIterator<[KeyId, unknown]> {
    for (const [id, v] of this.base) {
      if (this.gone.has(id)) continue;
      const o = this.over.get(id);
      yield [id, o !== undefined || this.over.has(id) ? o : v];
    }
    for (const [id, v] of this.over) if (!this.liveInBase(id)) yield [id, v];
  }

  [Symbol.iterator](): IterableIterator<[KeyId, unknown]> {
    return this.entries();
  }

  *keys(): IterableIterator<KeyId> {
    for (const [id] of this.entries()) yield id;
  }

  /** True when every change has moved into the base (the layer reads as its base). */
  get empty(): boolean {
    return this.over.size === 0 && this.gone.size === 0;
  }

  /**
   * The map this layer's changes would move into: empty layers below that no snapshot
   * reads (`frozen` false) read as their own base and are skipped; a frozen one is kept,
   * as changes moving through it into its base would change what its snapshot reads.
   */
  settle(frozen: (map: KeyMap) => boolean): KeyMap {
    while (this.base instanceof LayeredMap && this.base.empty && !frozen(this.base)) this.base = this.base.base;
    return this.base;
  }

  /**
   * Moves up to `budget` changes into the base, oldest first; true when none are left.
   * Only while no snapshot reads the base (after {@link settle}). Every step leaves what the layer reads, order
   * included, unchanged: removed base keys leave the base first, then the written keys go
   * down in their order (a key added to the base lands where the layer listed it, after
   * the base's keys and before the layer's later ones).
   */
  mergeSome(budget: number): boolean {
    for (const id of this.gone) {
      if (budget-- <= 0) return false;
      this.base.delete(id);
      this.gone.delete(id);
    }
    for (const [id, v] of this.over) {
      if (budget-- <= 0) return false;
      if (!this.base.has(id)) this.added--;
      this.base.set(id, v);
      this.over.delete(id);
    }
    return true;
  }
}
