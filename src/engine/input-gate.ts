/**
 * The input side of a task: the channels from upstream subtasks merged into one FIFO
 * (order per channel is kept), a mailbox for work that must run between records
 * (processing-time timers), and bounded per-channel capacity so that a slow consumer
 * makes its producers wait instead of buffering without bound.
 */
import type { RecordBatch } from './operators/operator.ts';

/** What travels on a channel. */
export type StreamElement =
  | { readonly kind: 'records'; readonly batch: RecordBatch }
  | { readonly kind: 'watermark'; readonly timestamp: number }
  /** The channel went idle (left out of the watermark) or is active again (Flink's WatermarkStatus). */
  | { readonly kind: 'idleness'; readonly idle: boolean }
  | { readonly kind: 'barrier'; readonly checkpointId: number; readonly timestamp: number; readonly incremental: boolean }
  | { readonly kind: 'end' };

/** What a task takes next: a mail, or an element from a channel. */
export type GateItem = { readonly mail: () => Promise<void> } | { readonly channel: number; readonly element: StreamElement };

/** What `put` answers when the element was queued at once. */
const QUEUED: Promise<void> = Promise.resolve();

export class InputGate {
  // A queue: `head` is the next to take; taken slots are cleared, the array is compacted now and then.
  private items: Array<{ channel: number; element: StreamElement } | undefined> = [];
  private head = 0;
  private readonly queuedBatches: number[];
  private readonly spaceWaiters: Array<Array<() => void>>;
  private readonly mails: Array<() => Promise<void>> = [];
  private readonly control: Array<() => Promise<void>> = [];
  private wake: (() => void) | undefined;
  private failure: unknown = undefined;
  private onFailure!: () => void;
  /** Resolves once the gate failed (the attempt is going down). */
  readonly failed: Promise<void> = new Promise((resolve) => (this.onFailure = resolve));

  constructor(
    readonly channelCount: number,
    /** Record batches a channel may hold before its producer waits. */
    private readonly capacity = 8,
  ) {
    this.queuedBatches = new Array(channelCount).fill(0);
    this.spaceWaiters = Array.from({ length: channelCount }, () => []);
  }

  /**
   * Adds an element; resolves once the channel has room (back-pressure). With room (the
   * usual case) the element is queued at once and an already-settled Promise returned.
   */
  put(channel: number, element: StreamElement): Promise<void> {
    if (element.kind === 'records' && this.queuedBatches[channel] >= this.capacity) return this.putWhenRoom(channel, element);
    return this.queue(channel, element);
  }

  private async putWhenRoom(channel: number, element: StreamElement): Promise<void> {
    while (this.queuedBatches[channel] >= this.capacity) {
      if (this.failure !== undefined) throw this.failure;
      await new Promise<void>((resolve) => this.spaceWaiters[channel].push(resolve));
    }
    return this.queue(channel, element);
  }

  private queue(channel: number, element: StreamElement): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (element.kind === 'records') this.queuedBatches[channel]++;
    this.items.push({ channel, element });
    this.signal();
    return QUEUED;
  }

  /** True when `put` of a record batch on `channel` would not wait (the channel is below its capacity). */
  hasRoom(channel: number): boolean {
    return this.queuedBatches[channel] < this.capacity;
  }

  /** Queues work that may run between any two records (processing-time timers). */
  addMail(mail: () => Promise<void>): void {
    this.mails.push(mail);
    this.signal();
  }

  /** Queues work that must run between whole elements (checkpoints, notifications). */
  addControl(mail: () => Promise<void>): void {
    this.control.push(mail);
    this.signal();
  }

  /** The next control mail, if any (used by source tasks, which never block on the gate). */
  takeControl(): (() => Promise<void>) | undefined {
    return this.control.shift();
  }

  /** True when a control mail (a checkpoint, a notification) waits. */
  get hasControl(): boolean {
    return this.control.length > 0;
  }

  /** True when mail waits. */
  get hasMail(): boolean {
    return this.mails.length > 0;
  }

  /** Runs queued mails (used by source tasks, which never block on the gate). */
  takeMail(): (() => Promise<void>) | undefined {
    return this.mails.shift();
  }

  /** The next mail or element, waiting until there is one. */
  async take(): Promise<GateItem> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const mail = this.control.shift() ?? this.mails.shift();
      if (mail) return { mail };
      if (this.head < this.items.length) {
        const item = this.items[this.head]!;
        // A taken element must not stay reachable: a record batch holds up to a thousand records.
        this.items[this.head++] = undefined;
        if (this.head === this.items.length) {
          this.items.length = 0;
          this.head = 0;
        } else if (this.head > 1024 && this.head * 2 > this.items.length) {
          this.items = this.items.slice(this.head);
          this.head = 0;
        }
        if (item.element.kind === 'records') this.release(item.channel);
        return item;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Throws the gate's failure, if it failed (tasks check between elements, so that they unwind). */
  throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /**
   * Resolves at the next mail, control mail or failure (for source tasks, which never
   * block in `take()`, while their reader's poll is pending).
   */
  signalled(): Promise<void> {
    if (this.failure !== undefined || this.mails.length > 0) return Promise.resolve();
    return new Promise<void>((resolve) => (this.wake = resolve));
  }

  /** Wakes every waiter with `error`: the job is failing or cancelled. */
  fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.onFailure();
    this.signal();
    for (const waiters of this.spaceWaiters) waiters.splice(0).forEach((w) => w());
  }

  private release(channel: number): void {
    this.queuedBatches[channel]--;
    this.spaceWaiters[channel].shift()?.();
  }

  private signal(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
