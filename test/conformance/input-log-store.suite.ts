/**
 * The input-log-store conformance suite: every `InputLogStore` (memory, file, IndexedDB)
 * runs it unchanged, in one line:
 *
 *   inputLogStoreSuite('memory', (name) => new MemoryInputLogStore(name));
 *
 * `make(name)` must return a store of the log `name`; two stores made with the same name
 * are two writers of one log (as two tabs or processes would be). Every test uses a fresh
 * name. Imports nothing platform-specific, so the same file runs in Node and a browser.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EddyError } from '../../src/api/errors.ts';
import type { InputLogStore } from '../../src/format/input-log-store.ts';

const RUN_ID = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
let counter = 0;

function bytes(i: number, length = 1 + (i % 37)): Uint8Array {
  const b = new Uint8Array(length);
  for (let k = 0; k < length; k++) b[k] = (i * 31 + k * 7) & 0xff;
  return b;
}

/** Runs the suite against stores made by `make`. */
export function inputLogStoreSuite(label: string, make: (name: string) => InputLogStore | Promise<InputLogStore>): void {
  describe(`input-log store conformance: ${label}`, () => {
    const opened: InputLogStore[] = [];
    const fresh = () => `log-${RUN_ID}-${++counter}`;
    async function store(name: string): Promise<InputLogStore> {
      const s = await make(name);
      opened.push(s);
      return s;
    }
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
    });

    it('a new log is empty at offset 0', async () => {
      const s = await store(fresh());
      expect(await s.open()).toEqual({ first: 0, next: 0 });
      expect(await s.read(0, 10)).toEqual([]);
    });

    it('reads back appended entries in order, from any offset, up to max', async () => {
      const s = await store(fresh());
      await s.open();
      await s.append(0, [bytes(0), bytes(1), bytes(2)]);
      await s.append(3, [bytes(3)]);
      await s.append(4, []);
      expect(await s.read(0, 10)).toEqual([bytes(0), bytes(1), bytes(2), bytes(3)]);
      expect(await s.read(1, 2)).toEqual([bytes(1), bytes(2)]);
      expect(await s.read(4, 5)).toEqual([]);
    });

    it('copies: changing an appended or read buffer changes nothing stored', async () => {
      const s = await store(fresh());
      await s.open();
      const b = bytes(5);
      await s.append(0, [b]);
      b[0] ^= 0xff;
      const [r] = await s.read(0, 1);
      r![1] ^= 0xff;
      expect(await s.read(0, 1)).toEqual([bytes(5)]);
    });

    it('keeps entries of every size, the empty one included', async () => {
      const s = await store(fresh());
      await s.open();
      const entries = [new Uint8Array(0), bytes(1, 1), bytes(2, 70_000), bytes(3, 3)];
      await s.append(0, entries);
      expect(await s.read(0, 10)).toEqual(entries);
    });

    it('reopening finds the same entries and bounds (durable across close)', async () => {
      const name = fresh();
      const a = await store(name);
      await a.open();
      await a.append(0, [bytes(0), bytes(1), bytes(2), bytes(3)]);
      await a.truncate(2);
      await a.close();
      const b = await store(name);
      expect(await b.open()).toEqual({ first: 2, next: 4 });
      expect(await b.read(2, 10)).toEqual([bytes(2), bytes(3)]);
      await b.append(4, [bytes(4)]);
      expect(await b.read(3, 10)).toEqual([bytes(3), bytes(4)]);
    });

    it('truncation drops entries before the offset, never moves back, and may reach the end', async () => {
      const name = fresh();
      const s = await store(name);
      await s.open();
      await s.append(
        0,
        Array.from({ length: 10 }, (_, i) => bytes(i)),
      );
      await s.truncate(4);
      expect(await s.read(4, 2)).toEqual([bytes(4), bytes(5)]);
      await s.truncate(2);
      await s.truncate(10);
      await s.append(10, [bytes(10)]);
      expect(await s.read(10, 5)).toEqual([bytes(10)]);
      await s.close();
      const again = await store(name);
      expect(await again.open()).toEqual({ first: 10, next: 11 });
      expect(await again.read(10, 5)).toEqual([bytes(10)]);
    });

    it('many appends keep their order and offsets', async () => {
      const s = await store(fresh());
      await s.open();
      for (let round = 0; round < 50; round++)
        await s.append(
          round * 20,
          Array.from({ length: 20 }, (_, i) => bytes(round * 20 + i)),
        );
      const all = await s.read(0, 2000);
      expect(all).toHaveLength(1000);
      expect(all[0]).toEqual(bytes(0));
      expect(all[999]).toEqual(bytes(999));
      expect(await s.read(517, 3)).toEqual([bytes(517), bytes(518), bytes(519)]);
    });

    it('a second writer of the same log is refused with STORAGE_LOCKED until the first closes', async () => {
      const name = fresh();
      const first = await store(name);
      await first.open();
      const second = await store(name);
      const refused = await second.open().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(EddyError);
      expect((refused as EddyError).code).toBe('STORAGE_LOCKED');
      expect((refused as EddyError).message).toContain(name);
      await first.close();
      expect(await second.open()).toEqual({ first: 0, next: 0 });
    });

    it('refuses an append at the wrong offset', async () => {
      const s = await store(fresh());
      await s.open();
      await s.append(0, [bytes(0)]);
      await expect(s.append(5, [bytes(5)])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(await s.read(0, 10)).toEqual([bytes(0)]);
    });
  });
}
