import { describe, expect, it } from 'vitest';
import { StreamExecutionEnvironment } from '../../src/index.ts';
import { MemoryCheckpointStorage } from '../../src/storages/memory.ts';

/** The id a job of this name runs under (read from a JobClient). */
async function idOf(name: string): Promise<string> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  env.fromElements(1).addSink(() => {});
  const client = await env.executeAsync(name);
  await client.result;
  return client.jobId;
}

describe('job ids', () => {
  it('names that differ only in case or punctuation get different ids', async () => {
    const names = ['Orders!', 'orders?', 'orders', 'ORDERS', 'orders-', 'or ders', 'or-ders', 'or--ders', '!!!', '???', ''];
    const ids = await Promise.all(names.map(idOf));
    expect(new Set(ids).size).toBe(names.length);
  });

  it('ids are safe path segments and object keys (no separators, no dots alone, bounded length)', async () => {
    for (const name of ['Orders!', '../../etc/passwd', 'a/b\\c', '.', '..', 'x'.repeat(500), 'Ünïcödé 日本', 'con']) {
      const id = await idOf(name);
      expect(id, name).toMatch(/^[a-z0-9][a-z0-9._-]*$/);
      expect(id, name).not.toMatch(/^\.+$/);
      expect(id.length, name).toBeLessThanOrEqual(100);
    }
  });

  it('the same name always gives the same id, and a simple lowercase name is its own id (existing checkpoints stay findable)', async () => {
    expect(await idOf('Orders!')).toBe(await idOf('Orders!'));
    expect(await idOf('orders')).toBe('orders');
    expect(await idOf('word-count.v2')).toBe('word-count.v2');
  });

  it('two jobs whose names differ only in punctuation do not share checkpoints or a lock', async () => {
    const storage = new MemoryCheckpointStorage();
    const start = (name: string) => {
      const env = StreamExecutionEnvironment.getExecutionEnvironment();
      env.enableCheckpointing(1000).getCheckpointConfig().setCheckpointStorage(storage);
      env.fromElements(1, 2, 3).addSink(() => {});
      return env.executeAsync(name);
    };
    const a = await start('Orders!');
    const b = await start('orders?');
    await expect(Promise.all([a.result, b.result])).resolves.toBeDefined();
    expect(a.jobId).not.toBe(b.jobId);
  });
});
