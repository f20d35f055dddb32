/**
 * A real WebSocket server (the `ws` package, loopback, ephemeral port) that streams the
 * numbered events `0 … events-1` to whoever is connected, each event once: a producer
 * that cannot replay, as a live feed is. Events go out `perTick` every `tickMs` to the
 * open connection; with `window`, at most that many unacknowledged events are in flight
 * (the page answers `ack:<event>` once its log made the event durable). Once every event
 * went out (and, with a window, was acknowledged) the server closes the connection
 * cleanly (1000), which ends the page's stream. What was sent, acknowledged, and sent
 * but never acknowledged (in flight when a connection dropped) is kept for the test.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** Options of {@link startStreamServer}. */
export interface StreamServerOptions {
  events: number;
  perTick?: number;
  tickMs?: number;
  /** Most unacknowledged events in flight per connection; absent: no acknowledgements expected. */
  window?: number;
}

/** The running server and what it saw. */
export interface StreamServer {
  /** `ws://127.0.0.1:<port>`. */
  readonly url: string;
  /** Every event sent, in order (each exactly once). */
  readonly sent: number[];
  readonly acked: Set<number>;
  /** Events sent on a connection that closed before acknowledging them. */
  readonly unacked: number[];
  /** Connections accepted so far. */
  readonly connections: () => number;
  /** Every event was sent (and acknowledged, with a window) and the stream closed cleanly. */
  readonly done: () => boolean;
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1 and an ephemeral port. */
export async function startStreamServer(o: StreamServerOptions): Promise<StreamServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const perTick = o.perTick ?? 2;
  const sent: number[] = [];
  const acked = new Set<number>();
  const unacked: number[] = [];
  let next = 0;
  let connections = 0;
  let done = false;
  wss.on('connection', (socket: WebSocket) => {
    connections++;
    const inFlight = new Set<number>();
    const finished = () => next >= o.events && (o.window === undefined || inFlight.size === 0);
    const timer = setInterval(() => {
      for (let k = 0; k < perTick && next < o.events && (o.window === undefined || inFlight.size < o.window); k++) {
        const v = next++;
        sent.push(v);
        if (o.window !== undefined) inFlight.add(v);
        socket.send(String(v));
      }
      if (finished() && !done) {
        done = true;
        clearInterval(timer);
        socket.close(1000, 'end of stream');
      }
    }, o.tickMs ?? 5);
    socket.on('message', (data) => {
      const m = /^ack:(\d+)$/.exec(String(data));
      if (m === null) return;
      inFlight.delete(Number(m[1]));
      acked.add(Number(m[1]));
    });
    socket.on('close', () => {
      clearInterval(timer);
      unacked.push(...inFlight);
    });
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    sent,
    acked,
    unacked,
    connections: () => connections,
    done: () => done,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}
