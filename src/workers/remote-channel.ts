/**
 * Channels between tasks in different workers, over one MessagePort per pair of workers.
 *
 * - Order: every element of a channel (records, watermarks, barriers, end of input)
 *   goes through the same port in order, so barrier alignment works as in one thread.
 * - Batching: records already travel as batches (one per producer batch and consumer);
 *   on top, everything sent to a peer within one microtask goes out as one message.
 *   A record batch goes as one transferred ArrayBuffer (batch-wire.ts) where that is
 *   cheaper and exact, otherwise structured-cloned (records must be plain data). The
 *   receiver gives each buffer back (transferred again, with its next message) once it
 *   decoded it, and the sender encodes later batches into those: a fresh buffer pays a
 *   page fault per 4 KiB on its first write, which measured more than the encoding.
 * - Back-pressure is credit-based, per channel: a sender may have `credits` elements in
 *   flight; the receiver returns a credit once it handed an element to the consumer's
 *   input gate (whose own bounded capacity then holds it). So a slow consumer makes
 *   its producers wait instead of letting either side buffer without bound.
 * - Credits go back in groups of half the window (or all at once, before the pump waits
 *   for room in a full gate), not one message per element: each message costs both
 *   threads a task, a (de)serialization and, in Chromium, a Mojo hop, which measured as
 *   much as the encoding of the batch itself. Holding fewer than half the window back
 *   cannot stall a sender: one waiting with no credit has all its elements queued or
 *   in flight here, and handing them on reaches the threshold.
 */
import { EddyError } from '../api/errors.ts';
import type { InputGate, StreamElement } from '../engine/input-gate.ts';
import type { ChannelSink } from '../engine/network-output.ts';
import { BufferPool, decodeBatch, encodeBatch } from './batch-wire.ts';
import type { MessagePortLike, TransferableLike } from './worker-protocol.ts';

/** One message on a peer port: data elements and returned credits. */
interface PeerMessage {
  /** Elements: [consumer task address, channel, element]; a Uint8Array is an encoded record batch. */
  readonly d: Array<[string, number, StreamElement | Uint8Array]>;
  /** Credits returned: [consumer task address, channel, how many]. */
  readonly c: Array<[string, number, number?]>;
  /** Buffers of encoded batches given back once decoded, for the receiver to encode into. */
  readonly b?: ArrayBuffer[];
}

interface Inbound {
  readonly queue: StreamElement[];
  pumping: boolean;
  /** Elements handed to the gate whose credits were not sent back yet. */
  owed: number;
}

/** The connection from this worker to one other worker. */
export class PeerLink {
  private outData: PeerMessage['d'] = [];
  private outCredits: PeerMessage['c'] = [];
  private outTransfer: TransferableLike[] = [];
  /** Decoded batches' buffers, going back with the next message. */
  private outBuffers: ArrayBuffer[] = [];
  /** Buffers the peer gave back, to encode into (its counters for statistics and tests). */
  readonly buffers: BufferPool;
  private flushScheduled = false;
  /** Credits left per outgoing channel (`address#channel`). */
  private readonly credits = new Map<string, number>();
  private readonly creditWaiters = new Map<string, () => void>();
  private readonly inbound = new Map<string, Inbound>();
  private closed = false;
  /** Messages and elements sent, for statistics and tests. */
  messagesSent = 0;
  elementsSent = 0;
  /** Record batches that went as transferred bytes rather than structured clone. */
  binaryBatchesSent = 0;

  constructor(
    private readonly port: MessagePortLike,
    private readonly initialCredits: number,
    /** The input gate of a task of this worker, by address. */
    private readonly gateOf: (address: string) => InputGate | undefined,
    /** Called when an element cannot be delivered (a bug, or the attempt is failing). */
    private readonly onError: (error: unknown) => void,
  ) {
    this.creditBatch = Math.max(1, Math.floor(initialCredits / 2));
    // Enough for every batch in flight, plus those on their way back.
    this.buffers = new BufferPool(initialCredits + this.creditBatch);
    port.onmessage = (event) => this.receive(event.data as PeerMessage);
  }

  /** Credits returned per message (half the window): see the module comment. */
  private readonly creditBatch: number;

  /** The sending end of the channels into task `address` of the peer. */
  sink(address: string): ChannelSink {
    return { put: (channel, element) => this.send(address, channel, element) };
  }

  /** Stops sending and receiving (the attempt is over). */
  close(): void {
    this.closed = true;
    this.port.onmessage = null;
    this.port.close();
    for (const wake of this.creditWaiters.values()) wake();
    this.creditWaiters.clear();
  }

  private async send(address: string, channel: number, element: StreamElement): Promise<void> {
    const key = `${address}#${channel}`;
    let left = this.credits.get(key) ?? this.initialCredits;
    while (left === 0 && !this.closed) {
      await new Promise<void>((resolve) => this.creditWaiters.set(key, resolve));
      left = this.credits.get(key)!;
    }
    // The attempt is over: a producer must stop here, not run on into the void.
    if (this.closed) throw new Error('[eddy] [executor:workers] the channel was closed (the attempt ended)');
    this.credits.set(key, left - 1);
    const binary = element.kind === 'records' ? encodeBatch(element.batch, this.buffers.take) : undefined;
    if (binary !== undefined) {
      this.outData.push([address, channel, binary]);
      this.outTransfer.push(binary.buffer as ArrayBuffer);
      this.binaryBatchesSent++;
    } else {
      this.outData.push([address, channel, element]);
    }
    this.elementsSent++;
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    // Buffers alone do not make a message: they wait for the next credits or data.
    if (this.closed || (this.outData.length === 0 && this.outCredits.length === 0)) return;
    const message: PeerMessage =
      this.outBuffers.length === 0 ? { d: this.outData, c: this.outCredits } : { d: this.outData, c: this.outCredits, b: this.outBuffers };
    const transfer = this.outBuffers.length === 0 ? this.outTransfer : [...this.outTransfer, ...this.outBuffers];
    this.outData = [];
    this.outCredits = [];
    this.outTransfer = [];
    this.outBuffers = [];
    this.messagesSent++;
    try {
      this.port.postMessage(message, transfer);
    } catch (e) {
      // A record with a function, a class instance with private state, … cannot cross threads.
      this.onError(
        new EddyError(
          'UNSERIALIZABLE_VALUE',
          `a record sent to another worker cannot be structured-cloned (records crossing workers must be plain data): ${e instanceof Error ? e.message : String(e)}`,
          { component: 'executor:workers' },
          { cause: e },
        ),
      );
    }
  }

  private receive(message: PeerMessage): void {
    if (this.closed) return;
    if (message.b !== undefined) for (const b of message.b) this.buffers.give(b);
    // [address, channel, n]: n credits; a pair without n is one.
    for (const [address, channel, n] of message.c) {
      const key = `${address}#${channel}`;
      this.credits.set(key, (this.credits.get(key) ?? this.initialCredits) + (n ?? 1));
      const wake = this.creditWaiters.get(key);
      if (wake) {
        this.creditWaiters.delete(key);
        wake();
      }
    }
    for (const [address, channel, sent] of message.d) {
      let element: StreamElement;
      try {
        if (sent instanceof Uint8Array) {
          element = { kind: 'records', batch: decodeBatch(sent) };
          this.outBuffers.push(sent.buffer as ArrayBuffer);
        } else {
          element = sent;
        }
      } catch (e) {
        this.onError(e);
        return;
      }
      const key = `${address}#${channel}`;
      let inbound = this.inbound.get(key);
      if (!inbound) this.inbound.set(key, (inbound = { queue: [], pumping: false, owed: 0 }));
      inbound.queue.push(element);
      if (!inbound.pumping) void this.pump(address, channel, inbound);
    }
  }

  /** Hands a channel's elements to the gate one by one, returning a credit for each. */
  private async pump(address: string, channel: number, inbound: Inbound): Promise<void> {
    const gate = this.gateOf(address);
    if (!gate) return this.onError(new Error(`[eddy] [executor:workers] no task ${address} in this worker`));
    inbound.pumping = true;
    try {
      while (inbound.queue.length > 0 && !this.closed) {
        const element = inbound.queue.shift()!;
        // About to wait for room: what was handed on is paid back first, as one credit per element was before.
        if (inbound.owed > 0 && element.kind === 'records' && !gate.hasRoom(channel)) this.payBack(address, channel, inbound);
        await gate.put(channel, element);
        if (++inbound.owed >= this.creditBatch) this.payBack(address, channel, inbound);
      }
    } catch (e) {
      this.onError(e);
    } finally {
      inbound.pumping = false;
    }
  }

  private payBack(address: string, channel: number, inbound: Inbound): void {
    this.outCredits.push([address, channel, inbound.owed]);
    inbound.owed = 0;
    this.scheduleFlush();
  }
}
