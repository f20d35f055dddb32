/**
 * S3CheckpointStorage in real headless Chromium, against the moto_server that the chromium
 * project's globalSetup started (with CORS rules exposing ETag, as the README asks of a
 * real bucket): fetch and Web Crypto only. A keyed job whose user code fails once writes
 * its checkpoints to the bucket, restores from them, and gives the failure-free output;
 * the bucket then holds its completed checkpoints, which load with verified parts.
 */
import { describe, expect, inject, it } from 'vitest';
import {
  RestartStrategies,
  RichMapFunction,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  WatermarkStrategy,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { listCompletedCheckpoints, loadCheckpoint } from '../../src/engine/checkpoint-restore.ts';
import { S3CheckpointStorage } from '../../src/storages/s3/index.ts';
import { pacedSource } from '../helpers/sources.ts';

const endpoint = inject('s3Endpoint');
const missing = inject('s3Missing');
const RECORDS = 600;
type Ev = { key: string; seq: number };

/** A class instance, not a plain object: functions are copied per subtask (plain data deeply), and every copy must see one trap. */
class Trap {
  sprung = false;
  manifestsBefore?: number;
  /** Springs at record `fromSeq`, which the source holds back until a checkpoint is committed. */
  constructor(readonly fromSeq?: number) {}
}

class RunningCount extends RichMapFunction<Ev, string> {
  private count!: ValueState<number>;
  constructor(
    private readonly trap: Trap,
    private readonly storage: CountingS3,
  ) {
    super();
  }
  override open(ctx: RuntimeContext) {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
  }
  async map(e: Ev): Promise<string> {
    if (this.trap.fromSeq !== undefined && e.seq >= this.trap.fromSeq && !this.trap.sprung && this.storage.manifests > 0) {
      this.trap.sprung = true;
      this.trap.manifestsBefore = this.storage.manifests;
      throw new Error(`injected failure at record ${e.seq}`);
    }
    const c = ((await this.count.value()) ?? 0) + 1;
    await this.count.update(c);
    return `${e.key}:${c}`;
  }
}

class CountingS3 extends S3CheckpointStorage {
  manifests = 0;
  override async put(path: string, data: Uint8Array): Promise<void> {
    await super.put(path, data);
    if (path.endsWith('/_metadata')) this.manifests++;
  }
}

let runs = 0;
async function run(trap: Trap) {
  const prefix = `chromium-${Date.now().toString(36)}-${++runs}`;
  const storage = new CountingS3({
    endpoint,
    bucket: 'browser',
    region: 'us-east-1',
    prefix,
    credentials: { accessKeyId: 'AKIABROWSERTEST00001', secretAccessKey: 'browser-test-secret' },
    retryBaseMs: 1,
  });
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
  env.enableCheckpointing(5).setRestartStrategy(RestartStrategies.fixedDelayRestart(2, 0));
  env.getCheckpointConfig().setCheckpointStorage(storage).setMaxRetainedCheckpoints(2);
  const source = env.fromSource(
    // Records from the trap's seq on wait for a committed checkpoint: a loaded machine may
    // otherwise finish the input before one commits, and the failure would never spring.
    pacedSource(
      RECORDS,
      (i): Ev => ({ key: `k${(i * 7) % 5}`, seq: i }),
      1,
      (next) => trap.fromSeq !== undefined && next >= trap.fromSeq && storage.manifests === 0,
    ),
    WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.seq),
    'events',
  );
  const out = source.keyBy((e) => e.key).map(new RunningCount(trap, storage));
  const warn = console.warn;
  console.warn = () => {};
  try {
    return { output: ((await out.executeAndCollect()) as string[]).sort(), storage };
  } finally {
    console.warn = warn;
  }
}

describe.skipIf(missing !== '')(`S3CheckpointStorage in Chromium against moto_server${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('a job whose user code fails once checkpoints to S3 from the page, restores from the bucket, and gives the failure-free output', {
    timeout: 120_000,
  }, async () => {
    const baseline = await run(new Trap());
    expect(baseline.output.length).toBe(RECORDS);
    const trap = new Trap(320);
    const failed = await run(trap);
    expect(trap.sprung).toBe(true);
    expect(trap.manifestsBefore, 'checkpoints were committed to S3 before the failure').toBeGreaterThan(0);
    expect(failed.output).toEqual(baseline.output);
    const jobDir = (await failed.storage.list('')).find((p) => p.endsWith('/_metadata'))!.split('/')[0]!;
    const dirs = await listCompletedCheckpoints(failed.storage, jobDir);
    expect(dirs.length).toBeGreaterThan(0);
    for (const dir of dirs) expect((await loadCheckpoint(failed.storage, dir)).manifest.jobId).toBe(jobDir);
  });

  // Sequential, not a race: moto (the S3 server here) checks If-None-Match and then writes
  // without a lock, so two racing creates can both win under load (moto/s3/responses.py,
  // put_object). What this pins is the browser side: fetch sends the condition through CORS
  // and a 412 becomes STORAGE_LOCKED. The race itself is tested against workerd's R2.
  it('a second writer in the page committing an existing manifest gets STORAGE_LOCKED, the first stays', async () => {
    const prefix = `race-${Date.now().toString(36)}`;
    const make = () =>
      new S3CheckpointStorage({
        endpoint,
        bucket: 'browser',
        region: 'us-east-1',
        prefix,
        credentials: { accessKeyId: 'AKIABROWSERTEST00001', secretAccessKey: 'browser-test-secret' },
      });
    const [a, b] = [make(), make()];
    await a.put('job/chk-1/_metadata', new Uint8Array([1]));
    await expect(b.put('job/chk-1/_metadata', new Uint8Array([2]))).rejects.toMatchObject({ code: 'STORAGE_LOCKED' });
    expect([...((await b.get('job/chk-1/_metadata')) ?? [])]).toEqual([1]);
  });
});
