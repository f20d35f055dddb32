/**
 * A StreamTask on its own: a real InputGate with two input channels, a recording fake
 * operator as the whole chain, a fake network output downstream, and fake checkpoint
 * hooks. Every element is queued before the task runs, so the order the gate hands
 * them out is fixed and each case is deterministic.
 */
import { describe, expect, it } from 'vitest';
import { MAX_WATERMARK } from '../../src/api/watermarks.ts';
import { OutputBuffer, type OperatorSnapshot, type PendingSnapshot, type RecordBatch, type StreamOperator } from '../../src/engine/operators/operator.ts';
import { InputGate, type StreamElement } from '../../src/engine/input-gate.ts';
import type { SourceOperator } from '../../src/engine/operators/source.ts';
import type { NetworkOutput } from '../../src/engine/network-output.ts';
import { StreamTask, type CheckpointHooks, type CoordinatedTask } from '../../src/engine/task.ts';
import { BackPressureMeter, SubtaskCounters } from '../../src/engine/metrics.ts';
import type { InputYield } from '../../src/engine/yield.ts';

const countersOf = (id: string) => new SubtaskCounters(id, id, undefined, 0, 1, new BackPressureMeter());

/** Forwards records and watermarks, and remembers what it saw when each snapshot was taken. */
class RecordingOperator implements StreamOperator {
  readonly seen: unknown[] = [];
  readonly watermarks: number[] = [];
  readonly snapshots: Array<{ checkpointId: number; seen: unknown[] }> = [];
  readonly events: string[] = [];
  async initializeState(): Promise<void> {}
  async open(): Promise<void> {
    this.events.push('open');
  }
  processBatch(batch: RecordBatch, out: OutputBuffer): void {
    for (const v of batch.values) {
      this.seen.push(v);
      out.collect(v);
    }
  }
  processWatermark(watermark: number, out: OutputBuffer): void {
    this.watermarks.push(watermark);
    out.emitWatermark(watermark);
  }
  processIdleness(idle: boolean, out: OutputBuffer): void {
    out.emitIdleness(idle);
  }
  onProcessingTime(): void {}
  finish(): void {
    this.events.push(`finish after ${JSON.stringify(this.seen)}`);
  }
  async close(): Promise<void> {}
  async snapshotState(checkpointId: number): Promise<PendingSnapshot> {
    this.snapshots.push({ checkpointId, seen: [...this.seen] });
    return { snapshot: Promise.resolve({}) };
  }
  async notifyCheckpointComplete(): Promise<void> {}
}

/** What the task sends downstream, as readable strings. */
function fakeNetwork(log: string[]): NetworkOutput {
  const fake = {
    emitRecords: async (batch: RecordBatch) => void log.push(...batch.values.map((v) => `record ${String(v)}`)),
    emitWatermark: async (w: number) => void log.push(`watermark ${w === MAX_WATERMARK ? 'MAX' : w}`),
    emitBarrier: async (id: number) => void log.push(`barrier ${id}`),
    emitIdleness: async (idle: boolean) => void log.push(idle ? 'idle' : 'active'),
    end: async () => void log.push('end'),
  };
  return fake as unknown as NetworkOutput;
}

const records = (...values: unknown[]): StreamElement => ({ kind: 'records', batch: { values, timestamps: undefined } });
const barrier = (checkpointId: number): StreamElement => ({ kind: 'barrier', checkpointId, timestamp: 0, incremental: false });
const watermark = (timestamp: number): StreamElement => ({ kind: 'watermark', timestamp });
const END: StreamElement = { kind: 'end' };
const idleness = (idle: boolean): StreamElement => ({ kind: 'idleness', idle });

/**
 * Runs a two-input task over `inputs` ([channel, element] in the order they arrive) and
 * returns the operator, what went downstream and what the hooks heard.
 */
async function runTask(inputs: ReadonlyArray<readonly [number, StreamElement]>, aligned: boolean | undefined) {
  const op = new RecordingOperator();
  const downstream: string[] = [];
  const heard: string[] = [];
  const hooks: CheckpointHooks | undefined =
    aligned === undefined
      ? undefined
      : {
          aligned,
          acknowledge: (_task, id, snapshots: Promise<OperatorSnapshot[]>) => {
            heard.push(`ack ${id}`);
            void snapshots;
          },
          taskFinished: (task: CoordinatedTask) => void heard.push(`finished ${task.name}`),
        };
  const gate = new InputGate(2, 64);
  for (const [channel, element] of inputs) await gate.put(channel, element);
  const task = new StreamTask(
    'Task (1/1)',
    [{ op, out: new OutputBuffer(), next: [], network: [fakeNetwork(downstream)], operatorId: 'op', subtaskIndex: 0, counters: countersOf('op') }],
    gate,
    undefined,
    hooks,
  );
  await task.run();
  return { op, downstream, heard };
}

/** Records 1, 2 on channel 0 around its barrier; 10, 11 on channel 1 around its later barrier. */
const BARRIER_FIRST_ON_0: ReadonlyArray<readonly [number, StreamElement]> = [
  [0, records(1)],
  [0, barrier(1)],
  [0, records(2)],
  [1, records(10)],
  [1, barrier(1)],
  [1, records(11)],
  [0, END],
  [1, END],
];

describe('StreamTask: barrier alignment across two inputs', () => {
  it('EXACTLY_ONCE: records after the barrier on one input are held until the barrier arrived on the other, so the snapshot excludes them', async () => {
    const { op, downstream, heard } = await runTask(BARRIER_FIRST_ON_0, true);
    expect(op.snapshots).toEqual([{ checkpointId: 1, seen: [1, 10] }]);
    expect(op.seen, 'the held record 2 is processed right after the checkpoint').toEqual([1, 10, 2, 11]);
    expect(downstream.slice(0, 5)).toEqual(['record 1', 'record 10', 'barrier 1', 'record 2', 'record 11']);
    expect(heard[0]).toBe('ack 1');
  });

  it('AT_LEAST_ONCE: barriers are only counted, records after a barrier go on and are in the snapshot', async () => {
    const { op, downstream, heard } = await runTask(BARRIER_FIRST_ON_0, false);
    expect(op.snapshots).toEqual([{ checkpointId: 1, seen: [1, 2, 10] }]);
    expect(op.seen).toEqual([1, 2, 10, 11]);
    expect(downstream.slice(0, 5)).toEqual(['record 1', 'record 2', 'record 10', 'barrier 1', 'record 11']);
    expect(heard[0]).toBe('ack 1');
  });

  it('the checkpoint is taken once, when the last input delivers its barrier, and the barrier is forwarded once', async () => {
    const { op, downstream } = await runTask(BARRIER_FIRST_ON_0, true);
    expect(op.snapshots.map((s) => s.checkpointId)).toEqual([1]);
    expect(downstream.filter((d) => d.startsWith('barrier'))).toEqual(['barrier 1']);
  });

  it('an input that ends completes an alignment waiting for its barrier', async () => {
    const { op, heard } = await runTask(
      [
        [0, records(1)],
        [0, barrier(1)],
        [0, records(2)],
        [1, records(10)],
        [1, END],
        [0, END],
      ],
      true,
    );
    expect(op.snapshots).toEqual([{ checkpointId: 1, seen: [1, 10] }]);
    expect(op.seen).toEqual([1, 10, 2]);
    expect(heard).toEqual(['ack 1', 'finished Task (1/1)']);
  });

  it('a newer barrier gives up an alignment that can no longer complete, and releases what it held', async () => {
    const { op } = await runTask(
      [
        [0, barrier(1)],
        [0, records(2)],
        [1, barrier(2)],
        [0, barrier(2)],
        [0, records(3)],
        [0, END],
        [1, END],
      ],
      true,
    );
    expect(op.snapshots).toEqual([{ checkpointId: 2, seen: [2] }]);
    expect(op.seen).toEqual([2, 3]);
  });

  it('without checkpoint hooks barriers are aligned (the safe default)', async () => {
    const { op } = await runTask(BARRIER_FIRST_ON_0, undefined);
    expect(op.snapshots).toEqual([{ checkpointId: 1, seen: [1, 10] }]);
  });
});

describe('StreamTask: watermarks and end of input', () => {
  it("the task's watermark is the minimum over its inputs, forwarded only when it advances", async () => {
    const { op, downstream } = await runTask(
      [
        [0, watermark(5)],
        [1, watermark(3)],
        [0, watermark(10)],
        [1, watermark(2)],
        [1, watermark(8)],
        [1, END],
        [0, END],
      ],
      true,
    );
    expect(op.watermarks).toEqual([3, 8, 10, MAX_WATERMARK]);
    expect(downstream.filter((d) => d.startsWith('watermark'))).toEqual(['watermark 3', 'watermark 8', 'watermark 10', 'watermark MAX']);
  });

  it('finishes after every input ended: operators finish after the last record and the final watermark, then the hooks hear of it, then downstream ends', async () => {
    const { op, downstream, heard } = await runTask(
      [
        [0, records(1)],
        [0, END],
        [1, records(2)],
        [1, END],
      ],
      true,
    );
    expect(op.events).toEqual(['open', 'finish after [1,2]']);
    expect(op.watermarks.at(-1)).toBe(MAX_WATERMARK);
    expect(heard).toEqual(['finished Task (1/1)']);
    expect(downstream).toEqual(['record 1', 'record 2', 'watermark MAX', 'end']);
  });
});

describe('StreamTask: a source task', () => {
  /** Emits one record per poll; the coordinator's trigger arrives while record `triggerAt` is emitted. */
  class PollingSource extends RecordingOperator {
    task!: StreamTask;
    constructor(
      private readonly values: number[],
      private readonly triggerAt: number,
    ) {
      super();
    }
    poll(): number[] | null {
      const v = this.values.shift();
      return v === undefined ? null : [v];
    }
    emit(records: readonly number[], out: OutputBuffer): void {
      for (const v of records) {
        this.seen.push(v);
        out.collect(v);
        if (v === this.triggerAt) this.task.triggerCheckpoint(1, 0, false);
      }
    }
  }

  it('takes a triggered checkpoint between two polls and sends its barrier before the records polled after it', async () => {
    const op = new PollingSource([1, 2, 3], 2);
    const downstream: string[] = [];
    const acks: number[] = [];
    const hooks: CheckpointHooks = { aligned: true, acknowledge: (_t, id) => void acks.push(id), taskFinished: () => {} };
    const task = new StreamTask(
      'Source (1/1)',
      [{ op, out: new OutputBuffer(), next: [], network: [fakeNetwork(downstream)], operatorId: 'src', subtaskIndex: 0, counters: countersOf('src') }],
      new InputGate(0),
      op as unknown as SourceOperator<unknown>,
      hooks,
    );
    op.task = task;
    expect(task.isSource).toBe(true);
    await task.run();
    expect(op.snapshots).toEqual([{ checkpointId: 1, seen: [1, 2] }]);
    expect(acks).toEqual([1]);
    expect(downstream).toEqual(['record 1', 'record 2', 'barrier 1', 'record 3', 'watermark MAX', 'end']);
  });
});

describe("StreamTask: idle inputs (Flink's WatermarkStatus)", () => {
  it('an idle input is left out of the watermark; when all are idle the output is idle, and records make it active again first', async () => {
    const { downstream, op } = await runTask(
      [
        [0, watermark(100)],
        [1, watermark(50)],
        [1, idleness(true)], // only channel 0 counts now: 100
        [0, watermark(200)],
        [0, idleness(true)], // everything idle: the output goes idle, the watermark stays
        [1, records(7)], // channel 1 active again, behind at 50: no watermark until it passes 200
        [1, watermark(150)],
        [1, watermark(250)],
        [0, END],
        [1, END],
      ],
      undefined,
    );
    expect(downstream).toEqual(['watermark 50', 'watermark 100', 'watermark 200', 'idle', 'active', 'record 7', 'watermark 250', 'watermark MAX', 'end']);
    expect(op.watermarks).toEqual([50, 100, 200, 250, MAX_WATERMARK]);
  });

  it('when the last active input goes idle, the highest watermark of any input goes out (Flink flushes them)', async () => {
    const { downstream } = await runTask(
      [
        [0, watermark(100)],
        [1, watermark(300)],
        [1, idleness(true)],
        [0, idleness(true)],
        [0, END],
        [1, END],
      ],
      undefined,
    );
    expect(downstream).toEqual(['watermark 100', 'watermark 300', 'idle', 'watermark MAX', 'active', 'end']);
  });

  it('an input that ends counts as the final watermark, even while the other is idle (as in Flink)', async () => {
    const { downstream } = await runTask(
      [
        [1, idleness(true)],
        [0, watermark(10)],
        [0, END],
        [1, watermark(20)],
        [1, END],
      ],
      undefined,
    );
    expect(downstream).toEqual(['watermark 10', 'watermark MAX', 'idle', 'active', 'end']);
  });
});

describe('StreamTask: letting the host in while busy with input', () => {
  /** 40 batches of 1 ms of work each, all queued; how many were done when a message posted at the start got its turn. */
  async function doneWhenAMessageRan(inputYield?: InputYield): Promise<number> {
    const op = new RecordingOperator();
    const busy = op.processBatch.bind(op);
    op.processBatch = (batch, out) => {
      const until = performance.now() + 1;
      while (performance.now() < until);
      busy(batch, out);
    };
    const gate = new InputGate(1, 64);
    for (let i = 0; i < 40; i++) await gate.put(0, records(i));
    await gate.put(0, END);
    const task = new StreamTask(
      'Task (1/1)',
      [{ op, out: new OutputBuffer(), next: [], network: [fakeNetwork([])], operatorId: 'op', subtaskIndex: 0, counters: countersOf('op') }],
      gate,
      undefined,
      undefined,
      undefined,
      { inputYield },
    );
    const { port1, port2 } = new MessageChannel();
    // The message's turn comes after the run if the loop never lets the host in.
    const doneAtMessage = new Promise<number>((resolve) => {
      port1.onmessage = () => {
        port1.close();
        resolve(op.seen.length);
      };
    });
    port2.postMessage(undefined);
    await task.run();
    return doneAtMessage;
  }

  it('without an input yield (the page, Node without workers) the input loop runs through: other host tasks wait until its gate is empty', async () => {
    expect(await doneWhenAMessageRan()).toBe(40);
  });

  it('with an input yield (given in workers) a message gets its turn within a few ms of work, not after the whole input', async () => {
    let turns = 0;
    const done = await doneWhenAMessageRan({
      intervalMs: 4,
      yieldToHost: () => {
        turns++;
        return new Promise<void>((resolve) => setImmediate(resolve));
      },
    });
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(20);
    // Every 4 ms of the 40 ms of work, through the given yield.
    expect(turns).toBeGreaterThanOrEqual(5);
  });
});

describe('StreamTask: a checkpoint its attempt leaves behind', () => {
  it('a snapshot still encoding when the barrier cannot be sent fails with the attempt, not as an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      // The backend closes under the encoding once the attempt fails (as SQLite's does).
      class EncodingFails extends RecordingOperator {
        override async snapshotState(): Promise<PendingSnapshot> {
          return { snapshot: new Promise((_, reject) => setTimeout(() => reject(new Error('closed while encoding')), 5)) };
        }
      }
      const network = fakeNetwork([]);
      (network as unknown as { emitBarrier: () => Promise<void> }).emitBarrier = async () => {
        throw new Error('downstream gate failed');
      };
      const gate = new InputGate(1, 8);
      for (const element of [records(1), barrier(1), records(2), END]) await gate.put(0, element);
      const heard: string[] = [];
      const task = new StreamTask(
        'Task (1/1)',
        [{ op: new EncodingFails(), out: new OutputBuffer(), next: [], network: [network], operatorId: 'op', subtaskIndex: 0, counters: countersOf('op') }],
        gate,
        undefined,
        { aligned: true, acknowledge: (_t, id) => void heard.push(`ack ${id}`), taskFinished: () => {} },
      );
      await expect(task.run()).rejects.toThrow(/downstream gate failed/);
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(heard, 'the checkpoint was never acknowledged').toEqual([]);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
