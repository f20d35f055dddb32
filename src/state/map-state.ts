/**
 * The map keyed state (see `keyed-states.ts` for what every keyed state does).
 */
import type { MapState, MapStateKey } from '../api/state.ts';
import { StateError } from '../api/errors.ts';
import type { Key } from '../format/key-bytes.ts';
import type { KeyedStateBackend, MapTable } from './backend.ts';
import { guarded, KvState, settle, toVoid } from './keyed-states.ts';

/** {@link MapState} over a map table. */
export class MapStateImpl<K extends MapStateKey, V> extends KvState implements MapState<K, V> {
  constructor(
    backend: KeyedStateBackend,
    operator: string,
    name: string,
    private readonly table: MapTable<V>,
  ) {
    super(backend, operator, name);
  }

  get(key: K): Promise<V | undefined> {
    return guarded(() => {
      this.checkKey();
      this.checkUserKey(key);
      return settle(this.table.get(this.namespace, key), (v) => v);
    });
  }

  put(key: K, value: V): Promise<void> {
    return guarded(() => {
      this.checkKey();
      this.checkUserKey(key);
      this.checkMapValue(value);
      return settle(this.table.put(this.namespace, key, value), toVoid);
    });
  }

  putAll(entries: Iterable<readonly [K, V]> | Map<K, V>): Promise<void> {
    return guarded(() => {
      this.checkKey();
      const list: Array<readonly [Key, V]> = [];
      for (const [k, v] of entries) {
        this.checkUserKey(k);
        this.checkMapValue(v);
        list.push([k, v]);
      }
      return list.length === 0 ? Promise.resolve() : settle(this.table.putAll(this.namespace, list), toVoid);
    });
  }

  remove(key: K): Promise<void> {
    return guarded(() => {
      this.checkKey();
      this.checkUserKey(key);
      return settle(this.table.delete(this.namespace, key), toVoid);
    });
  }

  contains(key: K): Promise<boolean> {
    return guarded(() => {
      this.checkKey();
      this.checkUserKey(key);
      return settle(this.table.contains(this.namespace, key), (b) => b);
    });
  }

  isEmpty(): Promise<boolean> {
    return guarded(() => {
      this.checkKey();
      return settle(this.table.isEmpty(this.namespace), (b) => b);
    });
  }

  entries(): AsyncIterable<[K, V]> {
    this.checkKey();
    // The key is captured now: the iteration keeps reading this key's map.
    return this.table.entries(this.namespace) as AsyncIterable<[K, V]>;
  }

  keys(): AsyncIterable<K> {
    const entries = this.entries();
    return (async function* () {
      for await (const [k] of entries) yield k;
    })();
  }

  values(): AsyncIterable<V> {
    const entries = this.entries();
    return (async function* () {
      for await (const [, v] of entries) yield v;
    })();
  }

  clear(): Promise<void> {
    return guarded(() => {
      this.checkKey();
      return settle(this.table.remove(this.namespace), toVoid);
    });
  }

  private checkMapValue(value: unknown): void {
    if (value === undefined) {
      throw new StateError('INVALID_ARGUMENT', 'map state values cannot be undefined (use remove())', {
        component: `backend:${this.backend.name}`,
        operator: this.operator,
        state: this.name,
        key: this.backend.getCurrentKey(),
      });
    }
    this.checkValue(value);
  }
}
