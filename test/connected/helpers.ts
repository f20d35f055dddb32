/** Shared pieces of the two-input tests: timestamped test sources and a tolerant run. */
import { WatermarkStrategy, type DataStream, type StreamExecutionEnvironment } from '../../src/index.ts';
import { pacedSource } from '../helpers/sources.ts';
import { readKeyGroup, type KeyedStateSnapshot } from '../../src/format/snapshot-format.ts';
import type { KeyedStateBackend, StateBackend } from '../../src/state/backend.ts';

/** A timestamped record of the two-input tests. */
export type Rec = { key: string; ts: number; v: number; seq: number };

/**
 * `recs` from one source subtask, `perPoll` per poll, with timestamps `ts` and the
 * watermark of forMonotonousTimestamps, or of forBoundedOutOfOrderness(bound) when given.
 */
export function recSource(env: StreamExecutionEnvironment, name: string, recs: readonly Rec[], perPoll = 1, bound?: number): DataStream<Rec> {
  const strategy = bound === undefined ? WatermarkStrategy.forMonotonousTimestamps<Rec>() : WatermarkStrategy.forBoundedOutOfOrderness<Rec>(bound);
  return env
    .fromSource(
      pacedSource(recs.length, (i) => recs[i], perPoll),
      strategy.withTimestampAssigner((r) => r.ts),
      name,
    )
    .setParallelism(1)
    .uid(name);
}

/** Runs `body` with console.warn silenced (restarts warn about non-replayable sources and failures). */
export async function quietly<T>(body: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = () => {};
  try {
    return await body();
  } finally {
    console.warn = warn;
  }
}

/**
 * Counts, at every snapshot a keyed backend takes (checkpoints, and the one at close), the
 * buffered elements per operator and state: map entries times their list lengths (the
 * interval join's buffers), list elements, or 1 per value.
 */
export class StateSizeProbe {
  /** The largest count seen per `operator/state` while the job ran (checkpoints). */
  readonly max = new Map<string, number>();
  /** The count per `operator/state` when each backend was closed (after the final watermark). */
  readonly atClose = new Map<string, number>();
  wrap(inner: StateBackend): StateBackend {
    const record = (into: Map<string, number>, counts: Map<string, number>) => {
      for (const [k, n] of counts) into.set(k, Math.max(into.get(k) ?? 0, n));
    };
    return {
      name: inner.name,
      createKeyedStateBackend: async (options) => {
        const backend: KeyedStateBackend = await inner.createKeyedStateBackend(options);
        const operator = options.operatorName.replace(/ \(\d+\/\d+\)$/, '');
        const count = (snap: KeyedStateSnapshot): Map<string, number> => {
          const counts = new Map<string, number>();
          for (const bytes of snap.keyGroups.values()) {
            for (const e of readKeyGroup(bytes, snap.states)) {
              const n = e.shape === 'map' ? e.entries.reduce((s, [, v]) => s + (Array.isArray(v) ? v.length : 1), 0) : e.shape === 'list' ? e.values.length : 1;
              const k = `${operator}/${snap.states[e.stateIndex].name}`;
              counts.set(k, (counts.get(k) ?? 0) + n);
            }
          }
          return counts;
        };
        const snapshot = backend.snapshot.bind(backend);
        backend.snapshot = async (opts) => {
          const snap = await snapshot(opts);
          record(this.max, count(snap));
          return snap;
        };
        const dispose = backend.dispose.bind(backend);
        backend.dispose = async () => {
          const counts = count(await snapshot());
          for (const [k, n] of counts) this.atClose.set(k, (this.atClose.get(k) ?? 0) + n);
          await dispose();
        };
        return backend;
      },
    };
  }
}
