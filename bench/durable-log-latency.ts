/**
 * The end-to-end latency the durable input log adds (the `durable-log` bench, Node and
 * Chromium): one event every `intervalMs` from a producer into a keyed job (count per
 * key), from the moment the producer hands the event over to the moment the job's sink
 * receives its result. With the log, handing over is `log.append()` (the job reads the
 * log: the event waits for its group-committed write and the source's wake-up); the
 * baseline dispatches the same event on an `EventTarget` read by `EventTargetSource`.
 * Both jobs checkpoint every 100 ms to memory. Platform-free: runs in Node and in a page.
 */
import type { DurableLog } from '../src/engine/input-log/durable-log.ts';
import {
  EventTargetSource,
  MemoryCheckpointStorage,
  RichMapFunction,
  type RuntimeContext,
  type Source,
  StreamExecutionEnvironment,
  type ValueState,
  ValueStateDescriptor,
} from '../src/index.ts';

interface Tick {
  i: number;
  k: string;
}

/** Counts per key in keyed state (the work of a small real job) and passes the event's number on. */
class CountPerKey extends RichMapFunction<Tick, number> {
  private count!: ValueState<number>;
  override open(ctx: RuntimeContext) {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
  }
  async map(t: Tick) {
    await this.count.update(((await this.count.value()) ?? 0) + 1);
    return t.i;
  }
}

/** An EventTarget that says when the source listens, so that no event is sent before. */
class Ticks extends EventTarget {
  listening = false;
  override addEventListener(...args: Parameters<EventTarget['addEventListener']>): void {
    if (args[0] === 'tick') this.listening = true;
    super.addEventListener(...args);
  }
}

/** Latencies (ms) of `events` events, one every `intervalMs`, through the log (`open` given) or straight from an EventTarget. */
export async function measureLatency(open: (() => Promise<DurableLog<Tick>>) | undefined, events: number, intervalMs: number): Promise<number[]> {
  const sentAt = new Array<number>(events);
  const latencies: number[] = [];
  const log = open ? await open() : undefined;
  const target = new Ticks();
  const source: Source<Tick> = log
    ? log.source({ stopAtOffset: log.nextOffset + events })
    : new EventTargetSource<Event, Tick>(target, 'tick', { map: (e) => (e as CustomEvent<Tick>).detail, endOn: 'done' });
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
  env.enableCheckpointing(100).getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
  env
    .fromSource(source, undefined, 'ticks')
    .keyBy((t) => t.k)
    .map(new CountPerKey())
    .addSink((i: number) => void latencies.push(performance.now() - sentAt[i]!));
  const job = env.execute('latency');
  if (!log) while (!target.listening) await new Promise((r) => setTimeout(r, 1));
  else await new Promise((r) => setTimeout(r, 20));
  for (let i = 0; i < events; i++) {
    const t: Tick = { i, k: `user-${i % 100}` };
    sentAt[i] = performance.now();
    if (log) void log.append(t);
    else target.dispatchEvent(new CustomEvent('tick', { detail: t }));
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  target.dispatchEvent(new Event('done'));
  await job;
  await log?.close();
  if (latencies.length !== events) throw new Error(`the job delivered ${latencies.length} of ${events} events`);
  return latencies;
}

/** The `q` quantile (0 … 1) of `xs`. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
}

/** What the bench prints about latency: medians and 95th percentiles (ms), the added median, and log ÷ baseline. */
export function latencySummary(log: readonly number[], direct: readonly number[], intervalMs: number) {
  const r = (x: number) => Math.round(x * 100) / 100;
  const logMedian = quantile(log, 0.5);
  const directMedian = quantile(direct, 0.5);
  return {
    events: log.length,
    intervalMs,
    logMedianMs: r(logMedian),
    baselineMedianMs: r(directMedian),
    addedMedianMs: r(logMedian - directMedian),
    logP95Ms: r(quantile(log, 0.95)),
    baselineP95Ms: r(quantile(direct, 0.95)),
    addedP95Ms: r(quantile(log, 0.95) - quantile(direct, 0.95)),
    ratio: r(logMedian / directMedian),
  };
}
