/**
 * durable-log: events/s appended to and replayed from the durable input log on a file
 * (`FileInputLogStore`, Node) vs a hand-written append-only file of the same encoded
 * events, with the same number of fdatasyncs. Append: `EVENTS` `append()` calls, the
 * producer awaiting durability every `BATCH` events (the log group-commits them into one
 * write + fdatasync); the raw side encodes the same events, frames them with a length
 * and writes + fdatasyncs every `BATCH`. Replay: a fresh `DurableLog` over the written
 * log (no in-memory tail), its source polled 1,000 at a time and decoded, vs reading
 * the raw file and decoding every frame.
 */
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DurableLog } from '../src/engine/input-log/durable-log.ts';
import type { SourceReader } from '../src/api/sources.ts';
import { deserializeValue, serializeValue } from '../src/format/value-codec.ts';
import { FileInputLogStore } from '../src/storages/fs-input-log.ts';
import { openChromium } from '../test/helpers/chromium-page.ts';
import type { LatencyConfig, LogBenchConfig } from './browser/log-page.ts';
import { latencySummary, measureLatency } from './durable-log-latency.ts';
import { median, report, round, timeInterleaved } from './common.ts';

const EVENTS = Number(process.env.DURABLE_LOG_EVENTS ?? 100_000);
const BATCH = 1000;
const FLOOR = 0.5;
/** Events per latency run, one every LATENCY_INTERVAL_MS. */
const LATENCY_EVENTS = Number(process.env.DURABLE_LOG_LATENCY_EVENTS ?? 300);
const LATENCY_INTERVAL_MS = 5;
const LATENCY_BASELINE =
  'the same events dispatched on an EventTarget read by EventTargetSource, same job (keyBy, count in ValueState, sink), checkpoints every 100 ms';

interface Click {
  k: string;
  ts: number;
  x: number;
}
const event = (i: number): Click => ({ k: `user-${i % 1000}`, ts: 1_700_000_000_000 + i, x: i % 640 });

/** Runs the bench; one JSON line. */
export async function durableLog(runs: number): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), 'eddy-bench-durable-log-'));
  let run = 0;
  let lastLog = '';
  let lastRaw = '';
  try {
    const append = await timeInterleaved(
      [
        {
          name: 'log',
          run: async () => {
            lastLog = join(base, `log-${++run}`);
            const log = await DurableLog.open<Click>(new FileInputLogStore(lastLog), { tailCapacity: 0 });
            let pending: Promise<number>[] = [];
            for (let i = 0; i < EVENTS; i++) {
              pending.push(log.append(event(i)));
              if (pending.length === BATCH) {
                await Promise.all(pending);
                pending = [];
              }
            }
            await Promise.all(pending);
            if (log.durableOffset !== EVENTS) throw new Error(`log holds ${log.durableOffset} events, expected ${EVENTS}`);
            await log.close();
          },
        },
        {
          name: 'raw',
          run: async () => {
            lastRaw = join(base, `raw-${++run}.bin`);
            const fh = await open(lastRaw, 'a');
            for (let i = 0; i < EVENTS; i += BATCH) {
              const parts: Uint8Array[] = [];
              let total = 0;
              for (let j = i; j < Math.min(EVENTS, i + BATCH); j++) {
                const b = serializeValue(event(j));
                parts.push(b);
                total += 4 + b.byteLength;
              }
              const buf = new Uint8Array(total);
              const view = new DataView(buf.buffer);
              let at = 0;
              for (const p of parts) {
                view.setUint32(at, p.byteLength, true);
                buf.set(p, at + 4);
                at += 4 + p.byteLength;
              }
              await fh.write(buf);
              await fh.datasync();
            }
            await fh.close();
          },
        },
      ],
      runs,
    );
    const replay = await timeInterleaved(
      [
        {
          name: 'log',
          run: async () => {
            const log = await DurableLog.open<Click>(new FileInputLogStore(lastLog), { tailCapacity: 0 });
            const reader = (await log.source({ stopAtOffset: EVENTS }).createReader({ subtaskIndex: 0, parallelism: 1 })) as SourceReader<Click>;
            let n = 0;
            let last: Click | undefined;
            for (let batch = await reader.poll(BATCH); batch !== null; batch = await reader.poll(BATCH)) {
              n += batch.length;
              last = batch.at(-1) ?? last;
            }
            if (n !== EVENTS || last?.ts !== event(EVENTS - 1).ts) throw new Error(`replayed ${n} events, expected ${EVENTS}`);
            await log.close();
          },
        },
        {
          name: 'raw',
          run: async () => {
            const bytes = new Uint8Array(await readFile(lastRaw));
            const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
            let n = 0;
            let last: Click | undefined;
            for (let at = 0; at < bytes.length; ) {
              const len = view.getUint32(at, true);
              last = deserializeValue(bytes.subarray(at + 4, at + 4 + len)) as Click;
              at += 4 + len;
              n++;
            }
            if (n !== EVENTS || last?.ts !== event(EVENTS - 1).ts) throw new Error(`raw replayed ${n} events, expected ${EVENTS}`);
          },
        },
      ],
      runs,
    );
    // Latency: interleaved runs, every event of every run in the figures.
    const latency = { log: [] as number[], direct: [] as number[] };
    for (let r = 0; r < runs; r++) {
      latency.direct.push(...(await measureLatency(undefined, LATENCY_EVENTS, LATENCY_INTERVAL_MS)));
      const dir = join(base, `latency-${r}`);
      latency.log.push(...(await measureLatency(() => DurableLog.open(new FileInputLogStore(dir)), LATENCY_EVENTS, LATENCY_INTERVAL_MS)));
    }
    const perSec = (ms: number) => round(EVENTS / (ms / 1000), 0);
    const [appendLog, appendRaw] = append;
    const [replayLog, replayRaw] = replay;
    const ratio = round(appendLog!.medianMs > 0 ? appendRaw!.medianMs / appendLog!.medianMs : 0);
    const replayRatio = round(replayRaw!.medianMs / replayLog!.medianMs);
    report({
      bench: 'durable-log',
      events: EVENTS,
      batch: BATCH,
      appendEventsPerSec: perSec(appendLog!.medianMs),
      rawAppendEventsPerSec: perSec(appendRaw!.medianMs),
      ratio,
      replayEventsPerSec: perSec(replayLog!.medianMs),
      rawReplayEventsPerSec: perSec(replayRaw!.medianMs),
      replayRatio,
      floor: `ratio >= ${FLOOR} and replayRatio >= ${FLOOR}`,
      pass: ratio >= FLOOR && replayRatio >= FLOOR,
      latency: { ...latencySummary(latency.log, latency.direct, LATENCY_INTERVAL_MS), baseline: LATENCY_BASELINE },
      appendMs: { log: appendLog!.ms, raw: appendRaw!.ms },
      replayMs: { log: replayLog!.ms, raw: replayRaw!.ms },
    });
  } finally {
    await rm(base, { recursive: true, force: true });
  }
  await chromiumSide(runs);
}

const BROWSER_EVENTS = Number(process.env.DURABLE_LOG_BROWSER_EVENTS ?? 20_000);

/** IndexedDB in Chromium: the log vs raw strict transactions of 1,000 puts; one JSON line. */
async function chromiumSide(runs: number): Promise<void> {
  const session = await openChromium(['--js-flags=--expose-gc']);
  try {
    const { page, origin } = session;
    await page.goto(`${origin}/bench/browser/log.html`);
    await page.waitForFunction(() => 'runLogBench' in globalThis, undefined, { timeout: 60_000 });
    type Ms = Record<'log' | 'raw' | 'opfsLog' | 'opfsRaw', number[]>;
    const ms = (await page.evaluate((c) => (globalThis as unknown as { runLogBench(c: LogBenchConfig): Promise<Ms> }).runLogBench(c), {
      events: BROWSER_EVENTS,
      runs,
    })) as Ms;
    type Lat = Record<'direct' | 'indexeddb' | 'opfs', number[]>;
    const lat = (await page.evaluate((c) => (globalThis as unknown as { runLatencyBench(c: LatencyConfig): Promise<Lat> }).runLatencyBench(c), {
      events: LATENCY_EVENTS,
      intervalMs: LATENCY_INTERVAL_MS,
      runs,
    })) as Lat;
    const eps = (xs: number[]) => round(BROWSER_EVENTS / (median(xs) / 1000), 0);
    const ratio = round(median(ms.raw) / median(ms.log));
    report({
      bench: 'durable-log',
      store: 'IndexedDbInputLogStore, Chromium (installed, headless), main thread',
      events: BROWSER_EVENTS,
      batch: BATCH,
      appendEventsPerSec: eps(ms.log),
      rawAppendEventsPerSec: eps(ms.raw),
      baseline: 'the same encoded events put into an object store, 1,000 per strict readwrite transaction',
      ratio,
      floor: `ratio >= ${FLOOR}`,
      pass: ratio >= FLOOR,
      latency: { ...latencySummary(lat.indexeddb, lat.direct, LATENCY_INTERVAL_MS), baseline: LATENCY_BASELINE },
      logMs: ms.log.map((x) => round(x, 1)),
      rawMs: ms.raw.map((x) => round(x, 1)),
    });
    const opfsRatio = round(median(ms.opfsRaw) / median(ms.opfsLog));
    report({
      bench: 'durable-log',
      store: 'OpfsInputLogStore, Chromium (installed, headless), main thread',
      events: BROWSER_EVENTS,
      batch: BATCH,
      appendEventsPerSec: eps(ms.opfsLog),
      rawAppendEventsPerSec: eps(ms.opfsRaw),
      baseline: 'the same framed bytes written as one OPFS file per 1,000 events with createWritable()',
      ratio: opfsRatio,
      floor: `ratio >= ${FLOOR}`,
      pass: opfsRatio >= FLOOR,
      latency: { ...latencySummary(lat.opfs, lat.direct, LATENCY_INTERVAL_MS), baseline: LATENCY_BASELINE },
      logMs: ms.opfsLog.map((x) => round(x, 1)),
      rawMs: ms.opfsRaw.map((x) => round(x, 1)),
    });
  } finally {
    await session.close();
  }
}
