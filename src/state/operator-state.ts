/**
 * Operator (non-keyed) state, mostly for sources and sinks: list state redistributed by
 * even split, union list state (every subtask gets everything) and broadcast state (the
 * same map everywhere). It is small by nature, so it always lives in memory, whatever
 * the keyed state backend (as Flink's `DefaultOperatorStateBackend` does).
 */
import type { ListStateDescriptor, MapStateDescriptor } from '../api/descriptors.ts';
import { SnapshotError, StateError } from '../api/errors.ts';
import type { OperatorStateStore } from '../api/functions.ts';
import type { BroadcastState, ListState, MapStateKey } from '../api/state.ts';
import { deserializeValue, serializeValue } from '../format/value-codec.ts';
import { unserializableProblem } from '../format/value-check.ts';
import { keyFromId, keyId, type KeyId } from '../format/key-ids.ts';
import { keyProblem, type Key } from '../format/key-bytes.ts';
import type { OperatorStateMode, OperatorStateSnapshot } from '../format/checkpoint-format.ts';
import { checkDescriptor } from './keyed-state-store.ts';

export type { OperatorStateMode, OperatorStateSnapshot } from '../format/checkpoint-format.ts';

class OperatorListState<T> implements ListState<T> {
  elements: T[];
  constructor(
    private readonly check: (v: unknown) => void,
    restored: T[],
  ) {
    this.elements = restored;
  }
  async get(): Promise<T[]> {
    return this.elements.slice();
  }
  async add(value: T): Promise<void> {
    this.check(value);
    this.elements.push(value);
  }
  async addAll(values: Iterable<T>): Promise<void> {
    const list = Array.from(values);
    list.forEach(this.check);
    this.elements.push(...list);
  }
  async update(values: Iterable<T>): Promise<void> {
    const list = Array.from(values);
    list.forEach(this.check);
    this.elements = list;
  }
  async clear(): Promise<void> {
    this.elements = [];
  }
}

class OperatorBroadcastState<K extends MapStateKey, V> implements BroadcastState<K, V> {
  constructor(
    private readonly check: (v: unknown) => void,
    private readonly checkKey: (k: unknown) => void,
    readonly map: Map<KeyId, V>,
  ) {}
  async get(key: K): Promise<V | undefined> {
    this.checkKey(key);
    return this.map.get(keyId(key as Key));
  }
  async put(key: K, value: V): Promise<void> {
    this.checkKey(key);
    this.check(value);
    this.map.set(keyId(key as Key), value);
  }
  async putAll(entries: Iterable<readonly [K, V]> | Map<K, V>): Promise<void> {
    for (const [k, v] of entries) await this.put(k, v);
  }
  async remove(key: K): Promise<void> {
    this.checkKey(key);
    this.map.delete(keyId(key as Key));
  }
  async contains(key: K): Promise<boolean> {
    this.checkKey(key);
    return this.map.has(keyId(key as Key));
  }
  async isEmpty(): Promise<boolean> {
    return this.map.size === 0;
  }
  async *entries(): AsyncIterable<[K, V]> {
    for (const [id, v] of [...this.map]) yield [keyFromId(id) as K, v];
  }
  async *keys(): AsyncIterable<K> {
    for (const id of [...this.map.keys()]) yield keyFromId(id) as K;
  }
  async *values(): AsyncIterable<V> {
    for (const v of [...this.map.values()]) yield v;
  }
  async clear(): Promise<void> {
    this.map.clear();
  }
}

/** The operator state of one subtask. */
export class DefaultOperatorStateStore implements OperatorStateStore {
  private readonly lists = new Map<string, { mode: 'split' | 'union'; state: OperatorListState<unknown> }>();
  private readonly broadcasts = new Map<string, OperatorBroadcastState<MapStateKey, unknown>>();
  private readonly restored = new Map<string, { mode: OperatorStateMode; bytes: Uint8Array }>();

  constructor(
    private readonly operatorName: string,
    restored?: OperatorStateSnapshot,
  ) {
    for (const s of restored?.states ?? []) this.restored.set(s.name, s);
  }

  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T> {
    return this.list(descriptor, 'split') as ListState<T>;
  }

  getUnionListState<T>(descriptor: ListStateDescriptor<T>): ListState<T> {
    return this.list(descriptor, 'union') as ListState<T>;
  }

  getBroadcastState<K extends MapStateKey, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V> {
    this.checkDescriptor(descriptor, 'map', 'broadcast');
    const existing = this.broadcasts.get(descriptor.name);
    if (existing) return existing as unknown as BroadcastState<K, V>;
    const map = new Map<KeyId, unknown>();
    for (const [k, v] of this.restoredContent(descriptor.name, 'broadcast') as Array<[Key, unknown]>) map.set(keyId(k), v);
    const state = new OperatorBroadcastState<MapStateKey, unknown>(this.valueChecker(descriptor.name), this.keyChecker(descriptor.name), map);
    this.broadcasts.set(descriptor.name, state);
    return state as unknown as BroadcastState<K, V>;
  }

  /** The names of the states registered so far. */
  stateNames(): string[] {
    return [...this.lists.keys(), ...this.broadcasts.keys()];
  }

  /** Encodes every state (restored states never registered again are kept as they were). */
  snapshot(): OperatorStateSnapshot {
    const states: Array<{ name: string; mode: OperatorStateMode; bytes: Uint8Array }> = [];
    for (const [name, s] of this.restored) {
      if (!this.lists.has(name) && !this.broadcasts.has(name)) states.push({ name, mode: s.mode, bytes: s.bytes });
    }
    for (const [name, { mode, state }] of this.lists) states.push({ name, mode, bytes: serializeValue(state.elements) });
    for (const [name, state] of this.broadcasts) {
      states.push({ name, mode: 'broadcast', bytes: serializeValue([...state.map].map(([id, v]) => [keyFromId(id), v])) });
    }
    return { states };
  }

  private list(descriptor: ListStateDescriptor<unknown>, mode: 'split' | 'union'): OperatorListState<unknown> {
    this.checkDescriptor(descriptor, 'list', mode);
    const existing = this.lists.get(descriptor.name);
    if (existing) {
      if (existing.mode !== mode) throw this.modeMismatch(descriptor.name, existing.mode, mode);
      return existing.state;
    }
    const state = new OperatorListState<unknown>(this.valueChecker(descriptor.name), this.restoredContent(descriptor.name, mode) as unknown[]);
    this.lists.set(descriptor.name, { mode, state });
    return state;
  }

  private checkDescriptor(descriptor: unknown, kind: 'list' | 'map', mode: OperatorStateMode): void {
    checkDescriptor(descriptor, this.operatorName);
    const d = descriptor as { name: string; kind: string };
    if (d.kind !== kind) {
      throw new StateError(
        'INVALID_ARGUMENT',
        `${mode} operator state needs a ${kind === 'list' ? 'ListStateDescriptor' : 'MapStateDescriptor'}, got a descriptor of ${d.kind} state`,
        { component: 'operator-state', operator: this.operatorName, state: d.name },
      );
    }
    const other = kind === 'list' ? this.broadcasts.has(d.name) : this.lists.has(d.name);
    if (other) throw this.modeMismatch(d.name, kind === 'list' ? 'broadcast' : 'list', mode);
  }

  private modeMismatch(name: string, was: string, now: string): StateError {
    return new StateError('STATE_KIND_MISMATCH', `operator state "${name}" is registered as ${was} state and cannot be reused as ${now} state`, {
      component: 'operator-state',
      operator: this.operatorName,
      state: name,
    });
  }

  private restoredContent(name: string, mode: OperatorStateMode): unknown[] {
    const r = this.restored.get(name);
    if (!r) return [];
    if (r.mode !== mode) throw this.modeMismatch(name, r.mode, mode);
    const content = deserializeValue(r.bytes);
    if (!Array.isArray(content)) {
      throw new SnapshotError('SNAPSHOT_CORRUPT', 'restored operator state is not a list', {
        component: 'operator-state',
        operator: this.operatorName,
        state: name,
      });
    }
    return content;
  }

  private valueChecker(state: string): (v: unknown) => void {
    return (v) => {
      const problem = v === undefined ? 'value is undefined' : unserializableProblem(v);
      if (problem !== undefined) throw new StateError('UNSERIALIZABLE_VALUE', problem, { component: 'operator-state', operator: this.operatorName, state });
    };
  }

  private keyChecker(state: string): (k: unknown) => void {
    return (k) => {
      const problem = keyProblem(k);
      if (problem !== undefined)
        throw new StateError('INVALID_KEY', `invalid broadcast state key: ${problem}`, { component: 'operator-state', operator: this.operatorName, state });
    };
  }
}

/**
 * Redistributes the operator state of `old.length` subtasks onto `parallelism` subtasks:
 * split lists are concatenated in subtask order and cut into contiguous, even parts;
 * union lists go whole to everyone; broadcast state is subtask 0's copy for everyone.
 */
export function redistributeOperatorState(old: ReadonlyArray<OperatorStateSnapshot | undefined>, parallelism: number): OperatorStateSnapshot[] {
  const modes = new Map<string, OperatorStateMode>();
  const parts = new Map<string, unknown[][]>();
  for (const snap of old) {
    for (const s of snap?.states ?? []) {
      modes.set(s.name, s.mode);
      const content = deserializeValue(s.bytes) as unknown[];
      (parts.get(s.name) ?? parts.set(s.name, []).get(s.name)!).push(content);
    }
  }
  const result: Array<{ name: string; mode: OperatorStateMode; bytes: Uint8Array }[]> = Array.from({ length: parallelism }, () => []);
  for (const [name, mode] of modes) {
    const all = parts.get(name)!;
    if (mode === 'broadcast') {
      const bytes = serializeValue(all[0]);
      for (const r of result) r.push({ name, mode, bytes });
    } else if (mode === 'union') {
      const bytes = serializeValue(all.flat());
      for (const r of result) r.push({ name, mode, bytes });
    } else {
      const flat = all.flat();
      for (let i = 0; i < parallelism; i++) {
        const from = Math.floor((flat.length * i) / parallelism);
        const to = Math.floor((flat.length * (i + 1)) / parallelism);
        result[i].push({ name, mode, bytes: serializeValue(flat.slice(from, to)) });
      }
    }
  }
  return result.map((states) => ({ states }));
}
