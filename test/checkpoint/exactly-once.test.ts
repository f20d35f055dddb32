import { describe, expect, it } from 'vitest';
import {
  CheckpointingMode,
  KeyedProcessFunction,
  MapStateDescriptor,
  RestartStrategies,
  RichMapFunction,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  WatermarkStrategy,
  type Collector,
  type KeyedProcessContext,
  type MapState,
  type OnTimerContext,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import type { StateBackend } from '../../src/state/backend.ts';
import { SqliteStateBackend } from '../../src/backends/sqlite/index.ts';
import { FaultyStorage, type Faults } from '../helpers/faulty-storage.ts';
import { pacedSource } from '../helpers/sources.ts';

const RECORDS = 900;
type Ev = { key: string; ts: number; seq: number };
const event = (i: number): Ev => ({ key: `k${(i * 7) % 11}`, ts: i, seq: i });

/**
 * Throws once, at one chosen record, on the first attempt only. A class instance, so that
 * every per-subtask copy of a function shares it (plain-data fields are copied per subtask).
 */
class Trap {
  atSeq?: number;
  sprung = false;
  /** Set by the run: the storage, to count the checkpoints completed before the trap sprang. */
  storage?: FaultyStorage;
  checkpointsBefore?: number;
  constructor(atSeq?: number) {
    this.atSeq = atSeq;
  }
}

function spring(trap: Trap, seq: number): void {
  trap.sprung = true;
  trap.checkpointsBefore = trap.storage?.manifestWrites;
  throw new Error(`injected failure at record ${seq}`);
}

class RunningCount extends RichMapFunction<Ev, string> {
  private count!: ValueState<number>;
  constructor(private readonly trap: Trap) {
    super();
  }
  override open(ctx: RuntimeContext) {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
  }
  async map(e: Ev): Promise<string> {
    if (e.seq === this.trap.atSeq && !this.trap.sprung) spring(this.trap, e.seq);
    const c = ((await this.count.value()) ?? 0) + 1;
    await this.count.update(c);
    return `${e.key}:${c}`;
  }
}

/** Counts per key and 10-ms window in MapState, emitting each window once its timer fires. */
class WindowCount extends KeyedProcessFunction<string, Ev, string> {
  private windows!: MapState<number, number>;
  constructor(private readonly trap: Trap) {
    super();
  }
  override open(ctx: RuntimeContext) {
    this.windows = ctx.getMapState(new MapStateDescriptor<number, number>('windows'));
  }
  async processElement(e: Ev, ctx: KeyedProcessContext<string>) {
    if (e.seq === this.trap.atSeq && !this.trap.sprung) spring(this.trap, e.seq);
    const start = Math.floor(e.ts / 10) * 10;
    await this.windows.put(start, ((await this.windows.get(start)) ?? 0) + 1);
    ctx.timerService().registerEventTimeTimer(start + 9);
    // Some timers are deleted again (a later event of the window registers it anew), so
    // checkpoints also see timers removed between them, not only added and fired.
    if (e.seq % 5 === 0) ctx.timerService().deleteEventTimeTimer(start + 9);
  }
  override async onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>) {
    const start = ts - 9;
    out.collect(`${ctx.getCurrentKey()}@${start}:${await this.windows.get(start)}`);
    await this.windows.remove(start);
  }
}

type JobKind = 'running-count' | 'window-timers';

async function run(
  kind: JobKind,
  parallelism: number,
  trap: Trap,
  faults: Faults = {},
  mode: CheckpointingMode = CheckpointingMode.EXACTLY_ONCE,
  backend?: () => StateBackend,
  incremental = false,
): Promise<string[]> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(parallelism);
  if (backend !== undefined) env.setStateBackend(backend());
  env.enableCheckpointing(2, mode).setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 0));
  const storage = new FaultyStorage(faults);
  trap.storage = storage;
  env.getCheckpointConfig().setCheckpointStorage(storage).setMaxRetainedCheckpoints(2).enableIncrementalCheckpoints(incremental);
  const source = env.fromSource(
    pacedSource(RECORDS, event, 4),
    WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.ts),
    'events',
  );
  const keyed = source.keyBy((e) => e.key);
  const out = kind === 'running-count' ? keyed.map(new RunningCount(trap)) : keyed.process(new WindowCount(trap));
  const warn = console.warn;
  console.warn = () => {};
  try {
    return ((await out.executeAndCollect()) as string[]).sort();
  } finally {
    console.warn = warn;
  }
}

/** The failure points of one test: user-code failures spread over the records, then the first failed part writes and manifest commits. */
interface FailurePlan {
  user: number;
  parts: number;
  manifests: number;
}

/** 200 failure points: 140 user-code failures, 45 failed part writes, 15 failed manifest commits. */
const FULL_PLAN: FailurePlan = { user: 140, parts: 45, manifests: 15 };
/** 40 failure points of every family: user code at 28 records spread over the input, the first 9 part writes, the first 3 manifest commits. */
const REDUCED_PLAN: FailurePlan = { user: 28, parts: 9, manifests: 3 };
/**
 * `npm test` runs the reduced plan everywhere, to stay in its time budget; `npm run test:long`
 * (EDDY_LONG=1) runs the heap-backend tests with all 200 points.
 */
const HEAP_PLAN = process.env.EDDY_LONG === '1' ? FULL_PLAN : REDUCED_PLAN;
const pointCount = (plan: FailurePlan) => plan.user + plan.parts + plan.manifests;

function failurePoints(plan: FailurePlan): Array<{ name: string; trap: Trap; faults: Faults }> {
  const points: Array<{ name: string; trap: Trap; faults: Faults }> = [];
  for (let i = 0; i < plan.user; i++) {
    const seq = Math.floor((i * RECORDS) / plan.user) + 1;
    points.push({ name: `user code throws at record ${seq}`, trap: new Trap(seq), faults: {} });
  }
  for (let n = 1; n <= plan.parts; n++) points.push({ name: `part write #${n} fails`, trap: new Trap(), faults: { failPartWrite: n } });
  for (let n = 1; n <= plan.manifests; n++) points.push({ name: `manifest commit #${n} fails`, trap: new Trap(), faults: { failManifestWrite: n } });
  return points;
}

async function inChunks<T>(items: T[], size: number, each: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(each));
}

/**
 * Runs every failure point of `plan` against the failure-free output of the same job on
 * the same backend, and checks that each failure really happened.
 */
async function expectExactlyOnce(kind: JobKind, parallelism: number, plan: FailurePlan, backend?: () => StateBackend, incremental = false): Promise<void> {
  const baseline = new Trap();
  const expected = await run(kind, parallelism, baseline, {}, CheckpointingMode.EXACTLY_ONCE, backend);
  // The storage faults below are only real if a failure-free run writes more than that.
  expect(baseline.storage!.partWrites).toBeGreaterThan(plan.parts);
  expect(baseline.storage!.manifestWrites).toBeGreaterThan(plan.manifests);
  expect(expected.length).toBeGreaterThan(0);
  const points = failurePoints(plan);
  const mismatches: string[] = [];
  let failuresHappened = 0;
  let restoredFromCheckpoint = 0;
  let storageFaults = 0;
  await inChunks(points, 20, async (p) => {
    const got = await run(kind, parallelism, p.trap, p.faults, CheckpointingMode.EXACTLY_ONCE, backend, incremental);
    if (p.trap.sprung) failuresHappened++;
    if ((p.trap.checkpointsBefore ?? 0) > 0) restoredFromCheckpoint++;
    const st = p.trap.storage!;
    if ((p.faults.failPartWrite ?? Infinity) <= st.partWrites || (p.faults.failManifestWrite ?? Infinity) <= st.manifestWrites) storageFaults++;
    if (JSON.stringify(got) !== JSON.stringify(expected)) mismatches.push(`${p.name}: ${got.length} records, expected ${expected.length}`);
  });
  expect(mismatches).toEqual([]);
  // Every user-code trap must really have fired.
  expect(failuresHappened).toBe(plan.user);
  // And most of them must have restored from a checkpoint, not from scratch.
  expect(restoredFromCheckpoint).toBeGreaterThan(plan.user * (5 / 7));
  // Every storage fault must really have been hit.
  expect(storageFaults).toBe(plan.parts + plan.manifests);
}

describe('exactly-once under injected failures', () => {
  for (const kind of ['running-count', 'window-timers'] as const) {
    for (const parallelism of [1, 3]) {
      it(`${kind} at parallelism ${parallelism}: ${pointCount(HEAP_PLAN)} failure points give the failure-free output exactly${HEAP_PLAN === FULL_PLAN ? '' : ' (200 in npm run test:long)'}`, {
        timeout: 240_000,
      }, async () => {
        await expectExactlyOnce(kind, parallelism, HEAP_PLAN);
      });
    }
  }

  it('at-least-once mode loses nothing under failures', { timeout: 60_000 }, async () => {
    const expected = new Set(await run('running-count', 3, new Trap()));
    for (const seq of [50, 320, 610, 890]) {
      const got = new Set(await run('running-count', 3, new Trap(seq), {}, CheckpointingMode.AT_LEAST_ONCE));
      for (const e of expected) expect(got.has(e), `${e} after a failure at ${seq}`).toBe(true);
    }
  });
});

describe('exactly-once under injected failures: SqliteStateBackend', () => {
  // A reduced plan keeps npm test in its time budget: 40 points per test instead of 200.
  const plan = REDUCED_PLAN;
  const sqlite = () => new SqliteStateBackend({ vfs: 'memory', cacheBytes: 16 << 10 });
  for (const kind of ['running-count', 'window-timers'] as const) {
    for (const parallelism of [1, 3]) {
      it(`${kind} at parallelism ${parallelism}: 40 failure points (reduced from 200 for time) give the failure-free output exactly`, {
        timeout: 240_000,
      }, async () => {
        await expectExactlyOnce(kind, parallelism, plan, sqlite);
      });
    }
  }
});

describe('exactly-once under injected failures: incremental checkpoints (keyed and timer deltas)', () => {
  // Restores fold chains of keyed and timer deltas; the expected output is that of a run
  // with full checkpoints. A reduced plan: 40 points per test instead of 200.
  const plan = REDUCED_PLAN;
  for (const parallelism of [1, 3]) {
    it(`window-timers at parallelism ${parallelism}: 40 failure points (reduced from 200 for time) give the failure-free output exactly`, {
      timeout: 240_000,
    }, async () => {
      await expectExactlyOnce('window-timers', parallelism, plan, undefined, true);
    });
  }
  it('window-timers on SqliteStateBackend: 40 failure points give the failure-free output exactly', { timeout: 240_000 }, async () => {
    await expectExactlyOnce('window-timers', 3, plan, () => new SqliteStateBackend({ vfs: 'memory', cacheBytes: 16 << 10 }), true);
  });
});
