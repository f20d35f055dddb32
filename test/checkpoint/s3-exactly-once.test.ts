/**
 * Exactly-once with checkpoints in S3 (a real moto_server): a keyed job whose user code
 * throws at chosen records, and whose storage requests meet 503s and connection resets,
 * restores from the checkpoints it wrote to the bucket and produces exactly the output of
 * a failure-free run. The pattern of `exactly-once.test.ts`, with fewer failure points
 * (each S3 checkpoint is a few dozen HTTP requests to a Python server).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CheckpointingMode,
  RestartStrategies,
  RichMapFunction,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  WatermarkStrategy,
  type RuntimeContext,
  type Source,
  type ValueState,
} from '../../src/index.ts';
import { listCompletedCheckpoints, loadCheckpoint } from '../../src/engine/checkpoint-restore.ts';
import { S3CheckpointStorage } from '../../src/storages/s3/index.ts';
import { createBucket, MOTO_CREDENTIALS, MOTO_REGION, motoMissing, startMoto, type Moto } from '../helpers/moto.ts';
import { startFaultProxy, type FaultProxy } from '../helpers/s3-fault-proxy.ts';

const missing = motoMissing();
const BUCKET = 'exactly-once';
const RECORDS = 400;
type Ev = { key: string; seq: number };
let moto: Moto | undefined;
let proxy: FaultProxy | undefined;
let runs = 0;

beforeAll(async () => {
  if (missing) return;
  moto = await startMoto();
  await createBucket(moto.endpoint, BUCKET);
  proxy = await startFaultProxy(moto.endpoint);
}, 60_000);
afterAll(async () => {
  await proxy?.close();
  await moto?.stop();
});

/** Counts committed manifests, so a test knows a failure came after some checkpoints. */
class CountingS3 extends S3CheckpointStorage {
  manifests = 0;
  override async put(path: string, data: Uint8Array): Promise<void> {
    await super.put(path, data);
    if (path.endsWith('/_metadata')) this.manifests++;
  }
}

/** A replayable source slow enough (a few ms per two records) that S3 checkpoints land in the middle of it. */
function slowSource(): Source<Ev> {
  return {
    boundedness: 'bounded',
    replayable: true,
    createReader({ subtaskIndex, parallelism }) {
      let split = { next: Math.floor((RECORDS * subtaskIndex) / parallelism), end: Math.floor((RECORDS * (subtaskIndex + 1)) / parallelism) };
      return {
        async poll() {
          await new Promise((r) => setTimeout(r, 4));
          if (split.next >= split.end) return null;
          const n = Math.min(2, split.end - split.next);
          const out = Array.from({ length: n }, (_, j) => ({ key: `k${((split.next + j) * 7) % 11}`, seq: split.next + j }));
          split.next += n;
          return out;
        },
        snapshotSplits: () => (split.next < split.end ? [{ ...split }] : []),
        restoreSplits(restored) {
          const s = (restored as Array<{ next: number; end: number }>)[0];
          split = s ? { ...s } : { next: 0, end: 0 };
        },
      };
    },
  };
}

/** A class instance, not a plain object: functions are copied per subtask (plain data deeply), and every copy must see one trap. */
class Trap {
  sprung = false;
  manifestsBefore?: number;
  storage?: CountingS3;
  constructor(readonly atSeq?: number) {}
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
    if (e.seq === this.trap.atSeq && !this.trap.sprung) {
      this.trap.sprung = true;
      this.trap.manifestsBefore = this.trap.storage?.manifests;
      throw new Error(`injected failure at record ${e.seq}`);
    }
    const c = ((await this.count.value()) ?? 0) + 1;
    await this.count.update(c);
    return `${e.key}:${c}`;
  }
}

async function run(trap: Trap, viaProxy = false): Promise<{ output: string[]; storage: CountingS3 }> {
  const storage = new CountingS3({
    endpoint: viaProxy ? proxy!.endpoint : moto!.endpoint,
    bucket: BUCKET,
    region: MOTO_REGION,
    prefix: `run-${++runs}`,
    credentials: MOTO_CREDENTIALS,
    retryBaseMs: 1,
  });
  trap.storage = storage;
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
  env.enableCheckpointing(5, CheckpointingMode.EXACTLY_ONCE).setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 0));
  env.getCheckpointConfig().setCheckpointStorage(storage).setMaxRetainedCheckpoints(2);
  const source = env.fromSource(
    slowSource(),
    WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.seq),
    'events',
  );
  const out = source.keyBy((e) => e.key).map(new RunningCount(trap));
  const warn = console.warn;
  console.warn = () => {};
  try {
    return { output: ((await out.executeAndCollect()) as string[]).sort(), storage };
  } finally {
    console.warn = warn;
  }
}

describe.skipIf(missing !== undefined)(`exactly-once with checkpoints in S3 (moto_server)${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('user-code failures at 6 points and 503s/resets on storage requests give the failure-free output exactly, restoring from S3 checkpoints', {
    timeout: 300_000,
  }, async () => {
    const baseline = await run(new Trap());
    expect(baseline.output.length).toBe(RECORDS);
    expect(baseline.storage.manifests).toBeGreaterThan(3);
    const mismatches: string[] = [];
    let restoredFromCheckpoint = 0;
    for (const seq of [90, 150, 210, 270, 330, 390]) {
      const trap = new Trap(seq);
      const { output } = await run(trap);
      expect(trap.sprung, `the trap at ${seq} fired`).toBe(true);
      if ((trap.manifestsBefore ?? 0) > 0) restoredFromCheckpoint++;
      if (JSON.stringify(output) !== JSON.stringify(baseline.output)) mismatches.push(`failure at ${seq}: ${output.length} records`);
    }
    // Storage trouble on top of a user failure: every 4th request through the proxy fails once (503 or a reset).
    let n = 0;
    proxy!.plan = (method) => (method !== 'GET' && ++n % 4 === 0 ? (n % 8 === 0 ? 'reset-before' : { status: 503, code: 'SlowDown' }) : 'pass');
    const trap = new Trap(250);
    const faulty = await run(trap, true);
    proxy!.plan = () => 'pass';
    expect(trap.sprung).toBe(true);
    expect(proxy!.seen.filter((r) => r.fate !== 'pass').length).toBeGreaterThan(5);
    if (JSON.stringify(faulty.output) !== JSON.stringify(baseline.output))
      mismatches.push(`failure at 250 with storage faults: ${faulty.output.length} records`);
    expect(mismatches).toEqual([]);
    expect(restoredFromCheckpoint).toBeGreaterThanOrEqual(5);
    // Retention deleted old checkpoints but nothing a retained one needs: each still loads, parts verified.
    const dirs = await listCompletedCheckpoints(faulty.storage, (await faulty.storage.list('')).find((p) => p.endsWith('/_metadata'))!.split('/')[0]!);
    expect(dirs.length).toBeGreaterThan(0);
    expect(dirs.length).toBeLessThanOrEqual(2);
    for (const dir of dirs) await loadCheckpoint(faulty.storage, dir);
  });
});
