/**
 * What the TTL suite's behaviour files share: the five state kinds seen through one lens
 * (write a number, read what the user sees), TTL configurations, and the suite's view of
 * the backend under test.
 */
import type { ManualClock } from '../../../src/api/clock.ts';
import {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  ValueStateDescriptor,
  type StateKind,
} from '../../../src/api/descriptors.ts';
import { StateTtlConfig, type StateTtlConfigBuilder } from '../../../src/api/ttl.ts';
import type { StateBackend } from '../../../src/state/backend.ts';
import type { KeyedStateStore } from '../../../src/state/keyed-state-store.ts';
import { readKeyGroup, type KeyedStateSnapshot } from '../../../src/format/snapshot-format.ts';
import type { Subtask } from '../harness.ts';

/** The time-to-live of every case, in ms. */
export const TTL = 100;

/** One state with TTL, seen through a uniform lens: write a number, read what the user sees. */
export interface Handle {
  write(x: number): Promise<void>;
  /** The visible value; an empty list reads as undefined. */
  read(): Promise<unknown>;
  clear(): Promise<void>;
  readonly state: object;
}

/** A state kind as the TTL cases drive it. */
export interface Kind {
  readonly kind: StateKind;
  register(store: KeyedStateStore, name: string, ttl?: StateTtlConfig): Handle;
  /** What one written `x` reads as. */
  one(x: number): unknown;
  /** What `write(5)` onto an expired-but-returned `1` reads as (ReturnExpiredIfNotCleanedUp). */
  ontoExpired: unknown;
}

const withTtl = <D extends { enableTimeToLive(c: StateTtlConfig): D }>(d: D, ttl?: StateTtlConfig): D => (ttl ? d.enableTimeToLive(ttl) : d);
const sumAgg = {
  createAccumulator: () => ({ sum: 0 }),
  add: (v: number, acc: { sum: number }) => ({ sum: acc.sum + v }),
  getResult: (acc: { sum: number }) => acc.sum,
};

/** The five state kinds. */
export const KINDS: readonly Kind[] = [
  {
    kind: 'value',
    register: (store, name, ttl) => {
      const s = store.getState(withTtl(new ValueStateDescriptor<number>(name), ttl));
      return { state: s, write: (x) => s.update(x), read: () => s.value(), clear: () => s.clear() };
    },
    one: (x) => x,
    ontoExpired: 5,
  },
  {
    kind: 'list',
    register: (store, name, ttl) => {
      const s = store.getListState(withTtl(new ListStateDescriptor<number>(name), ttl));
      return { state: s, write: (x) => s.add(x), read: async () => ((await s.get()).length === 0 ? undefined : s.get()), clear: () => s.clear() };
    },
    one: (x) => [x],
    ontoExpired: [1, 5],
  },
  {
    kind: 'map',
    register: (store, name, ttl) => {
      const s = store.getMapState(withTtl(new MapStateDescriptor<string, number>(name), ttl));
      return { state: s, write: (x) => s.put('u', x), read: () => s.get('u'), clear: () => s.clear() };
    },
    one: (x) => x,
    ontoExpired: 5,
  },
  {
    kind: 'reducing',
    register: (store, name, ttl) => {
      const s = store.getReducingState(withTtl(new ReducingStateDescriptor<number>(name, (a, b) => a + b), ttl));
      return { state: s, write: (x) => s.add(x), read: () => s.get(), clear: () => s.clear() };
    },
    one: (x) => x,
    ontoExpired: 6,
  },
  {
    kind: 'aggregating',
    register: (store, name, ttl) => {
      const s = store.getAggregatingState(withTtl(new AggregatingStateDescriptor(name, sumAgg), ttl));
      return { state: s, write: (x) => s.add(x), read: () => s.get(), clear: () => s.clear() };
    },
    one: (x) => x,
    ontoExpired: 6,
  },
];

/** A TTL configuration builder with the suite's TTL. */
export const builder = (): StateTtlConfigBuilder => StateTtlConfig.newBuilder(TTL);
/** TTL without any cleanup: what reads see comes from the read path alone. */
export const bare = (b: StateTtlConfigBuilder = builder()) => b.disableCleanupInBackground().build();

/** (state, key) pairs in a snapshot, with their payloads. */
export function entriesOf(snapshot: KeyedStateSnapshot): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const bytes of snapshot.keyGroups.values()) {
    for (const e of readKeyGroup(bytes, snapshot.states)) {
      const payload = e.shape === 'value' ? e.value : e.shape === 'list' ? e.values : e.entries;
      out.set(`${snapshot.states[e.stateIndex]!.name}/${String(e.key)}`, payload);
    }
  }
  return out;
}

/** A keyed backend of the TTL suite: a subtask whose store runs on a ManualClock. */
export interface TtlSubtask extends Subtask {
  /** Keys with state, after the backend had its chance to clean up natively. */
  count(state: string, namespace?: string): Promise<number>;
}

/** What every behaviour file of the TTL suite is given. */
export interface TtlSuite {
  /** The backend made for the running test. */
  readonly backend: StateBackend;
  /** The running test's job id. */
  readonly jobId: string;
  /** Grows with every test: distinguishes job names between tests. */
  readonly testSeq: number;
  /** A fresh operator's keyed backend (of `backend`, or the one under test) whose store reads time from `clock`. */
  open(clock: ManualClock, backend?: StateBackend): Promise<TtlSubtask>;
  /** {@link open}, then a restore of `snapshot`. */
  restored(snapshot: KeyedStateSnapshot, clock: ManualClock, backend?: StateBackend): Promise<TtlSubtask>;
}

/**
 * Why incremental-cleanup cases are skipped on a backend without a cleanup cursor
 * (IndexedDB cleans up natively on `flush()` instead).
 */
export const NO_CURSOR = 'this backend has no incremental-cleanup cursor (KeyedStateBackend.pruneEntries): incremental cleanup does nothing on it';
