/**
 * A keyed job fed by a real WebSocket server (Node, the `ws` package) in a real Chromium
 * page (Playwright, page test/reload/ws-page.ts) that is reloaded mid-stream several
 * times. The server sends each numbered event once and never again, as a live feed does.
 *
 * - Through the durable input log (IndexedDB, OPFS), the page acknowledges an event once
 *   its append resolved: every event the log holds — every acknowledged one among them —
 *   is counted exactly once, and only events never acknowledged can be missing.
 * - Straight from `WebSocketSource` (checkpoints, no log), the loss is what the README
 *   states: of the events a load received, those its last completed checkpoint covered
 *   are counted once, the rest (a suffix) are lost; nothing is counted twice, and the
 *   restored counts include no lost event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openChromium, type ChromiumSession } from '../helpers/chromium-page.ts';
import { startStreamServer, type StreamServer } from '../helpers/ws-stream-server.ts';
import type { WsReloadRun } from './ws-page.ts';

const EVENTS = 1200;
const RELOADS = 3;

interface Counted {
  v: number;
  key: number;
  n: number;
}

describe('a WebSocket stream across real page reloads (Playwright + Chromium, a real ws server)', () => {
  let session: ChromiumSession;
  let server: StreamServer | undefined;
  beforeAll(async () => {
    session = await openChromium();
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await session?.close();
  });

  /** Loads the page `RELOADS + 1` times, reloading each earlier load once output committed mid-stream; returns each load's start bounds. */
  async function reloadMidStream(r: Omit<WsReloadRun, 'load'>, committed: () => Promise<Counted[]>) {
    const { page, origin } = session;
    const start = async (load: number) => {
      await page.goto(`${origin}/test/reload/ws-page.html`);
      await page.waitForFunction(() => 'eddyWsReload' in globalThis, undefined, { timeout: 60_000 });
      return page.evaluate(
        (x) => (globalThis as unknown as { eddyWsReload: { run(r: WsReloadRun): Promise<{ first: number; next: number }> } }).eddyWsReload.run(x),
        { ...r, load },
      );
    };
    const starts: { first: number; next: number }[] = [];
    for (let load = 0; load < RELOADS; load++) {
      starts.push(await start(load));
      const before = (await committed()).length;
      await expect.poll(async () => (await committed()).length, { timeout: 60_000, interval: 50 }).toBeGreaterThan(before + 40);
      expect(server!.done(), 'the stream is still running when the tab reloads').toBe(false);
      expect(await page.evaluate(() => (globalThis as { failed?: string }).failed)).toBeUndefined();
      await page.reload();
    }
    starts.push(await start(RELOADS));
    return starts;
  }

  const readCommitted = (prefix: string) => async (): Promise<Counted[]> =>
    (
      await session.page.evaluate(
        (p) =>
          Object.keys(localStorage)
            .filter((k) => k.startsWith(`${p}:out:`))
            .flatMap((k) => JSON.parse(localStorage.getItem(k)!) as string[]),
        prefix,
      )
    ).map((s) => {
      const [v, key, n] = s.split(':').map(Number) as [number, number, number];
      return { v, key, n };
    });

  /** Per key, in the order the events were sent (= their numbers), the counts are 1, 2, 3 …: the state counted exactly the committed events. */
  function expectConsistentCounts(out: Counted[]) {
    const byKey = new Map<number, Counted[]>();
    for (const c of out) byKey.set(c.key, [...(byKey.get(c.key) ?? []), c]);
    for (const [key, cs] of byKey) {
      cs.sort((a, b) => a.v - b.v);
      expect(
        cs.map((c) => c.n),
        `counts of key ${key}`,
      ).toEqual(cs.map((_, i) => i + 1));
      expect(cs.every((c) => c.v % 7 === key)).toBe(true);
    }
  }

  for (const log of ['indexeddb', 'opfs'] as const) {
    it(`through the durable log (${log}), ${RELOADS} reloads: every event the log acknowledged is counted exactly once`, async () => {
      server = await startStreamServer({ events: EVENTS, perTick: 2, tickMs: 5, window: 16 });
      const name = `ws-${log}-${Date.now().toString(36)}`;
      const committed = readCommitted(name);
      const starts = await reloadMidStream({ name, url: server.url, log }, committed);
      const { page } = session;
      await page.waitForFunction(() => (globalThis as { streamEnded?: number }).streamEnded !== undefined, undefined, { timeout: 120_000 });
      const logEnd = await page.evaluate(() => (globalThis as { streamEnded?: number }).streamEnded!);
      await expect.poll(async () => (await committed()).length, { timeout: 60_000, interval: 100 }).toBeGreaterThanOrEqual(logEnd);
      // A few more checkpoints: nothing more may commit.
      await page.waitForTimeout(500);
      const out = await committed();
      const counted = new Set(out.map((c) => c.v));
      if (process.env.WS_RELOAD_DEBUG) console.log(log, JSON.stringify({ starts, logEnd, acked: server.acked.size, unacked: server.unacked }));

      expect(server.done()).toBe(true);
      expect(server.connections()).toBe(RELOADS + 1);
      // Each log entry once, nothing twice.
      expect(counted.size, 'no event counted twice').toBe(out.length);
      expect(out.length, 'one result per log entry').toBe(logEnd);
      // Every acknowledged event is counted; an event can be missing only if it was never acknowledged.
      expect([...server.acked].filter((v) => !counted.has(v))).toEqual([]);
      const sent = new Set(server.sent);
      expect(out.filter((c) => !sent.has(c.v))).toEqual([]);
      const unacked = new Set(server.unacked);
      expect(server.sent.filter((v) => !counted.has(v) && !unacked.has(v))).toEqual([]);
      expect(server.acked.size).toBeGreaterThan(EVENTS - RELOADS * 16 - 1);
      expectConsistentCounts(out);
      // Each load found more already logged, and the log was truncated behind checkpoints.
      expect(starts.map((s) => s.next)).toEqual([...starts.map((s) => s.next)].sort((a, b) => a - b));
      expect(starts.at(-1)!.first).toBeGreaterThan(0);
      await server.close();
      server = undefined;
    }, 300_000);
  }

  it(`without the log, ${RELOADS} reloads: what a load received after its last completed checkpoint is lost, the rest counted once`, async () => {
    server = await startStreamServer({ events: EVENTS, perTick: 2, tickMs: 5 });
    const name = `ws-none-${Date.now().toString(36)}`;
    const committed = readCommitted(name);
    await reloadMidStream({ name, url: server.url, log: 'none' }, committed);
    const { page } = session;
    await page.waitForFunction(() => (globalThis as { finished?: boolean }).finished === true, undefined, { timeout: 120_000 });
    const out = await committed();
    const received = await page.evaluate((p) => {
      const loads: number[][] = [];
      for (const k of Object.keys(localStorage)) {
        const m = new RegExp(`^${p}:recv:(\\d+):(\\d+)$`).exec(k);
        if (m) (loads[Number(m[1])] ??= [])[Number(m[2])] = Number(localStorage.getItem(k));
      }
      return loads;
    }, name);
    const counted = new Set(out.map((c) => c.v));
    expect(counted.size, 'no event counted twice').toBe(out.length);
    expect(received).toHaveLength(RELOADS + 1);
    const lost: number[][] = [];
    for (const [load, events] of received.entries()) {
      expect(
        events.every((v) => v !== undefined && v !== null),
        `load ${load} recorded every message`,
      ).toBe(true);
      // Counted: a prefix of what this load received (up to its last completed checkpoint); lost: the rest.
      const firstLost = events.findIndex((v) => !counted.has(v));
      const cut = firstLost === -1 ? events.length : firstLost;
      expect(
        events.slice(cut).filter((v) => counted.has(v)),
        `load ${load}: nothing after the first lost event is counted`,
      ).toEqual([]);
      lost.push(events.slice(cut));
    }
    if (process.env.WS_RELOAD_DEBUG)
      console.log(JSON.stringify({ received: received.map((e) => e.length), lost: lost.map((l) => l.length), sent: server.sent.length }));
    // The last load ran to the clean end of the stream: everything it received is counted.
    expect(lost.at(-1)).toEqual([]);
    // Loss happened, and only at reloads.
    expect(lost.slice(0, -1).flat().length).toBeGreaterThan(0);
    // Every counted event was received by some load; the counts include no lost event.
    expect(out.length).toBe(received.flat().length - lost.flat().length);
    expectConsistentCounts(out);
    await server.close();
    server = undefined;
  }, 300_000);
});
