/**
 * A turn of the host's event loop (timers, I/O, rendering) between two slices of work,
 * without a timer's delay: a 0 ms `setTimeout` waits at least 1 ms in Node and 4 ms in a
 * browser once nested, which a source loop that lets the host in every 20 ms pays in
 * throughput (5 to 20 %). A message posted to oneself over a `MessageChannel` is a task of
 * its own without that delay. Where there is no `MessageChannel` (Cloudflare Workers
 * before compatibility date 2025-08-15) the timer does it.
 */
export function yieldToHost(): Promise<void> {
  if (typeof MessageChannel !== 'function') return new Promise((resolve) => setTimeout(resolve, 0));
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      // A closed port keeps no event loop alive (Node) and holds nothing.
      port1.close();
      resolve();
    };
    port2.postMessage(undefined);
  });
}

/**
 * How the tasks of a thread let their host in while busy with input: a worker's records
 * and returned credits from other workers arrive as messages, which its host handles only
 * between its own tasks, and a busy input loop is one long microtask chain. Given to the
 * tasks by whoever deploys them (the worker host); tasks without it run their input
 * through (the page, Node without workers: nothing there waits on a message).
 */
export interface InputYield {
  /** How long a task may process its inputs before it lets the host run (ms). */
  readonly intervalMs: number;
  /**
   * One turn of the host's event loop, after the messages that arrived before it (a
   * yield that resumed ahead of them would not let them in).
   */
  readonly yieldToHost: () => Promise<void>;
}

/**
 * A {@link yieldToHost} over one kept `MessageChannel` for the whole thread, for
 * browsers: a yield then costs one message (~18 µs measured in a Chromium worker, 35 µs
 * under load) instead of a new channel's pipe (55–65 µs, 87 µs under load). Yields
 * waiting at once resume in order. Not for Node: there a port created earlier is served
 * before later ones, so a kept channel would resume ahead of messages that arrived on
 * ports made after it (the peer links); Node's `setImmediate` does it there.
 */
export function keptChannelYield(): () => Promise<void> {
  let channel: MessageChannel | undefined;
  const waiting: Array<() => void> = [];
  return () => {
    if (channel === undefined) {
      channel = new MessageChannel();
      channel.port1.onmessage = () => waiting.shift()?.();
    }
    const port = channel.port2;
    return new Promise<void>((resolve) => {
      waiting.push(resolve);
      port.postMessage(undefined);
    });
  };
}
