/** Shared pieces of the window tests: sources, backends, and a backend probe for leftover state. */
import { readKeyGroup } from '../../src/format/snapshot-format.ts';
import type { KeyedStateBackend, StateBackend } from '../../src/state/backend.ts';
import { HashMapStateBackend, WatermarkStrategy, type DataStream, type StreamExecutionEnvironment } from '../../src/index.ts';
import { SqliteStateBackend } from '../../src/backends/sqlite/index.ts';
import { pacedSource } from '../helpers/sources.ts';
import type { Ev } from './model.ts';

export const BACKENDS: Record<string, () => StateBackend> = {
  heap: () => new HashMapStateBackend(),
  sqlite: () => new SqliteStateBackend({ vfs: 'memory' }),
};

/**
 * The events one per poll from a single source subtask, so that the watermark
 * (forBoundedOutOfOrderness(bound)) advances after every event, as in the model.
 */
export function eventSource(env: StreamExecutionEnvironment, evs: readonly Ev[], bound: number): DataStream<Ev> {
  return env
    .fromSource(pacedSource(evs.length, (i) => evs[i], 1), WatermarkStrategy.forBoundedOutOfOrderness<Ev>(bound).withTimestampAssigner((e) => e.ts), 'events')
    .setParallelism(1)
    .uid('events');
}

/** Every state entry (state name, namespace) a keyed backend still holds when its operator closes. */
export class LeftoverProbe {
  readonly leftovers: Array<{ operator: string; state: string; namespace: string }> = [];
  wrap(inner: StateBackend): StateBackend {
    const leftovers = this.leftovers;
    return {
      name: inner.name,
      async createKeyedStateBackend(options) {
        const backend: KeyedStateBackend = await inner.createKeyedStateBackend(options);
        const dispose = backend.dispose.bind(backend);
        backend.dispose = async () => {
          const snap = await backend.snapshot();
          for (const bytes of snap.keyGroups.values()) {
            for (const e of readKeyGroup(bytes, snap.states)) leftovers.push({ operator: options.operatorName, state: snap.states[e.stateIndex].name, namespace: e.namespace });
          }
          await dispose();
        };
        return backend;
      },
    };
  }
}
