/**
 * A `StateBackend` in the page whose keyed backends live in a dedicated worker
 * (`sqlite.worker.ts`, SqliteStateBackend on opfs-sahpool): every table call is a message
 * carrying the current key, answered by the real backend in the worker. That lets the
 * conformance suite, which runs in the page under vitest, drive the worker's backend.
 *
 * What the proxy decides itself, because the contract wants it synchronously: the key
 * group range check of `setCurrentKey`, the kind check of the table getters, and the
 * `states()` list (mirrored from registrations and restores). Everything else (storage,
 * snapshots, restore, keys, errors of the backend) is the worker's answer.
 */
import { EddyError, StateBackendError, StateError, SnapshotError, InvalidKeyError } from '../../src/api/errors.ts';
import type { StateKind } from '../../src/api/descriptors.ts';
import type { Key } from '../../src/format/key-bytes.ts';
import type { KeyGroupRange } from '../../src/format/key-groups.ts';
import type {
  KeyedSnapshotOptions,
  KeyedStateBackend,
  KeyedStateBackendOptions,
  ListTable,
  MapTable,
  StateBackend,
  StateTableOptions,
  ValueTable,
} from '../../src/state/backend.ts';
import type { KeyedStateSnapshot, StateMetaInfo } from '../../src/format/snapshot-format.ts';

const classes: Record<string, typeof EddyError> = {
  StateBackendError,
  StateError,
  SnapshotError,
  InvalidKeyError: InvalidKeyError as unknown as typeof EddyError,
};

/** A worker and its request/response bookkeeping. */
export class WorkerRpc {
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  constructor(readonly worker: Worker) {
    worker.onmessage = (event: MessageEvent) => {
      const { id, ok, value, error } = event.data;
      const p = this.pending.get(id)!;
      this.pending.delete(id);
      if (ok) p.resolve(value);
      else p.reject(rebuild(error));
    };
  }

  /** Sends a request; resolves with the worker's answer. Requests are handled in the order they are sent. */
  call<T>(op: string, ...args: unknown[]): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, op, args });
    });
  }
}

/** An error from the worker as the same class (EddyError family), code, context and message. */
function rebuild(error: { eddy: boolean; name: string; code?: string; message: string; context?: object; stack?: string }): Error {
  if (!error.eddy) {
    const e = new Error(error.message);
    e.name = error.name;
    return e;
  }
  const e = new EddyError(error.code as never, '', error.context);
  Object.setPrototypeOf(e, (classes[error.name] ?? EddyError).prototype);
  e.message = error.message;
  e.name = error.name;
  return e;
}

let handles = 0;

/** The page-side StateBackend; see the module comment. */
export class WorkerSqliteBackend implements StateBackend {
  readonly name = 'sqlite';
  constructor(private readonly rpc: WorkerRpc) {}

  async createKeyedStateBackend(o: KeyedStateBackendOptions): Promise<KeyedStateBackend> {
    const handle = ++handles;
    const { keyGroupRange, ...rest } = o;
    await this.rpc.call('kb.create', handle, { ...rest, range: [keyGroupRange.start, keyGroupRange.end] });
    return new ProxyKeyed(this.rpc, handle, o);
  }
}

class ProxyKeyed implements KeyedStateBackend {
  readonly name = 'sqlite';
  readonly keyGroupRange: KeyGroupRange;
  readonly maxParallelism: number;
  private key: Key | undefined;
  private kg = -1;
  private readonly registered = new Map<string, StateMetaInfo>();

  constructor(
    private readonly rpc: WorkerRpc,
    private readonly handle: number,
    private readonly o: KeyedStateBackendOptions,
  ) {
    this.keyGroupRange = o.keyGroupRange;
    this.maxParallelism = o.maxParallelism;
  }

  setCurrentKey(key: Key, keyGroup: number): void {
    if (!this.keyGroupRange.contains(keyGroup))
      throw new StateBackendError('BACKEND_FAILURE', `key group ${keyGroup} is outside this subtask's range (checked by the page-side proxy)`, {
        component: 'backend:sqlite',
        operator: this.o.operatorName,
      });
    this.key = key;
    this.kg = keyGroup;
  }
  clearCurrentKey(): void {
    this.key = undefined;
    this.kg = -1;
  }
  getCurrentKey(): Key | undefined {
    return this.key;
  }

  private register(name: string, kind: StateKind, options?: StateTableOptions): void {
    const known = this.registered.get(name);
    if (known !== undefined && known.kind !== kind) {
      throw new StateError('STATE_KIND_MISMATCH', `state "${name}" is already registered as ${known.kind} state and cannot be used as ${kind} state`, {
        component: 'backend:sqlite',
        operator: this.o.operatorName,
        state: name,
      });
    }
    const ttl = options?.ttl ?? known?.ttl;
    this.registered.set(name, ttl === undefined ? { name, kind } : { name, kind, ttl });
    // The worker registers the table too (messages are handled in order, so a later snapshot lists it).
    void this.rpc.call('kb.register', this.handle, name, kind, options?.ttl).catch(() => {});
  }

  valueTable<T>(name: string, kind: 'value' | 'reducing' | 'aggregating', options?: StateTableOptions): ValueTable<T> {
    this.register(name, kind, options);
    const call = (method: string, ...args: unknown[]) => this.rpc.call<never>('kb.value', this.handle, this.key, this.kg, name, kind, method, args);
    return { get: (ns) => call('get', ns), put: (ns, v) => call('put', ns, v), remove: (ns) => call('remove', ns) };
  }

  listTable<T>(name: string, options?: StateTableOptions): ListTable<T> {
    this.register(name, 'list', options);
    const call = (method: string, ...args: unknown[]) => this.rpc.call<never>('kb.list', this.handle, this.key, this.kg, name, method, args);
    return {
      get: (ns) => call('get', ns),
      add: (ns, v) => call('add', ns, v),
      addAll: (ns, vs) => call('addAll', ns, vs),
      update: (ns, vs) => call('update', ns, vs),
      remove: (ns) => call('remove', ns),
    };
  }

  mapTable<V>(name: string, options?: StateTableOptions): MapTable<V> {
    this.register(name, 'map', options);
    const call = (method: string, ...args: unknown[]) => this.rpc.call<never>('kb.map', this.handle, this.key, this.kg, name, method, args);
    const rpc = this.rpc;
    const { handle } = this;
    const [key, kg] = [() => this.key, () => this.kg];
    return {
      get: (ns, uk) => call('get', ns, uk),
      put: (ns, uk, v) => call('put', ns, uk, v),
      putAll: (ns, entries) => call('putAll', ns, entries),
      delete: (ns, uk) => call('delete', ns, uk),
      contains: (ns, uk) => call('contains', ns, uk),
      isEmpty: (ns) => call('isEmpty', ns),
      entries: (ns) => {
        // The key is captured now, as the backend does; the entries arrive in one message.
        const pending = rpc.call<Array<[Key, V]>>('kb.map', handle, key(), kg(), name, 'entries', [ns]);
        return (async function* () {
          yield* await pending;
        })();
      },
      remove: (ns) => call('remove', ns),
    };
  }

  states(): StateMetaInfo[] {
    return [...this.registered.values()];
  }

  snapshot(options?: KeyedSnapshotOptions): Promise<KeyedStateSnapshot> {
    return this.rpc.call('kb.snapshot', this.handle, options);
  }

  notifyCheckpointComplete(checkpointId: number): void {
    void this.rpc.call('kb.notify', this.handle, checkpointId);
  }

  async restore(snapshots: readonly KeyedStateSnapshot[]): Promise<void> {
    const states = await this.rpc.call<StateMetaInfo[]>('kb.restore', this.handle, snapshots);
    for (const s of states) if (!this.registered.has(s.name)) this.registered.set(s.name, s);
  }

  async *keys(stateName: string, namespace: string): AsyncIterable<Key> {
    yield* await this.rpc.call<Key[]>('kb.keys', this.handle, stateName, namespace);
  }

  prefetch(keys: readonly Key[], keyGroups: ArrayLike<number>): Promise<void> {
    return this.rpc.call('kb.prefetch', this.handle, keys, Array.from(keyGroups));
  }

  flush(): Promise<void> {
    return this.rpc.call('kb.flush', this.handle);
  }

  dispose(): Promise<void> {
    return this.rpc.call('kb.dispose', this.handle);
  }
}
