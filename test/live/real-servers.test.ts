/**
 * The live sources against real servers instead of fakes: `WebSocketSource` over the `ws`
 * package's client (its `WebSocket` is an EventTarget, as the browser's) and a `ws`
 * server in Node; `ServerSentEventSource` over Chromium's `EventSource` (Node 20 has
 * none) and an SSE endpoint from `node:http`, including the browser's own reconnection
 * after a dropped connection (resuming from `Last-Event-ID`) and its giving up.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { RestartStrategies, SourceError, StreamExecutionEnvironment, WebSocketSource } from '../../src/index.ts';
import type { WebSocketLike } from '../../src/index.ts';
import { openChromium, type ChromiumSession } from '../helpers/chromium-page.ts';

/** A ws server whose n-th connection (0-based) is served by `serve[n]`. */
async function wsServer(serve: ((socket: WebSocket) => void)[]) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  let n = 0;
  wss.on('connection', (socket) => serve[Math.min(n++, serve.length - 1)]!(socket));
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    connections: () => n,
    close: () => new Promise<void>((resolve) => wss.close(() => resolve())),
  };
}

/** Sends `from … to-1` and then ends the connection with `end`. */
const sendRange = (from: number, to: number, end: (s: WebSocket) => void) => (socket: WebSocket) => {
  for (let i = from; i < to; i++) socket.send(String(i));
  end(socket);
};

const client = (url: string) => new WebSocket(url) as unknown as WebSocketLike;

describe('WebSocketSource against a real ws server (Node, the ws client)', () => {
  it('delivers every message in order and finishes when the server closes cleanly', async () => {
    const server = await wsServer([sendRange(0, 500, (s) => s.close(1000, 'done'))]);
    const out = await StreamExecutionEnvironment.getExecutionEnvironment()
      .fromSource(new WebSocketSource<number>(() => client(server.url), { map: (d) => Number(String(d)) }), undefined, 'ws')
      .executeAndCollect();
    expect(out).toEqual(Array.from({ length: 500 }, (_, i) => i));
    await server.close();
  });

  it('a connection lost without a close frame fails the job with SOURCE_FAILED (code 1006)', async () => {
    const server = await wsServer([sendRange(0, 10, (s) => setTimeout(() => s.terminate(), 50))]);
    const error = await StreamExecutionEnvironment.getExecutionEnvironment()
      .fromSource(new WebSocketSource<number>(() => client(server.url)), undefined, 'ws')
      .executeAndCollect()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).code).toBe('SOURCE_FAILED');
    expect((error as SourceError).message).toContain('code 1006');
    expect((error as SourceError).message).toContain('source:websocket');
    await server.close();
  });

  it('with a factory and a restart strategy, the restarted job connects again and reads on', async () => {
    const server = await wsServer([sendRange(0, 10, (s) => setTimeout(() => s.terminate(), 50)), sendRange(10, 20, (s) => s.close(1000))]);
    const seen: number[] = [];
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setRestartStrategy(RestartStrategies.fixedDelayRestart(1, 0));
    env.fromSource(new WebSocketSource<number>(() => client(server.url), { map: (d) => Number(String(d)) }), undefined, 'ws').addSink((v) => void seen.push(v));
    await env.execute('ws-restart');
    expect(server.connections()).toBe(2);
    // Without a checkpoint nothing is replayed: the first connection's messages were delivered once, the second's follow.
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
    await server.close();
  });
});

describe('ServerSentEventSource against a real SSE endpoint (node:http, Chromium EventSource)', () => {
  let session: ChromiumSession;
  let http: Server;
  let base = '';
  let connections = 0;
  let dropped = false;
  const lastEventIds: (string | undefined)[] = [];
  beforeAll(async () => {
    http = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/gone') {
        res.writeHead(204, { 'access-control-allow-origin': '*' }).end();
        return;
      }
      connections++;
      const last = req.headers['last-event-id'] as string | undefined;
      lastEventIds.push(last);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'access-control-allow-origin': '*' });
      res.write('retry: 50\n\n');
      const from = last === undefined ? 0 : Number(last) + 1;
      const dropAt = url.pathname === '/drop' && !dropped ? 25 : Number.POSITIVE_INFINITY;
      for (let i = from; i < 50; i++) {
        if (i === dropAt) {
          // The connection drops mid-stream (once what was written reached the browser): it reconnects with Last-Event-ID.
          dropped = true;
          setTimeout(() => res.destroy(), 100);
          return;
        }
        // An event of another type in between: not read unless listed in `events`.
        if (i === 3) res.write('event: other\ndata: ignored\n\n');
        res.write(`id: ${i}\ndata: ${i}\n\n`);
      }
      res.write('event: end\ndata: done\n\n');
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    session = await openChromium();
    await session.page.goto(`${session.origin}/test/live/sse-page.html`);
    await session.page.waitForFunction(() => 'runSse' in globalThis, undefined, { timeout: 60_000 });
  }, 120_000);
  afterAll(async () => {
    await session?.close();
    http?.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
  });

  type Result = { records?: number[]; error?: string; message?: string };
  const runSse = (url: string) => session.page.evaluate((u) => (globalThis as unknown as { runSse(u: string): Promise<Result> }).runSse(u), url);

  it('delivers the message events in order and finishes on the end event', async () => {
    const before = connections;
    expect(await runSse(`${base}/events`)).toEqual({ records: Array.from({ length: 50 }, (_, i) => i) });
    expect(connections - before).toBe(1);
  });

  it('after a dropped connection the browser reconnects from Last-Event-ID and the job sees every event once', async () => {
    const before = connections;
    expect(await runSse(`${base}/drop`)).toEqual({ records: Array.from({ length: 50 }, (_, i) => i) });
    expect(connections - before).toBe(2);
    expect(lastEventIds.at(-1)).toBe('24');
  });

  it('fails the job with SOURCE_FAILED once the EventSource gives up (a 204 answer)', async () => {
    const r = await runSse(`${base}/gone`);
    expect(r.error).toBe('SOURCE_FAILED');
    expect(r.message).toContain('source:event-source');
  });
});
