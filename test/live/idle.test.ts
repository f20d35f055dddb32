/** A live source that waits for input blocks no checkpoint, and an idle one holds back no event time. */
import { describe, expect, it } from 'vitest';
import {
  EventTargetSource,
  MemoryCheckpointStorage,
  StreamExecutionEnvironment,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  type Source,
} from '../../src/index.ts';
import { TrackedTarget, until } from './helpers.ts';

interface Tick {
  readonly key: string;
  readonly ts: number;
}

describe('an unbounded source waiting for input', () => {
  it('does not block checkpoints: several complete while no event comes, then the events still flow', async () => {
    const target = new TrackedTarget();
    const completed: number[] = [];
    const seen: number[] = [];
    const e = StreamExecutionEnvironment.getExecutionEnvironment().enableCheckpointing(30);
    e.getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
    e.fromSource(new EventTargetSource<CustomEvent<number>, number>(target, 'n', { map: (ev) => ev.detail, endOn: 'end' }), undefined, 'quiet')
      .map({ map: (v: number) => v, notifyCheckpointComplete: (id: number) => void completed.push(id) })
      .addSink((v: number) => void seen.push(v));
    const client = await e.executeAsync('quiet-source');
    await until(() => target.listeners === 2, 'the source to listen');
    await until(() => completed.length >= 3, 'three checkpoints while the source waits', 5_000);
    expect(seen).toEqual([]);
    target.emit('n', 7);
    target.emit('end');
    await client.result;
    expect(seen).toEqual([7]);
  });

  it('a reader without isAvailable (returning [] while waiting) does not block checkpoints either', async () => {
    let release = false;
    const completed: number[] = [];
    const source: Source<number> = {
      boundedness: 'unbounded',
      createReader: () => ({ poll: () => (release ? null : []) }),
    };
    const e = StreamExecutionEnvironment.getExecutionEnvironment().enableCheckpointing(30);
    e.getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
    e.fromSource(source, undefined, 'empty').addSink({ invoke() {}, notifyCheckpointComplete: (id: number) => void completed.push(id) });
    const client = await e.executeAsync('empty-polls');
    await until(() => completed.length >= 2, 'two checkpoints', 5_000);
    release = true;
    await client.result;
  });
});

describe('WatermarkStrategy.withIdleness', () => {
  /**
   * Two live sources feed event-time windows of 100 ms; only `active` gets events (up to
   * ts 250), `quiet` gets none. Returns the windows that fired while both still ran.
   */
  async function windowsWhileOneIsQuiet(quietStrategy: WatermarkStrategy<Tick>): Promise<string[]> {
    const active = new TrackedTarget();
    const quiet = new TrackedTarget();
    const fired: string[] = [];
    const strategy = WatermarkStrategy.forMonotonousTimestamps<Tick>().withTimestampAssigner((t) => t.ts);
    const e = StreamExecutionEnvironment.getExecutionEnvironment();
    const a = e.fromSource(new EventTargetSource<CustomEvent<Tick>, Tick>(active, 't', { map: (ev) => ev.detail, endOn: 'end' }), strategy, 'active');
    const q = e.fromSource(new EventTargetSource<CustomEvent<Tick>, Tick>(quiet, 't', { map: (ev) => ev.detail, endOn: 'end' }), quietStrategy, 'quiet');
    a.union(q)
      .keyBy((t) => t.key)
      .window(TumblingEventTimeWindows.of(100))
      .process<string>({
        process(key, ctx, elements, out) {
          out.collect(`${key}@${ctx.window().getStart()}:${[...elements].length}`);
        },
      })
      .addSink((s: string) => void fired.push(s));
    const client = await e.executeAsync('idleness');
    await until(() => active.listeners === 2 && quiet.listeners === 2, 'both sources to listen');
    for (const ts of [10, 20, 120, 250]) active.emit('t', { key: 'k', ts });
    // Long enough for the idleness timeout (50 ms) and a watermark interval (200 ms).
    await new Promise((r) => setTimeout(r, 600));
    const whileRunning = [...fired];
    active.emit('end');
    quiet.emit('end');
    await client.result;
    // At the end every window fires in both cases.
    expect(fired).toEqual(['k@0:2', 'k@100:1', 'k@200:1']);
    return whileRunning;
  }

  it('a quiet source marked idle lets the windows of the other fire while it stays quiet', async () => {
    const idle = WatermarkStrategy.forMonotonousTimestamps<Tick>()
      .withTimestampAssigner((t) => t.ts)
      .withIdleness(50);
    expect(await windowsWhileOneIsQuiet(idle)).toEqual(['k@0:2', 'k@100:1']);
  });

  it('without withIdleness the quiet source holds event time back (Flink behaves the same)', async () => {
    const plain = WatermarkStrategy.forMonotonousTimestamps<Tick>().withTimestampAssigner((t) => t.ts);
    expect(await windowsWhileOneIsQuiet(plain)).toEqual([]);
  });

  it('refuses a non-positive timeout', () => {
    expect(() => WatermarkStrategy.forMonotonousTimestamps().withIdleness(0)).toThrow(/withIdleness\(\) takes a positive number of ms/);
  });
});
