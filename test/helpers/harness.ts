/**
 * Drives one operator subtask directly (like Flink's operator test harnesses): feeds
 * batches and watermarks, collects output, takes snapshots and restores from them.
 */
import { ManualClock, type Clock } from '../../src/api/clock.ts';
import { HashMapStateBackend } from '../../src/backends/memory.ts';
import { keyGroupForKey, keyGroupRangeForSubtask } from '../../src/format/key-groups.ts';
import type { Key } from '../../src/format/key-bytes.ts';
import { OutputBuffer, type OperatorRestore, type OperatorSnapshot, type StreamOperator } from '../../src/engine/operators/operator.ts';
import type { StateBackend } from '../../src/state/backend.ts';

export interface HarnessOptions {
  keyed?: boolean;
  parallelism?: number;
  subtaskIndex?: number;
  maxParallelism?: number;
  clock?: Clock;
  stateBackend?: StateBackend;
  /** The task's mailbox as the operator sees it (default: never any mail). */
  mailbox?: { hasMail(): boolean; runMail(): Promise<void> };
}

export class OperatorHarness {
  readonly out = new OutputBuffer();
  private constructor(
    readonly op: StreamOperator,
    readonly options: Required<HarnessOptions>,
  ) {}

  static async open(op: StreamOperator, options: HarnessOptions = {}, restore?: OperatorRestore): Promise<OperatorHarness> {
    const o: Required<HarnessOptions> = {
      keyed: true,
      parallelism: 1,
      subtaskIndex: 0,
      maxParallelism: 128,
      clock: new ManualClock(0),
      stateBackend: new HashMapStateBackend(),
      mailbox: { hasMail: () => false, runMail: async () => {} },
      ...options,
    };
    const h = new OperatorHarness(op, o);
    const name = `Harness (${o.subtaskIndex + 1}/${o.parallelism})`;
    await op.initializeState(
      {
        jobName: 'harness',
        jobId: 'harness-job',
        operatorId: 'op',
        name: 'Harness',
        displayName: name,
        subtaskIndex: o.subtaskIndex,
        parallelism: o.parallelism,
        maxParallelism: o.maxParallelism,
        autoWatermarkInterval: 0,
        keyGroupRange: keyGroupRangeForSubtask(o.maxParallelism, o.parallelism, o.subtaskIndex),
        keyed: o.keyed,
        clock: o.clock,
        stateBackend: o.stateBackend,
        scheduleProcessingTime: () => {},
        hasMail: () => o.mailbox.hasMail(),
        runMail: () => o.mailbox.runMail(),
      },
      restore,
    );
    await op.open();
    return h;
  }

  /** Processes records (keyed by `keyOf` when the operator is keyed) and returns what was emitted. */
  async process<T>(values: T[], keyOf?: (v: T) => Key, timestamps?: number[]): Promise<unknown[]> {
    const keys = keyOf ? values.map(keyOf) : undefined;
    await this.op.processBatch({ values, timestamps, keys, keyGroups: keys?.map((k) => keyGroupForKey(k, this.options.maxParallelism)) }, this.out);
    return this.out.take().values;
  }

  async watermark(wm: number): Promise<unknown[]> {
    await this.op.processWatermark(wm, this.out);
    this.out.takeWatermark();
    return this.out.take().values;
  }

  async snapshot(checkpointId = 1): Promise<OperatorSnapshot> {
    return (await this.op.snapshotState(checkpointId, 0)).snapshot;
  }

  close(): Promise<void> {
    return this.op.close();
  }
}

/** The restore of one subtask from the snapshots of every old subtask (keyed state by key-group range). */
export function restoreFrom(snapshots: OperatorSnapshot[], operatorState?: OperatorRestore['operatorState']): OperatorRestore {
  return {
    keyed: snapshots.flatMap((s) => (s.keyed ? [s.keyed] : [])),
    timers: snapshots.flatMap((s) => (s.timers ? [s.timers] : [])),
    operatorState,
  };
}
