/**
 * The source loop lets the host in every 20 ms through `yieldToHost`: a task of its own
 * without a timer's minimum delay (1 ms in Node, 4 ms in nested browser timers), and the
 * timer only where the runtime has no MessageChannel.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { keptChannelYield, yieldToHost } from '../../src/engine/yield.ts';

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

/** A real macrotask later, through a message (fake timers never fire on their own). */
function aMessageLater(): Promise<void> {
  return new Promise<void>((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(undefined);
  });
}

describe('yieldToHost', () => {
  it('resolves through a message, not a timer (it resolves while timers are frozen)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setImmediate'] });
    let done = false;
    void yieldToHost().then(() => {
      done = true;
    });
    await aMessageLater();
    expect(done).toBe(true);
  });

  it('lets a task that was queued before it run first (the event loop turns)', async () => {
    const order: string[] = [];
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      order.push('earlier task');
    };
    port2.postMessage(undefined);
    await yieldToHost();
    order.push('after the yield');
    expect(order).toEqual(['earlier task', 'after the yield']);
  });

  it('falls back to a 0 ms timer where the runtime has no MessageChannel', async () => {
    vi.stubGlobal('MessageChannel', undefined);
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    let done = false;
    const yielded = yieldToHost().then(() => {
      done = true;
    });
    await Promise.resolve();
    expect(done).toBe(false);
    vi.advanceTimersByTime(0);
    await yielded;
    expect(done).toBe(true);
  });
});

describe('keptChannelYield', () => {
  it('resolves yields waiting at once in order, each through one message on the one kept channel', async () => {
    const yieldOnce = keptChannelYield();
    const order: number[] = [];
    await Promise.all([1, 2, 3].map((i) => yieldOnce().then(() => order.push(i))));
    expect(order).toEqual([1, 2, 3]);
    // Still usable afterwards (the channel is kept, not closed).
    await yieldOnce();
  });

  it('resolves through a message, not a timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setImmediate'] });
    const yieldOnce = keptChannelYield();
    let done = false;
    void yieldOnce().then(() => {
      done = true;
    });
    await aMessageLater();
    expect(done).toBe(true);
  });
});
