/**
 * The OPFS checkpoint storage in real Chromium (main thread, createWritable): the storage
 * conformance suite unchanged. Two instances share the OPFS of the origin, as two tabs do.
 */
import { describe, expect, it } from 'vitest';
import { EddyError } from '../../src/api/errors.ts';
import { OpfsCheckpointStorage } from '../../src/storages/opfs.ts';
import { checkpointStorageSuite } from '../conformance/checkpoint-storage.suite.ts';

checkpointStorageSuite('opfs (chromium)', () => new OpfsCheckpointStorage({ directory: 'eddy-conformance' }), { sharedBetweenInstances: true });

describe('OpfsCheckpointStorage specifics', () => {
  const scope = () => `opfs-specific-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

  it("with { lock: 'wait' } a second lock() waits for the release instead of failing", async () => {
    const s = scope();
    const storage = new OpfsCheckpointStorage({ directory: 'eddy-specific', lock: 'wait' });
    const first = await storage.lock(s);
    let second: { release(): Promise<void> } | undefined;
    const pending = storage.lock(s).then((l) => (second = l));
    await new Promise((r) => setTimeout(r, 100));
    expect(second).toBeUndefined();
    await first.release();
    await pending;
    expect(second).toBeDefined();
    await second!.release();
  });

  it('a new object whose write dies before close() does not exist afterwards: no empty file is left under its name', async () => {
    const storage = new OpfsCheckpointStorage({ directory: 'eddy-specific' });
    const dir = scope();
    const proto = FileSystemWritableFileStream.prototype;
    const close = proto.close;
    proto.close = () => Promise.reject(new DOMException('the tab died (simulated)', 'AbortError'));
    try {
      const e = await storage.put(`${dir}/_metadata`, new Uint8Array([1, 2, 3])).catch((x: unknown) => x);
      expect((e as EddyError).code).toBe('STORAGE_FAILURE');
    } finally {
      proto.close = close;
    }
    expect(await storage.get(`${dir}/_metadata`)).toBeUndefined();
    expect(await storage.list(`${dir}/`)).toEqual([]);
  });

  it('a put that cannot fit by navigator.storage.estimate() fails with STORAGE_FULL before writing anything', async () => {
    const storage = new OpfsCheckpointStorage({ directory: 'eddy-specific' });
    const path = `${scope()}/big`;
    const original = navigator.storage.estimate;
    navigator.storage.estimate = async () => ({ quota: 10 * 1024 * 1024, usage: 9 * 1024 * 1024 });
    try {
      const e = await storage.put(path, new Uint8Array(2 * 1024 * 1024)).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(EddyError);
      expect((e as EddyError).code).toBe('STORAGE_FULL');
      expect((e as EddyError).message).toMatch(/\[storage:opfs\].*needs 2097152 bytes/);
    } finally {
      navigator.storage.estimate = original;
    }
    expect(await storage.get(path)).toBeUndefined();
  });
});
