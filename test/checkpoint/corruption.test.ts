import { describe, expect, it } from 'vitest';
import { SnapshotError, StreamExecutionEnvironment, ValueStateDescriptor, RichMapFunction, type RuntimeContext, type ValueState } from '../../src/index.ts';
import { listCompletedCheckpoints, loadCheckpoint, loadNewestIntact } from '../../src/engine/checkpoint-restore.ts';
import { MemoryCheckpointStorage } from '../../src/storages/memory.ts';
import { pacedSource } from '../helpers/sources.ts';

class Count extends RichMapFunction<number, number> {
  private c!: ValueState<number>;
  override open(ctx: RuntimeContext) {
    this.c = ctx.getState(new ValueStateDescriptor<number>('c'));
  }
  async map(v: number) {
    const n = ((await this.c.value()) ?? 0) + 1;
    await this.c.update(n);
    return v;
  }
}

/** A storage holding at least two complete checkpoints of a small keyed job. */
async function storageWithCheckpoints(): Promise<{ storage: MemoryCheckpointStorage; dirs: string[] }> {
  const storage = new MemoryCheckpointStorage();
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
  env.enableCheckpointing(2).getCheckpointConfig().setCheckpointStorage(storage).setMaxRetainedCheckpoints(2);
  await env
    .fromSource(
      pacedSource(300, (i) => i, 3),
      undefined,
      'numbers',
    )
    .keyBy((i) => i % 17)
    .map(new Count())
    .executeAndCollect('corruption-job');
  const dirs = await listCompletedCheckpoints(storage, 'corruption-job');
  return { storage, dirs };
}

/** Positions to damage: every byte of a small file, 64 spread over a large one. */
function positions(length: number): number[] {
  if (length <= 4096) return Array.from({ length }, (_, i) => i);
  return Array.from({ length: 64 }, (_, i) => Math.floor((i * (length - 1)) / 63));
}

describe('corrupted and truncated checkpoints', () => {
  it('every flipped byte and every truncation of every file of a checkpoint is detected', async () => {
    const { storage, dirs } = await storageWithCheckpoints();
    expect(dirs.length).toBe(2);
    const latest = dirs[0];
    await expect(loadCheckpoint(storage, latest)).resolves.toBeDefined();
    const files = (await storage.list(`${latest}/`)).filter((p) => !p.endsWith('.lock'));
    expect(files.length).toBeGreaterThan(3);
    let damaged = 0;
    for (const file of files) {
      const original = (await storage.get(file))!;
      const variants: Uint8Array[] = [];
      for (const at of positions(original.length)) {
        const flipped = original.slice();
        flipped[at] ^= 0x5a;
        variants.push(flipped);
      }
      for (const keep of [0, 1, 9, Math.floor(original.length / 2), original.length - 1]) variants.push(original.slice(0, keep));
      for (const bad of variants) {
        await storage.put(file, bad);
        const error = await loadCheckpoint(storage, latest).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, `${file} damaged`).toBeInstanceOf(SnapshotError);
        damaged++;
      }
      await storage.put(file, original);
    }
    expect(damaged).toBeGreaterThan(100);
  });

  it('restore falls back to the previous complete checkpoint and says so', async () => {
    const { storage, dirs } = await storageWithCheckpoints();
    const [latest, previous] = dirs;
    const part = (await storage.list(`${latest}/`)).find((p) => !p.endsWith('_metadata'))!;
    const bytes = (await storage.get(part))!;
    await storage.put(part, bytes.slice(0, bytes.length - 3));
    const warnings: string[] = [];
    const loaded = await loadNewestIntact(storage, dirs, (m) => warnings.push(m));
    expect(loaded?.path).toBe(previous);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(latest);
    expect(warnings[0]).toContain('falling back');
  });

  it('a checkpoint directory without a manifest (crash before the commit) is not a checkpoint', async () => {
    const { storage, dirs } = await storageWithCheckpoints();
    await storage.delete(`${dirs[0]}/_metadata`);
    expect(await listCompletedCheckpoints(storage, 'corruption-job')).toEqual([dirs[1]]);
    await expect(loadCheckpoint(storage, dirs[0])).rejects.toMatchObject({ code: 'SNAPSHOT_CORRUPT' });
  });
});
