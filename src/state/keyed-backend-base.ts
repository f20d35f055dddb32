/**
 * What every keyed backend does the same way, written once (the role of Flink's
 * `AbstractKeyedStateBackend`): the key context with its key-group range check, the
 * registry of states with its kind check, the TTL metadata each state reports (kept
 * across a restore until the state is registered anew), the checks before a restore, and
 * the head of every snapshot. A backend extends it and only stores: it creates and
 * configures its storage of one state (`S`), opens the three table shapes over it, and
 * loads snapshots whose states are already registered.
 */
import type { StateKind } from '../api/descriptors.ts';
import { StateBackendError, StateError, type EddyErrorCode } from '../api/errors.ts';
import type { Key } from '../format/key-bytes.ts';
import type { KeyGroupRange } from '../format/key-groups.ts';
import type {
  KeyedSnapshotOptions,
  KeyedStateBackend,
  KeyedStateBackendOptions,
  ListTable,
  MapTable,
  StateTableOptions,
  StoredValues,
  ValueTable,
} from './backend.ts';
import { checkRestorable } from './restore-checks.ts';
import { KEYED_SNAPSHOT_FORMAT_VERSION, type KeyedStateSnapshot, type StateMetaInfo, type TtlMetaInfo } from '../format/snapshot-format.ts';
import { PLAIN_VALUES } from './stored-values.ts';

/** The options a backend's state is configured with: `values` always present. */
export type TableConfig = Omit<StateTableOptions, 'values'> & { readonly values: StoredValues };

/** The part of a snapshot that names its states, as captured by {@link KeyedBackendBase.captureStates}. */
export type SnapshotHead = Pick<KeyedStateSnapshot, 'formatVersion' | 'maxParallelism' | 'states'>;

interface Registration<S> {
  readonly kind: StateKind;
  readonly state: S;
  /** What `states()` reports: the registered TTL, or the restored one until registered anew. */
  ttl: TtlMetaInfo | undefined;
}

/** The shared half of every keyed backend; `S` is the backend's storage of one state. */
export abstract class KeyedBackendBase<S> implements KeyedStateBackend {
  readonly keyGroupRange: KeyGroupRange;
  readonly maxParallelism: number;
  readonly operatorName: string;
  /** `backend:<name>`, the component every error of this backend names. */
  readonly component: string;
  /** The key of the current record, or undefined outside of a keyed context. */
  protected currentKey: Key | undefined = undefined;
  private readonly registry = new Map<string, Registration<S>>();

  constructor(
    readonly name: string,
    options: KeyedStateBackendOptions,
  ) {
    this.keyGroupRange = options.keyGroupRange;
    this.maxParallelism = options.maxParallelism;
    this.operatorName = options.operatorName;
    this.component = `backend:${name}`;
  }

  // ---------------------------------------------------------------------------------
  // What a backend implements

  /** Switches the backend to a key whose key group is in range (`index` = key group - range start). */
  protected abstract enterKey(key: Key, keyGroup: number, index: number): void;
  /** The storage of a newly registered state (configured right after with {@link configureState}). */
  protected abstract createState(name: string, kind: StateKind, ttl: TtlMetaInfo | undefined): S;
  /** Gives a state its options: on creation, and whenever its table is requested with options. */
  protected abstract configureState(state: S, config: TableConfig): void;
  protected abstract openValueTable<T>(state: S): ValueTable<T>;
  protected abstract openListTable<T>(state: S): ListTable<T>;
  protected abstract openMapTable<V>(state: S): MapTable<V>;
  /**
   * Loads checked snapshots into this empty backend; `states[i][j]` is the registered
   * state of `snapshots[i].states[j]`.
   */
  protected abstract load(snapshots: readonly KeyedStateSnapshot[], states: ReadonlyArray<readonly S[]>): Promise<void>;
  /** Forgets the key context beyond the key itself (nothing by default). */
  protected leaveKey(): void {}
  /**
   * A backend that can prove its local copy already holds what `snapshots` restore may
   * adopt it instead of loading (registering its states with {@link adoptState}); true then.
   */
  protected restoreInPlace(_snapshots: readonly KeyedStateSnapshot[]): Promise<boolean> | boolean {
    return false;
  }

  abstract snapshot(options?: KeyedSnapshotOptions): Promise<KeyedStateSnapshot>;
  abstract keys(stateName: string, namespace: string): AsyncIterable<Key>;
  abstract dispose(): Promise<void>;

  // ---------------------------------------------------------------------------------
  // Key context

  setCurrentKey(key: Key, keyGroup: number): void {
    const index = keyGroup - this.keyGroupRange.start;
    // Per record: the error is built elsewhere, so that this stays small enough to inline.
    if (index < 0 || index >= this.keyGroupRange.size) throw this.outOfRange(key, keyGroup);
    this.enterKey(key, keyGroup, index);
    this.currentKey = key;
  }

  private outOfRange(key: Key, keyGroup: number): StateBackendError {
    return this.failure(
      'BACKEND_FAILURE',
      `key group ${keyGroup} of key ${String(key)} is outside this subtask's range ${this.keyGroupRange.start}..${this.keyGroupRange.end}`,
    );
  }

  clearCurrentKey(): void {
    this.currentKey = undefined;
    this.leaveKey();
  }

  getCurrentKey(): Key | undefined {
    return this.currentKey;
  }

  // ---------------------------------------------------------------------------------
  // Registry

  valueTable<T>(name: string, kind: 'value' | 'reducing' | 'aggregating', options?: StateTableOptions): ValueTable<T> {
    return this.openValueTable<T>(this.register(name, kind, options));
  }

  listTable<T>(name: string, options?: StateTableOptions): ListTable<T> {
    return this.openListTable<T>(this.register(name, 'list', options));
  }

  mapTable<V>(name: string, options?: StateTableOptions): MapTable<V> {
    return this.openMapTable<V>(this.register(name, 'map', options));
  }

  states(): StateMetaInfo[] {
    return [...this.registry].map(([name, r]) => metaOf(name, r));
  }

  /** The storage of a registered state. */
  stateOf(name: string): S | undefined {
    return this.registry.get(name)?.state;
  }

  /** The storage of every registered state, in registration order (the order of snapshots' states). */
  registeredStates(): S[] {
    return [...this.registry.values()].map((r) => r.state);
  }

  /** The states and the head of a snapshot, captured together so their order agrees. */
  protected captureStates(): { states: S[]; head: SnapshotHead } {
    const states: S[] = [];
    const metas: StateMetaInfo[] = [];
    for (const [name, r] of this.registry) {
      states.push(r.state);
      metas.push(metaOf(name, r));
    }
    return { states, head: { formatVersion: KEYED_SNAPSHOT_FORMAT_VERSION, maxParallelism: this.maxParallelism, states: metas } };
  }

  /** Registers a state the backend found in its local copy (see {@link restoreInPlace}). */
  protected adoptState(name: string, kind: StateKind, state: S, ttl: TtlMetaInfo | undefined): void {
    this.registry.set(name, { kind, state, ttl });
    this.configureState(state, { values: PLAIN_VALUES });
  }

  /** Forgets every state (on dispose). */
  protected forgetStates(): void {
    this.registry.clear();
  }

  private register(name: string, kind: StateKind, options: StateTableOptions | undefined): S {
    const known = this.registry.get(name);
    if (known !== undefined) {
      if (known.kind !== kind) {
        throw new StateError('STATE_KIND_MISMATCH', `state "${name}" is already registered as ${known.kind} state and cannot be used as ${kind} state`, {
          component: this.component,
          operator: this.operatorName,
          state: name,
        });
      }
      if (options !== undefined) {
        known.ttl = options.ttl;
        this.configureState(known.state, configOf(options));
      }
      return known.state;
    }
    const ttl = options?.ttl;
    const state = this.createState(name, kind, ttl);
    this.registry.set(name, { kind, state, ttl });
    this.configureState(state, configOf(options));
    return state;
  }

  // ---------------------------------------------------------------------------------
  // Restore and errors

  /**
   * Checks every snapshot before loading any (a refused restore leaves the backend empty),
   * registers their states (a restored state keeps saying it has TTL until it is
   * registered anew: core refuses to register it with TTL switched), then loads.
   */
  async restore(snapshots: readonly KeyedStateSnapshot[]): Promise<void> {
    for (const snapshot of snapshots) checkRestorable(snapshot, this.maxParallelism, this.component, this.operatorName);
    if (await this.restoreInPlace(snapshots)) return;
    const states = snapshots.map((snapshot) =>
      snapshot.states.map((meta) => {
        const state = this.register(meta.name, meta.kind, undefined);
        const r = this.registry.get(meta.name)!;
        if (meta.ttl !== undefined && r.ttl === undefined) r.ttl = meta.ttl;
        return state;
      }),
    );
    await this.load(snapshots, states);
  }

  /** A failure of this backend (storage full, database gone, ...), naming it and, if given, the state. */
  failure(code: EddyErrorCode, message: string, state?: string, cause?: unknown): StateBackendError {
    return new StateBackendError(code, message, { component: this.component, operator: this.operatorName, state }, cause === undefined ? undefined : { cause });
  }
}

function configOf(options: StateTableOptions | undefined): TableConfig {
  if (options === undefined) return { values: PLAIN_VALUES };
  return options.values === undefined ? { ...options, values: PLAIN_VALUES } : (options as TableConfig);
}

function metaOf(name: string, r: Registration<unknown>): StateMetaInfo {
  return r.ttl === undefined ? { name, kind: r.kind } : { name, kind: r.kind, ttl: r.ttl };
}
