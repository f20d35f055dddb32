/**
 * A tiny loopback HTTP proxy in front of an S3 server that injects faults: error
 * statuses, connection resets before or after the request reached the server, and
 * response bodies cut short (with a Content-Length that matches the cut, so only a
 * size check can notice). Each request is shown to `plan`, which picks its fate.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What happens to one request. */
export type Fate =
  | 'pass'
  /** Answer with this status and an S3 error body, without forwarding. */
  | { status: number; code?: string; body?: string }
  /** Destroy the connection without forwarding. */
  | 'reset-before'
  /** Forward, then destroy the connection instead of answering (the write landed, the answer is lost). */
  | 'reset-after'
  /** Forward, then answer with half the body (and a matching Content-Length). */
  | 'short';

/** One request as the proxy saw it. */
export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly bodyBytes: number;
  readonly fate: Fate;
}

/** A running proxy. */
export interface FaultProxy {
  readonly endpoint: string;
  readonly seen: Seen[];
  /** Highest number of requests in flight at once, per `filter`. */
  maxInFlight: number;
  plan: (method: string, url: string, n: number) => Fate;
  close(): Promise<void>;
}

const DROP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

/** Starts a proxy to `target` on a free loopback port; every request passes until `plan` is set. */
export async function startFaultProxy(target: string, inFlightFilter: (method: string, url: string) => boolean = () => true): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  let inFlight = 0;
  const proxy: FaultProxy = {
    endpoint: '',
    seen: [],
    maxInFlight: 0,
    plan: () => 'pass',
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer(async (req, res) => {
    // Counted from the request's arrival (not once its body is in), so that uploads the
    // client runs in parallel overlap here even on a loaded machine.
    const counted = inFlightFilter(req.method!, req.url!);
    if (counted) proxy.maxInFlight = Math.max(proxy.maxInFlight, ++inFlight);
    try {
      await handle(req, res);
    } finally {
      if (counted) inFlight--;
    }
  });
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const fate = proxy.plan(req.method!, req.url!, proxy.seen.length + 1);
    proxy.seen.push({ method: req.method!, url: req.url!, headers: req.headers, bodyBytes: body.length, fate });
    if (fate === 'reset-before') {
      req.socket.destroy();
      return;
    }
    if (typeof fate === 'object') {
      const xml =
        fate.body ??
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fate.code ?? 'InternalError'}</Code><Message>injected ${fate.status}</Message></Error>`;
      res.writeHead(fate.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) }).end(xml);
      return;
    }
    try {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (!DROP.has(k) && typeof v === 'string') headers[k] = v;
      const upstream = await fetch(target + req.url, { method: req.method, headers, body: body.length > 0 ? body : undefined });
      let payload = Buffer.from(await upstream.arrayBuffer());
      if (fate === 'reset-after') {
        req.socket.destroy();
        return;
      }
      if (fate === 'short' && payload.length > 1) payload = payload.subarray(0, payload.length >> 1);
      const out: Record<string, string> = {};
      upstream.headers.forEach((v, k) => {
        if (!DROP.has(k) && k !== 'content-encoding') out[k] = v;
      });
      if (req.method !== 'HEAD') out['content-length'] = String(payload.length);
      else if (upstream.headers.get('content-length') !== null) out['content-length'] = upstream.headers.get('content-length')!;
      res.writeHead(upstream.status, out);
      res.end(req.method === 'HEAD' ? undefined : payload);
    } catch (error) {
      res.writeHead(502).end(String(error));
    }
  };
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (proxy as { endpoint: string }).endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
