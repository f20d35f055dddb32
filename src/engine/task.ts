/**
 * One parallel subtask of an operator chain: takes elements from its input gate (or its
 * source), pushes them through the chained operators depth-first, and hands what the
 * last ones emit to the network. Mails (processing-time timers) run between records;
 * control mails (checkpoints, notifications) between whole elements, like Flink's
 * mailbox model. Checkpoint barriers are aligned across inputs here.
 */
import { NO_CHANGE, WatermarkValve, type ValveOutput } from './watermark-valve.ts';
import { yieldToHost, type InputYield } from './yield.ts';
import { MAX_WATERMARK } from '../api/watermarks.ts';
import { isThenable } from './operators/base.ts';
import type { OperatorSnapshot, OutputBuffer, RecordBatch, SnapshotOptions, StreamOperator } from './operators/operator.ts';
import type { SourceOperator } from './operators/source.ts';
import type { GateItem, InputGate } from './input-gate.ts';
import type { NetworkOutput } from './network-output.ts';
import type { PartSource } from '../format/checkpoint-format.ts';
import type { SubtaskCounters } from './metrics.ts';

/** An operator of the chain with where its output goes. */
export interface ChainMember {
  readonly op: StreamOperator;
  readonly out: OutputBuffer;
  /** Chained successors (called directly). */
  readonly next: ChainMember[];
  /** Network edges to other tasks. */
  readonly network: NetworkOutput[];
  /**
   * The successors in `next` and `network` that consume a side output rather than the
   * main output, with the side output's tag id; they get only that output's records.
   */
  sideOf?: Map<ChainMember | NetworkOutput, string>;
  /** The operator's id and this member's subtask, for checkpoint parts. */
  readonly operatorId: string;
  readonly subtaskIndex: number;
  /** Set when the task was abandoned: whatever the member emits afterwards is discarded. */
  halted?: boolean;
  /** Records in and out and the input watermark, bumped per batch (see metrics.ts). */
  readonly counters: SubtaskCounters;
}

/**
 * What the checkpoint coordinator drives: a {@link StreamTask} of this thread, or the
 * main thread's stand-in for a task that runs in a worker.
 */
export interface CoordinatedTask {
  /** `Operator (i/p)`, for error messages. */
  readonly name: string;
  /** Source tasks are the ones asked to inject barriers. */
  readonly isSource: boolean;
  triggerCheckpoint(checkpointId: number, timestamp: number, incremental: boolean): void;
  /** Resolves once every operator of the task was told (or the attempt is failing). */
  notifyCheckpointComplete(checkpointId: number): Promise<void>;
  /** Tells every operator that checkpoint `id` failed or was aborted, in the task's turn. */
  notifyCheckpointAborted?(checkpointId: number): void;
}

/** What a task tells the checkpoint coordinator. */
export interface CheckpointHooks {
  /** Whether barriers are aligned (exactly-once) or only counted (at-least-once). */
  readonly aligned: boolean;
  /**
   * The task captured its chain for checkpoint `id`; `snapshots` finish encoding later.
   * `syncMs`: how long the capture held up its records (checkpoint statistics).
   */
  acknowledge(task: StreamTask, checkpointId: number, snapshots: Promise<OperatorSnapshot[]>, syncMs?: number): void;
  /** A task elsewhere (in a worker) captured its chain and sent its encoded parts (coordinators implement it). */
  acknowledgeParts?(task: CoordinatedTask, checkpointId: number, parts: Promise<readonly PartSource[]>, syncMs?: number): void;
  /** The task finished its input (it takes part in no later checkpoint). */
  taskFinished(task: CoordinatedTask): void;
  /**
   * Executors whose tasks can die independently (workers) make the final checkpoint a
   * complete one before any sink commits: they take an id here, send every task's final
   * parts to `commitFinalCheckpoint`, and only then let the tasks commit. A failure
   * after that restarts from the final checkpoint, so nothing is emitted twice.
   */
  reserveCheckpointId?(): number;
  commitFinalCheckpoint?(checkpointId: number, parts: readonly PartSource[]): Promise<void>;
}

/** Records a source task polls at a time, unless its {@link TaskTuning} says otherwise. */
export const SOURCE_BATCH_SIZE = 1024;

/**
 * How the tasks of a thread run there, where it differs from one thread doing everything
 * (set by the worker host for a worker's tasks; see worker-host.ts).
 */
export interface TaskTuning {
  /** How the input loop lets the host in while busy; without it the loop runs until its gate is empty. */
  readonly inputYield?: InputYield;
  /** Records a source task polls at a time; default {@link SOURCE_BATCH_SIZE}. */
  readonly sourceBatchSize?: number;
}
/** How long a task may keep the thread before it lets timers and I/O run. */
const YIELD_INTERVAL_MS = 20;

/** One subtask of an operator chain, run as an async loop in the current thread. */
export class StreamTask implements CoordinatedTask {
  private finished = false;
  /** The newest checkpoint this task captured. */
  private lastCheckpoint = -Infinity;

  constructor(
    readonly name: string,
    /** Chain members in pre-order: the head first, every member before its successors. */
    readonly members: ChainMember[],
    readonly gate: InputGate,
    private readonly source: SourceOperator<unknown> | undefined,
    private readonly hooks: CheckpointHooks | undefined,
    /** For a two-input head: per channel, whether it feeds the second input. */
    private readonly secondInput?: readonly boolean[],
    /** How the task shares its thread (a worker's tasks); without it the defaults of one thread. */
    tuning: TaskTuning = {},
  ) {
    this.inputYield = tuning.inputYield;
    this.sourceBatchSize = tuning.sourceBatchSize ?? SOURCE_BATCH_SIZE;
  }

  private readonly inputYield: InputYield | undefined;
  private readonly sourceBatchSize: number;

  /** True for tasks that start with a source (they inject barriers). */
  get isSource(): boolean {
    return this.source !== undefined;
  }

  /** Opens the chain (tail first, so the head's output has somewhere to go), processes all input, finishes. */
  async run(): Promise<void> {
    for (let i = this.members.length - 1; i >= 0; i--) await this.members[i].op.open();
    if (this.source) await this.runSource();
    else await this.runInputs();
    for (const m of this.members) {
      await m.op.finish(m.out);
      await drain(m);
    }
    this.finished = true;
    this.hooks?.taskFinished(this);
    // Notifications queued while the last elements were processed still have to be delivered.
    let control;
    while ((control = this.gate.takeControl()) !== undefined) await control();
    for (const m of this.members) for (const n of m.network) await n.end();
  }

  /**
   * The job's last step after every task finished, without checkpointing (Flink's final
   * checkpoint): sinks pre-commit, then commit. Nothing keeps the snapshot, so no state is
   * captured. With checkpointing the executor writes it as a complete checkpoint first.
   */
  async finalCheckpoint(checkpointId: number): Promise<void> {
    await this.finalSnapshot(checkpointId, { hooksOnly: true });
    await this.finalCommit(checkpointId);
  }

  /** The first half of {@link finalCheckpoint}: every operator's full snapshot (sinks pre-commit). */
  async finalSnapshot(checkpointId: number, options?: SnapshotOptions): Promise<OperatorSnapshot[]> {
    const snapshots = [];
    for (const m of this.members) snapshots.push(await (await m.op.snapshotState(checkpointId, Date.now(), options)).snapshot);
    return snapshots;
  }

  /** The second half of {@link finalCheckpoint}: every operator is told it completed (sinks commit). */
  async finalCommit(checkpointId: number): Promise<void> {
    for (const m of this.members) await m.op.notifyCheckpointComplete(checkpointId);
  }

  /** Closes every operator; returns the first error instead of throwing. */
  async close(): Promise<unknown> {
    let first: unknown;
    for (const m of this.members) {
      try {
        await m.op.close();
      } catch (e) {
        first ??= e;
      }
    }
    return first;
  }

  /**
   * Gives up on a task that did not unwind after its attempt failed (a user function
   * that never returns): if that function ever returns, what it emits goes nowhere.
   */
  abandon(): void {
    for (const m of this.members) m.halted = true;
  }

  /** Queues a processing-time wake-up for `member` on this task's mailbox. */
  scheduleProcessingTime(member: ChainMember, now: () => number): void {
    this.gate.addMail(async () => {
      await member.op.onProcessingTime(now(), member.out);
      await drain(member);
    });
  }

  /**
   * Runs `read` between two records (as mail: the state it sees is consistent) and
   * resolves to its result; at once on a finished task. Rejects when the attempt fails first.
   */
  runBetweenRecords<T>(read: () => Promise<T>, failed: () => Error): Promise<T> {
    if (this.finished) return read();
    return new Promise<T>((resolve, reject) => {
      // The mail itself never rejects: a failing read must not fail the task.
      this.gate.addMail(() => read().then(resolve, reject));
      void this.gate.failed.then(() => reject(failed()));
    });
  }

  /** Runs every waiting timer mail. */
  async runMail(): Promise<void> {
    let mail;
    while ((mail = this.gate.takeMail()) !== undefined) await mail();
  }

  /**
   * Asks a source task to take checkpoint `id` between two batches and inject its barrier.
   * A finished task (any task: Flink's checkpoints after tasks finish) captures its final
   * state at once: it sent its last records and its end before, so that state is part of
   * every later consistent cut.
   */
  triggerCheckpoint(checkpointId: number, timestamp: number, incremental: boolean): void {
    if (this.finished) {
      void this.performCheckpoint(checkpointId, timestamp, incremental).catch((e) => this.gate.fail(e));
      return;
    }
    this.gate.addControl(() => this.performCheckpoint(checkpointId, timestamp, incremental));
  }

  /**
   * Tells every operator that checkpoint `id` is complete, in the task's turn (or at once
   * if it finished); resolves once they were told.
   */
  notifyCheckpointComplete(checkpointId: number): Promise<void> {
    const notify = async () => {
      for (const m of this.members) await m.op.notifyCheckpointComplete(checkpointId);
    };
    if (this.finished) return notify();
    const delivered = new Promise<void>((resolve, reject) => this.gate.addControl(() => notify().then(resolve, (e) => (reject(e), Promise.reject(e)))));
    // A failing attempt never delivers it; the restart restores and commits instead.
    return Promise.race([delivered, this.gate.failed]);
  }

  notifyCheckpointAborted(checkpointId: number): void {
    const notify = async () => {
      for (const m of this.members) await m.op.notifyCheckpointAborted?.(checkpointId);
    };
    if (this.finished) void notify().catch((e) => this.gate.fail(e));
    else this.gate.addControl(notify);
  }

  /** Captures the whole chain, forwards the barrier, and lets the encoding finish in the background. */
  private async performCheckpoint(checkpointId: number, timestamp: number, incremental: boolean): Promise<void> {
    // Once per checkpoint: a finished task can be asked both by its queued trigger and directly.
    if (checkpointId <= this.lastCheckpoint) return;
    this.lastCheckpoint = checkpointId;
    const start = Date.now();
    const pending = [];
    for (const m of this.members) {
      const p = await m.op.snapshotState(checkpointId, timestamp, { incremental });
      // A failing attempt leaves before acknowledging (a barrier that cannot be sent, the
      // next member's capture): the encoding then fails as its backend closes, with no one
      // to hear it. The restart restores the last completed checkpoint instead.
      p.snapshot.catch(() => {});
      pending.push(p);
    }
    // A finished task's outputs ended: downstream aligns without its barrier.
    if (!this.finished) for (const m of this.members) for (const n of m.network) await n.emitBarrier(checkpointId, timestamp, incremental);
    this.hooks?.acknowledge(this, checkpointId, Promise.all(pending.map((p) => p.snapshot)), Date.now() - start);
  }

  private async runSource(): Promise<void> {
    const head = this.members[0];
    const source = this.source!;
    const gate = this.gate;
    let lastYield = Date.now();
    for (;;) {
      // A failed or cancelled attempt ends here, even when the source has nothing to read.
      gate.throwIfFailed();
      // Per batch, and nearly always empty: no microtask turn then.
      if (gate.hasMail) await this.runMail();
      let control;
      while ((control = gate.takeControl()) !== undefined) await control();
      gate.throwIfFailed();
      let polled = source.poll(this.sourceBatchSize);
      if (isThenable(polled)) {
        let result: { records: readonly unknown[] | null } | undefined;
        const got = (polled as Promise<readonly unknown[] | null>).then((records) => void (result = { records }));
        got.catch(() => {});
        // While the reader waits, timers still fire and a failure or cancel still ends the
        // task; checkpoints wait for the poll, so that no snapshot can see a reader
        // position ahead of the records it handed out.
        while (result === undefined) {
          await Promise.race([got, gate.failed, gate.signalled()]);
          gate.throwIfFailed();
          if (result === undefined) await this.runMail();
        }
        polled = result.records;
      }
      const records = polled as readonly unknown[] | null;
      if (records === null) break;
      source.emit(records, head.out);
      const idle = records.length === 0;
      await drain(head);
      if (idle && (await this.awaitAvailable(source))) {
        lastYield = Date.now();
      } else if (idle) {
        // Nothing to read and no future to wait on: poll again after a timer, not in a spin.
        await new Promise((resolve) => setTimeout(resolve, 0));
        lastYield = Date.now();
      } else if (Date.now() - lastYield > YIELD_INTERVAL_MS) {
        await (this.inputYield?.yieldToHost ?? yieldToHost)();
        lastYield = Date.now();
      }
    }
    head.out.emitWatermark(MAX_WATERMARK);
    await drain(head);
  }

  /**
   * Waits while a reader with an availability future has nothing: until it has input, a
   * mail (a timer, the periodic watermark emission that notices idleness) or control mail
   * (a checkpoint) arrives, or the attempt fails. False when the reader has no such future.
   */
  private async awaitAvailable(source: SourceOperator<unknown>): Promise<boolean> {
    const available = source.available();
    if (available === undefined) return false;
    available.catch(() => {});
    const gate = this.gate;
    if (gate.hasControl || gate.hasMail) return true;
    await Promise.race([available, gate.failed, gate.signalled()]);
    return true;
  }

  private async runInputs(): Promise<void> {
    const head = this.members[0];
    const gate = this.gate;
    const channels = gate.channelCount;
    const ended = new Array<boolean>(channels).fill(false);
    let endedCount = 0;
    const valve = new WatermarkValve(channels);
    const apply = async ({ watermark, idle }: ValveOutput) => {
      // Active before the watermark that may come with it; idle after it.
      if (idle === false) await pushIdleness(head, false);
      if (watermark !== undefined) await pushWatermark(head, watermark);
      if (idle === true) await pushIdleness(head, true);
    };
    // Barrier alignment: channels whose barrier arrived are held back until all have it.
    const aligned = this.hooks?.aligned ?? true;
    let aligning: { id: number; timestamp: number; incremental: boolean; seen: boolean[] } | undefined;
    const held: GateItem[][] = Array.from({ length: channels }, () => []);
    const replay: GateItem[] = [];

    const completeAlignmentIfReady = async () => {
      if (aligning === undefined || !aligning.seen.every((s, c) => s || ended[c])) return;
      const { id, timestamp, incremental } = aligning;
      aligning = undefined;
      await this.performCheckpoint(id, timestamp, incremental);
      for (const items of held) replay.push(...items.splice(0));
    };

    const inputYield = this.inputYield;
    let lastYield = Date.now();
    while (endedCount < channels || replay.length > 0) {
      if (inputYield !== undefined && Date.now() - lastYield > inputYield.intervalMs) {
        await inputYield.yieldToHost();
        lastYield = Date.now();
      }
      const item = replay.length > 0 ? replay.shift()! : await gate.take();
      if ('mail' in item) {
        await item.mail();
        continue;
      }
      const { element, channel } = item;
      if (aligning?.seen[channel] && aligned) {
        held[channel].push(item);
        continue;
      }
      if (element.kind === 'records') {
        // Per batch, and nearly always unchanged: no await (a microtask turn) then.
        const change = valve.records(channel);
        if (change !== NO_CHANGE) await apply(change);
        const pushed = pushBatch(head, element.batch, this.secondInput?.[channel] === true);
        if (pushed !== undefined) await pushed;
        continue;
      }
      if (element.kind === 'barrier') {
        if (aligning !== undefined && element.checkpointId > aligning.id) {
          // A newer barrier overtook an alignment that can no longer complete: give it up.
          for (const items of held) replay.push(...items.splice(0));
          aligning = undefined;
        }
        if (aligning === undefined)
          aligning = {
            id: element.checkpointId,
            timestamp: element.timestamp,
            incremental: element.incremental,
            seen: new Array<boolean>(channels).fill(false),
          };
        if (element.checkpointId === aligning.id) aligning.seen[channel] = true;
        await completeAlignmentIfReady();
        continue;
      }
      if (element.kind === 'end') {
        ended[channel] = true;
        endedCount++;
        await completeAlignmentIfReady();
        await apply(valve.end(channel));
      } else if (element.kind === 'idleness') await apply(valve.idleness(channel, element.idle));
      else await apply(valve.watermark(channel, element.timestamp));
    }
  }
}

/**
 * Runs a batch through `member` and hands on what it emitted. Undefined when all of that
 * happened at once (a synchronous operator that emitted nothing, the usual case per batch
 * of a keyed aggregation): callers then skip the `await`, a microtask turn per batch.
 */
function pushBatch(member: ChainMember, batch: RecordBatch, second = false): Promise<void> | undefined {
  member.counters.recordsIn += batch.values.length;
  const r = second ? member.op.processBatch2!(batch, member.out) : member.op.processBatch(batch, member.out);
  if (isThenable(r)) return (r as Promise<void>).then(() => drain(member));
  return drain(member);
}

async function pushWatermark(member: ChainMember, watermark: number): Promise<void> {
  member.counters.inputWatermark = watermark;
  await member.op.processWatermark(watermark, member.out);
  await drain(member);
}

/** Hands what a member emitted to its successors: records first, then its watermark. Undefined when it emitted nothing. */
function drain(member: ChainMember): Promise<void> | undefined {
  if (member.halted) throw new Error('[eddy] [executor:local] the task was abandoned after its attempt failed; its output is discarded');
  return member.out.isEmpty ? undefined : drainOutput(member);
}

async function drainOutput(member: ChainMember): Promise<void> {
  const sideOf = member.sideOf;
  // Active again before what made it active; idle after everything emitted so far.
  const idleness = member.out.takeIdleness();
  if (idleness === false) await forwardIdleness(member, false);
  const segments = member.out.takeSegments();
  if (segments !== undefined) {
    for (const { batch, watermark } of segments) {
      await forwardRecords(member, batch);
      await forwardWatermark(member, watermark);
    }
  }
  if (member.out.size > 0) {
    await forwardRecords(member, member.out.take());
  }
  const sides = member.out.takeSides();
  if (sides !== undefined) for (const side of sides.values()) member.counters.recordsOut += side.values.length;
  // Side outputs nobody consumes are dropped, as in Flink.
  if (sides !== undefined && sideOf !== undefined) {
    for (const n of member.next) {
      const batch = sides.get(sideOf.get(n)!);
      if (batch !== undefined) await pushBatch(n, batch);
    }
    for (const n of member.network) {
      const batch = sides.get(sideOf.get(n)!);
      if (batch !== undefined) await n.emitRecords(batch);
    }
  }
  const watermark = member.out.takeWatermark();
  if (watermark !== undefined) await forwardWatermark(member, watermark);
  if (idleness === true) await forwardIdleness(member, true);
}

async function pushIdleness(member: ChainMember, idle: boolean): Promise<void> {
  member.op.processIdleness(idle, member.out);
  await drain(member);
}

async function forwardIdleness(member: ChainMember, idle: boolean): Promise<void> {
  for (const n of member.next) await pushIdleness(n, idle);
  for (const n of member.network) await n.emitIdleness(idle);
}

/** Hands main-output records to the successors that consume the main output. */
async function forwardRecords(member: ChainMember, batch: RecordBatch): Promise<void> {
  const sideOf = member.sideOf;
  if (batch.values.length === 0) return;
  member.counters.recordsOut += batch.values.length;
  for (const n of member.next) {
    if (sideOf !== undefined && sideOf.has(n)) continue;
    const pushed = pushBatch(n, batch);
    if (pushed !== undefined) await pushed;
  }
  for (const n of member.network) if (sideOf === undefined || !sideOf.has(n)) await n.emitRecords(batch);
}

async function forwardWatermark(member: ChainMember, watermark: number): Promise<void> {
  for (const n of member.next) await pushWatermark(n, watermark);
  for (const n of member.network) await n.emitWatermark(watermark);
}
