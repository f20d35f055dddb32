/** Shared pieces of the window tests: sources, backends, and a backend probe for leftover state. */
import { readKeyGroup } from '../../src/format/snapshot-format.ts';
import type { KeyedStateBackend, StateBackend } from '../../src/state/backend.ts';
import { HashMapStateBackend, TwoPhaseCommitSink, WatermarkStrategy, type DataStream, type StreamExecutionEnvironment } from '../../src/index.ts';
import { SqliteStateBackend } from '../../src/backends/sqlite/index.ts';
import { IndexedDbStateBackend } from '../../src/backends/indexeddb/index.ts';
import { IDBKeyRange as FakeKeyRange, IDBFactory as FakeFactory } from 'fake-indexeddb';
import { pacedSource } from '../helpers/sources.ts';
import { watermarks, type Ev } from './model.ts';

export const BACKENDS: Record<string, () => StateBackend> = {
  heap: () => new HashMapStateBackend(),
  sqlite: () => new SqliteStateBackend({ vfs: 'memory' }),
  /** IndexedDB on fake-indexeddb: a private factory per backend, so no other test sees its databases. */
  indexeddb: () => new IndexedDbStateBackend({ indexedDB: new FakeFactory(), IDBKeyRange: FakeKeyRange }),
};

/**
 * The events one per poll from a single source subtask, so that the watermark
 * (forBoundedOutOfOrderness(bound)) advances after every event, as in the model.
 */
export function eventSource(env: StreamExecutionEnvironment, evs: readonly Ev[], bound: number, replayableWatermarks = false): DataStream<Ev> {
  const strategy = replayableWatermarks ? replayedWatermarks(evs, bound) : WatermarkStrategy.forBoundedOutOfOrderness<Ev>(bound);
  return env
    .fromSource(
      pacedSource(evs.length, (i) => evs[i], 1),
      strategy.withTimestampAssigner((e) => e.ts),
      'events',
    )
    .setParallelism(1)
    .uid('events');
}

/**
 * forBoundedOutOfOrderness(bound) whose watermark after each record is that of the whole
 * stream so far, also after a restore: the generator's own state is not checkpointed
 * (as in Flink), so a restored forBoundedOutOfOrderness generator would start lower.
 */
function replayedWatermarks(evs: readonly Ev[], bound: number): WatermarkStrategy<Ev> {
  const wms = watermarks(evs, bound);
  return WatermarkStrategy.forGenerator<Ev>(() => {
    let next: number | undefined;
    return {
      onEvent: (e) => void (next = wms[e.seq]),
      onPeriodicEmit: (out) => {
        if (next !== undefined) out.emitWatermark(next);
      },
    };
  });
}

/** Every state entry (state name, namespace) a keyed backend still holds when its operator closes. */
export class LeftoverProbe {
  readonly leftovers: Array<{ operator: string; state: string; namespace: string; shape?: string }> = [];
  /** `detail`: also record each entry's storage shape (value, list, map). */
  constructor(private readonly detail = false) {}
  wrap(inner: StateBackend): StateBackend {
    const leftovers = this.leftovers;
    const detail = this.detail;
    return {
      name: inner.name,
      async createKeyedStateBackend(options) {
        const backend: KeyedStateBackend = await inner.createKeyedStateBackend(options);
        const dispose = backend.dispose.bind(backend);
        backend.dispose = async () => {
          const snap = await backend.snapshot();
          for (const bytes of snap.keyGroups.values()) {
            for (const e of readKeyGroup(bytes, snap.states))
              leftovers.push({
                operator: options.operatorName,
                state: snap.states[e.stateIndex].name,
                namespace: e.namespace,
                ...(detail ? { shape: e.shape } : {}),
              });
          }
          await dispose();
        };
        return backend;
      },
    };
  }
}

/** Commits into the test's list through a closure (arrays in a function's fields are copied per subtask). */
export class CommittingSink extends TwoPhaseCommitSink<string, { records: string[] }> {
  constructor(private readonly onCommit: (records: string[]) => void) {
    super();
  }
  beginTransaction() {
    return { records: [] as string[] };
  }
  invoke(txn: { records: string[] }, v: string) {
    txn.records.push(v);
  }
  preCommit() {}
  commit(txn: { records: string[] }) {
    this.onCommit(txn.records);
  }
  abort() {}
}
