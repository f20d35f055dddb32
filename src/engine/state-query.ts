/**
 * Reading one key's state in a running job (`JobClient.queryState`). Flink deprecated its
 * queryable state (a client, a proxy, and only states marked queryable); here every state
 * of a keyed operator is readable, by the operator's uid and the key. The query goes to
 * the subtask that owns the key's key group, runs there between two records (as mail, so
 * it sees a consistent state), reads without touching anything (no TTL refresh, no
 * cleanup), and leaves out values whose TTL expired (Flink's `NeverReturnExpired`). State
 * under other namespaces than the void one (a window operator's per-window state) is
 * found through the key's pending timers: the backends have no index of namespaces by key.
 */
import { EddyError, InvalidKeyError } from '../api/errors.ts';
import { keyProblem, type Key } from '../format/key-bytes.ts';
import { keyGroupForKey, subtaskForKeyGroup } from '../format/key-groups.ts';
import { VOID_NAMESPACE, type KeyedStateBackend } from '../state/backend.ts';
import type { TtlValue } from '../state/ttl-context.ts';
import { operatorIdOf, type GraphNode, type JobGraph } from './graph.ts';
import type { QueryableState } from './operators/operator.ts';

/** One state of a key, as a query returns it. */
export interface KeyStateEntry {
  readonly kind: 'value' | 'list' | 'map' | 'reducing' | 'aggregating';
  /** The value; a list's elements; a map's entries as `[userKey, value]` pairs. */
  readonly value: unknown;
  /** With TTL: ms until the value expires (list and map: until their last element does). */
  readonly ttlRemainingMs?: number;
}

/** Everything one key holds in one keyed operator. */
export interface KeyStateView {
  readonly key: unknown;
  readonly keyGroup: number;
  /** The subtask that owns the key's key group. */
  readonly subtaskIndex: number;
  /** The worker hosting that subtask (WorkerExecutor only). */
  readonly worker?: number;
  /** By state name: every state the operator registered (or restored) that holds something for the key. */
  readonly states: Record<string, KeyStateEntry>;
  /** The key's pending timers, ascending (window timers included). */
  readonly timers: { readonly eventTime: number[]; readonly processingTime: number[] };
  /**
   * State under namespaces other than the void one, by namespace, then by state name:
   * a window operator keeps each window's contents (and its trigger's and
   * `windowState()`'s state) under the window's namespace, `start,end` for a `TimeWindow`
   * (end exclusive). Found through the key's pending timers, so it holds the windows in
   * flight (each has a timer until it is purged); the contents of a merging (session)
   * window live under a state window that no timer names, and are not found. Absent when
   * there is none.
   */
  readonly namespaces?: Record<string, Record<string, KeyStateEntry>>;
}

/** Where a query goes. */
export interface QueryRoute {
  readonly node: GraphNode;
  readonly key: Key;
  readonly keyGroup: number;
  readonly subtaskIndex: number;
}

const component = 'state-query';

/**
 * Checks a query and finds the subtask that owns the key: throws INVALID_ARGUMENT for an
 * unknown uid or an operator that is not keyed, INVALID_KEY for a key `keyBy` would refuse.
 */
export function routeQuery(graph: JobGraph, parallelismOf: (node: GraphNode) => number, operatorUid: string, key: unknown): QueryRoute {
  const node = graph.nodes.find((n) => operatorIdOf(n) === operatorUid);
  if (node === undefined) {
    const known = graph.nodes.filter((n) => n.uid !== undefined).map((n) => `"${n.uid}"`);
    throw new EddyError(
      'INVALID_ARGUMENT',
      `queryState: no operator has uid "${operatorUid}" (operators with a uid: ${known.join(', ') || 'none; give one with .uid()'})`,
      { component },
    );
  }
  if (!node.keyed) {
    throw new EddyError(
      'INVALID_ARGUMENT',
      `queryState: operator "${operatorUid}" (${node.name}) is not keyed: only operators after keyBy() have keyed state`,
      {
        component,
        operator: node.name,
      },
    );
  }
  const problem = keyProblem(key);
  if (problem !== undefined) throw new InvalidKeyError(`queryState: invalid key for operator "${operatorUid}": ${problem}`, { component, operator: node.name });
  const keyGroup = keyGroupForKey(key as Key, graph.maxParallelism);
  return { node, key: key as Key, keyGroup, subtaskIndex: subtaskForKeyGroup(graph.maxParallelism, parallelismOf(node), keyGroup) };
}

/** The error of a query to a job that does not run (any more). */
export function notRunning(status: string): EddyError {
  return new EddyError('JOB_NOT_RUNNING', `queryState: the job is ${status}, not RUNNING: state can only be read from a running job`, { component });
}

/**
 * Reads every state of `key` in one subtask; undefined when it holds nothing and has no
 * timer. Must run between records (the caller queues it as the task's mail).
 */
export async function readKeyState(target: QueryableState, route: QueryRoute, worker: number | undefined): Promise<KeyStateView | undefined> {
  const { backend, timers } = target;
  const now = target.now();
  /** Every state of the current key that holds something in `namespace`. */
  const statesIn = async (namespace: string): Promise<Record<string, KeyStateEntry>> => {
    const states: Record<string, KeyStateEntry> = {};
    for (const meta of backend.states()) {
      // The registered TTL (a restored state learns it again when its descriptor is used).
      const entry = await readState(backend, meta.name, meta.kind, meta.ttl?.ttlMs, now, namespace);
      if (entry !== undefined) states[meta.name] = entry;
    }
    return states;
  };
  let states: Record<string, KeyStateEntry>;
  const namespaces: Record<string, Record<string, KeyStateEntry>> = {};
  backend.setCurrentKey(route.key, route.keyGroup);
  try {
    states = await statesIn(VOID_NAMESPACE);
    for (const namespace of timers.namespacesOf?.(route.key) ?? []) {
      const held = await statesIn(namespace);
      if (Object.keys(held).length > 0) namespaces[namespace] = held;
    }
  } finally {
    backend.clearCurrentKey();
  }
  const pending = timers.timersOf(route.key, route.keyGroup);
  if (Object.keys(states).length === 0 && pending.eventTime.length === 0 && pending.processingTime.length === 0) return undefined;
  return {
    key: route.key,
    keyGroup: route.keyGroup,
    subtaskIndex: route.subtaskIndex,
    ...(worker !== undefined ? { worker } : {}),
    states,
    timers: pending,
    ...(Object.keys(namespaces).length > 0 ? { namespaces } : {}),
  };
}

/** One state of the current key; values of a state with TTL are `[value, lastAccess]` pairs, expired ones left out. */
async function readState(
  backend: KeyedStateBackend,
  name: string,
  kind: KeyStateEntry['kind'],
  ttlMs: number | undefined,
  now: number,
  namespace: string,
): Promise<KeyStateEntry | undefined> {
  let latest = -Infinity;
  /** The user value of a stored element, or `skip` when it expired. */
  const open = (stored: unknown): unknown => {
    if (ttlMs === undefined) return stored;
    const [value, lastAccess] = stored as TtlValue<unknown>;
    if (lastAccess + ttlMs <= now) return skip;
    if (lastAccess > latest) latest = lastAccess;
    return value;
  };
  let value: unknown;
  if (kind === 'list') {
    const list = (await backend.listTable<unknown>(name).get(namespace)) ?? [];
    const values = list.map(open).filter((v) => v !== skip);
    if (values.length === 0) return undefined;
    value = values;
  } else if (kind === 'map') {
    const entries: Array<[unknown, unknown]> = [];
    for await (const [k, stored] of backend.mapTable<unknown>(name).entries(namespace)) {
      const v = open(stored);
      if (v !== skip) entries.push([k, v]);
    }
    if (entries.length === 0) return undefined;
    value = entries;
  } else {
    const stored = await backend.valueTable<unknown>(name, kind).get(namespace);
    if (stored === undefined) return undefined;
    value = open(stored);
    if (value === skip) return undefined;
  }
  return ttlMs === undefined ? { kind, value } : { kind, value, ttlRemainingMs: latest + ttlMs - now };
}

const skip = Symbol('expired');
