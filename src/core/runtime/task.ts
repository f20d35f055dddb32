/**
 * One parallel subtask of an operator chain: takes elements from its input gate (or its
 * source), pushes them through the chained operators depth-first, and hands what the
 * last ones emit to the network. Mails (processing-time timers) run between elements,
 * never in the middle of one, like Flink's mailbox model.
 */
import { MAX_WATERMARK } from '../../api/watermarks.ts';
import { isThenable } from '../operators/base.ts';
import type { OutputBuffer, RecordBatch, StreamOperator } from '../operators/operator.ts';
import type { SourceOperator } from '../operators/source.ts';
import type { InputGate } from './input-gate.ts';
import type { NetworkOutput } from './network-output.ts';

/** An operator of the chain with where its output goes. */
export interface ChainMember {
  readonly op: StreamOperator;
  readonly out: OutputBuffer;
  /** Chained successors (called directly). */
  readonly next: ChainMember[];
  /** Network edges to other tasks. */
  readonly network: NetworkOutput[];
}

/** Records a source task polls at a time. */
export const SOURCE_BATCH_SIZE = 1024;
/** How long a task may keep the thread before it lets timers and I/O run. */
const YIELD_INTERVAL_MS = 20;

export class StreamTask {
  constructor(
    readonly name: string,
    /** Chain members in pre-order: the head first, every member before its successors. */
    readonly members: readonly ChainMember[],
    readonly gate: InputGate,
    private readonly source: SourceOperator<unknown> | undefined,
  ) {}

  /** Opens the chain (tail first, so the head's output has somewhere to go), processes all input, finishes. */
  async run(): Promise<void> {
    for (let i = this.members.length - 1; i >= 0; i--) await this.members[i].op.open();
    if (this.source) await this.runSource();
    else await this.runInputs();
    for (const m of this.members) {
      await m.op.finish(m.out);
      await drain(m);
    }
    for (const m of this.members) for (const n of m.network) await n.end();
  }

  /** Closes every operator; returns the first error instead of throwing. */
  async close(): Promise<unknown> {
    let first: unknown = undefined;
    for (const m of this.members) {
      try {
        await m.op.close();
      } catch (e) {
        first ??= e;
      }
    }
    return first;
  }

  /** Queues a processing-time wake-up for `member` on this task's mailbox. */
  scheduleProcessingTime(member: ChainMember, now: () => number): void {
    this.gate.addMail(async () => {
      await member.op.onProcessingTime(now(), member.out);
      await drain(member);
    });
  }

  /** Runs every waiting mail. */
  async runMail(): Promise<void> {
    let mail;
    while ((mail = this.gate.takeMail()) !== undefined) await mail();
  }

  private async runSource(): Promise<void> {
    const head = this.members[0];
    const source = this.source!;
    let lastYield = Date.now();
    for (;;) {
      await this.runMail();
      const before = head.out.size;
      const more = await source.emitNext(head.out, SOURCE_BATCH_SIZE);
      const idle = head.out.size === before;
      await drain(head);
      if (!more) break;
      if (idle || Date.now() - lastYield > YIELD_INTERVAL_MS) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        lastYield = Date.now();
      }
    }
    head.out.emitWatermark(MAX_WATERMARK);
    await drain(head);
  }

  private async runInputs(): Promise<void> {
    const head = this.members[0];
    const gate = this.gate;
    const watermarks = new Array<number>(gate.channelCount).fill(-Infinity);
    let ended = 0;
    let current = -Infinity;
    while (ended < gate.channelCount) {
      const item = await gate.take();
      if ('mail' in item) {
        await item.mail();
        continue;
      }
      const { element, channel } = item;
      if (element.kind === 'records') {
        await pushBatch(head, element.batch);
        continue;
      }
      if (element.kind === 'end') {
        ended++;
        watermarks[channel] = MAX_WATERMARK;
      } else if (element.timestamp > watermarks[channel]) {
        watermarks[channel] = element.timestamp;
      } else continue;
      // The task's watermark is the minimum over its inputs.
      let min = Infinity;
      for (const w of watermarks) if (w < min) min = w;
      if (min > current) {
        current = min;
        await pushWatermark(head, min);
      }
    }
  }
}

async function pushBatch(member: ChainMember, batch: RecordBatch): Promise<void> {
  const r = member.op.processBatch(batch, member.out);
  if (isThenable(r)) await r;
  await drain(member);
}

async function pushWatermark(member: ChainMember, watermark: number): Promise<void> {
  await member.op.processWatermark(watermark, member.out);
  await drain(member);
}

/** Hands what a member emitted to its successors: records first, then its watermark. */
async function drain(member: ChainMember): Promise<void> {
  if (member.out.size > 0) {
    const batch = member.out.take();
    for (const n of member.next) await pushBatch(n, batch);
    for (const n of member.network) await n.emitRecords(batch);
  }
  const watermark = member.out.takeWatermark();
  if (watermark !== undefined) {
    for (const n of member.next) await pushWatermark(n, watermark);
    for (const n of member.network) await n.emitWatermark(watermark);
  }
}
