/**
 * The checkpoint-storage conformance suite (DESIGN §2, decision 8). Every
 * `CheckpointStorage` — memory, filesystem, OPFS, S3-compatible, R2; in Node, Deno, a
 * browser or the edge — must pass it unchanged, and a storage's test file runs it in one
 * line:
 *
 *   checkpointStorageSuite('memory', () => new MemoryCheckpointStorage());
 *
 * `make()` is called before every test. Every test works below its own fresh prefix
 * (and lock scope), so a persistent storage (a directory, a bucket, OPFS) may hand out
 * the same place each time and never meets another test's — or an earlier run's —
 * objects. The suite imports nothing platform-specific (no `node:`, no DOM), so the same
 * file runs in every runtime.
 *
 * Behaviour it pins beyond the JSDoc of the contract:
 * - `list(prefix)` is a plain string prefix over whole paths (`"a/b"` lists `a/b`,
 *   `a/b/x` and `a/bc/x`; end the prefix with `/` for "inside a directory"), sorted by
 *   UTF-16 code unit — which, for the ASCII that `checkPath` allows, is byte order;
 * - an empty object is an object (`get` → empty array, `list` shows it);
 * - `put` and `get` copy: the caller's buffer and the stored object are independent;
 * - locks are advisory and per scope: a scope held by anyone — this handle included —
 *   is refused with `STORAGE_LOCKED` until released; `release()` is idempotent and an old
 *   handle's `release()` never frees a newer holder; no lock artefact is ever listed;
 * - an invalid path or scope is refused with an EddyError of code `INVALID_ARGUMENT`.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { EddyError, type EddyErrorCode } from '../../src/api/errors.ts';
import type { CheckpointStorage } from '../../src/format/checkpoint-storage.ts';

/** A size or count a storage lowers, with the reason (shown in the test name). */
export interface ReducedCase {
  readonly value: number;
  readonly reason: string;
}

/** What a storage declares about itself; the suite adapts, and says so in test names. */
export interface CheckpointStorageCapabilities {
  /** Bytes of the large-object case instead of 64 MiB (e.g. an emulator or a slow browser storage). */
  largeObject?: ReducedCase;
  /** Objects in the many-objects case instead of 1,000. */
  manyObjects?: ReducedCase;
  /**
   * Two storages from `make()` share one place (a directory, a bucket) — as two
   * processes would: then the suite also checks that one sees the other's objects and
   * that a lock held through one refuses the other. Memory storages are separate worlds.
   */
  sharedBetweenInstances?: boolean;
  /**
   * Why the server under test cannot decide racing conditional writes (e.g. an emulator
   * that checks the precondition and then writes without a lock): the concurrent-lock race
   * is then skipped, saying so. Real servers are atomic here; leave it unset for them.
   */
  racyConditionalWrites?: string;
}

const MiB = 1024 * 1024;
const RUN_ID = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
let testCounter = 0;

/**
 * Bytes where position and version both matter, so a shifted, truncated or mixed copy
 * never passes: a pseudo-random block of odd length, repeated with each copy stamped
 * with its index (cheap even for 64 MiB).
 */
function pattern(length: number, seed: number): Uint8Array {
  const BLOCK = 65_533;
  const block = new Uint8Array(Math.min(length, BLOCK));
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < block.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    block[i] = x & 0xff;
  }
  if (length <= BLOCK) return block;
  const out = new Uint8Array(length);
  for (let at = 0, n = 0; at < length; at += BLOCK, n++) {
    out.set(block.subarray(0, Math.min(BLOCK, length - at)), at);
    for (let k = 0; k < 4 && at + k < length; k++) out[at + k] = (n >>> (8 * k)) & 0xff;
  }
  return out;
}

/** Byte equality without toEqual, whose diffing is far too slow for 64 MiB; compares words where aligned. */
function sameBytes(actual: Uint8Array | undefined, expected: Uint8Array): boolean {
  if (actual === undefined || actual.byteLength !== expected.byteLength) return false;
  let i = 0;
  if (actual.byteOffset % 4 === 0 && expected.byteOffset % 4 === 0) {
    const words = expected.byteLength >>> 2;
    const a = new Uint32Array(actual.buffer, actual.byteOffset, words);
    const e = new Uint32Array(expected.buffer, expected.byteOffset, words);
    for (; i < words; i++) if (a[i] !== e[i]) return false;
    i = words * 4;
  }
  for (; i < expected.byteLength; i++) if (actual[i] !== expected[i]) return false;
  return true;
}

function describeBytes(bytes: Uint8Array | undefined): string {
  return bytes === undefined ? 'undefined' : `${bytes.byteLength} bytes starting ${Array.from(bytes.subarray(0, 8)).join(',')}`;
}

async function expectCode(promise: Promise<unknown>, code: EddyErrorCode): Promise<EddyError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected an EddyError with code ${code}`).toBeInstanceOf(EddyError);
  expect((caught as EddyError).code).toBe(code);
  return caught as EddyError;
}

/** Runs the conformance tests against the storages that `make` returns. */
export function checkpointStorageSuite(
  name: string,
  make: () => CheckpointStorage | Promise<CheckpointStorage>,
  capabilities: CheckpointStorageCapabilities = {},
): void {
  const largeBytes = capabilities.largeObject?.value ?? 64 * MiB;
  const largeName = capabilities.largeObject
    ? `a large object (${(largeBytes / MiB).toFixed(1)} MiB, reduced: ${capabilities.largeObject.reason}) round-trips exactly`
    : 'a large object (64 MiB) round-trips exactly';
  const manyCount = capabilities.manyObjects?.value ?? 1000;
  const manyName = capabilities.manyObjects
    ? `${manyCount} objects (reduced: ${capabilities.manyObjects.reason}) are all stored, listed and read back`
    : '1,000 objects are all stored, listed and read back';
  const shared = capabilities.sharedBetweenInstances === true;
  const sharedReason = shared ? '' : ' (skipped: instances of this storage share nothing)';

  describe(`checkpoint storage conformance: ${name}`, () => {
    let storage: CheckpointStorage;
    /** This test's own prefix: `<run>-<n>`; every path and scope of the test lives below it. */
    let root: string;
    const at = (path: string) => `${root}/${path}`;

    beforeEach(async () => {
      storage = await make();
      root = `t-${RUN_ID}-${++testCounter}`;
    });

    describe('objects', () => {
      it('every byte value 0..255 round-trips exactly', async () => {
        const all = new Uint8Array(512);
        for (let i = 0; i < all.length; i++) all[i] = i & 0xff;
        await storage.put(at('bytes'), all);
        const back = await storage.get(at('bytes'));
        expect(back).toBeInstanceOf(Uint8Array);
        expect(Array.from(back!)).toEqual(Array.from(all));
      });

      it('an empty object is stored, read back as zero bytes and listed', async () => {
        await storage.put(at('empty'), new Uint8Array(0));
        const back = await storage.get(at('empty'));
        expect(back).toBeInstanceOf(Uint8Array);
        expect(back!.byteLength).toBe(0);
        expect(await storage.list(root)).toEqual([at('empty')]);
      });

      it('a put over an existing object replaces it entirely (also with a shorter one)', async () => {
        await storage.put(at('x'), pattern(1000, 1));
        await storage.put(at('x'), pattern(10, 2));
        expect(sameBytes(await storage.get(at('x')), pattern(10, 2))).toBe(true);
      });

      it('get of a missing object is undefined, also below a missing directory and at a directory-like prefix', async () => {
        expect(await storage.get(at('missing'))).toBeUndefined();
        expect(await storage.get(at('no/such/dir/object'))).toBeUndefined();
        await storage.put(at('dir/object'), pattern(3, 3));
        expect(await storage.get(at('dir'))).toBeUndefined();
      });

      it('stored objects are isolated from later mutation of the caller’s buffer and of returned arrays', async () => {
        const data = pattern(64, 4);
        const original = data.slice();
        await storage.put(at('iso'), data);
        data.fill(0);
        const first = await storage.get(at('iso'));
        expect(sameBytes(first, original)).toBe(true);
        first!.fill(7);
        expect(sameBytes(await storage.get(at('iso')), original)).toBe(true);
      });

      it('a view into a larger buffer stores just the view’s bytes', async () => {
        const big = pattern(100, 5);
        await storage.put(at('view'), big.subarray(10, 30));
        expect(sameBytes(await storage.get(at('view')), big.slice(10, 30))).toBe(true);
      });

      it('delete removes the object; get is then undefined and list no longer shows it', async () => {
        await storage.put(at('a/one'), pattern(5, 6));
        await storage.put(at('a/two'), pattern(5, 7));
        await storage.delete(at('a/one'));
        expect(await storage.get(at('a/one'))).toBeUndefined();
        expect(await storage.list(root)).toEqual([at('a/two')]);
        expect(sameBytes(await storage.get(at('a/two')), pattern(5, 7))).toBe(true);
      });

      it('delete of a missing object (or below a missing directory) is not an error', async () => {
        await storage.delete(at('never'));
        await storage.delete(at('never/there/either'));
        await storage.put(at('once'), pattern(1, 8));
        await storage.delete(at('once'));
        await storage.delete(at('once'));
        expect(await storage.list(root)).toEqual([]);
      });

      it('a deleted path can be written again', async () => {
        await storage.put(at('d/e/f'), pattern(9, 9));
        await storage.delete(at('d/e/f'));
        await storage.put(at('d/e/f'), pattern(9, 10));
        expect(sameBytes(await storage.get(at('d/e/f')), pattern(9, 10))).toBe(true);
      });

      // 64 MiB each way: through moto (S3) on a loaded 2-core machine that took over 30 s; a
      // hang still fails, at the larger limit.
      it(largeName, { timeout: 120_000 }, async () => {
        const big = pattern(largeBytes, 11);
        await storage.put(at('large'), big);
        const back = await storage.get(at('large'));
        expect(back?.byteLength).toBe(largeBytes);
        expect(sameBytes(back, big), `large object differs: got ${describeBytes(back)}`).toBe(true);
      });

      // A thousand round trips to a remote server (moto, R2) on a loaded machine need more than the default 30 s.
      it(manyName, { timeout: 120_000 }, async () => {
        const paths: string[] = [];
        for (let i = 0; i < manyCount; i++) paths.push(at(`many/${i % 10}/obj-${String(i).padStart(4, '0')}`));
        // In batches of 100: many storages cap concurrent requests; the batch still overlaps puts.
        for (let i = 0; i < paths.length; i += 100) {
          await Promise.all(paths.slice(i, i + 100).map((p, j) => storage.put(p, pattern(16, i + j))));
        }
        expect(await storage.list(at('many/'))).toEqual([...paths].sort());
        const back = await Promise.all(paths.slice(0, 100).map((p) => storage.get(p)));
        back.forEach((b, i) => expect(sameBytes(b, pattern(16, i)), paths[i]).toBe(true));
      });
    });

    describe('list', () => {
      it('list of a prefix with nothing below it is []', async () => {
        expect(await storage.list(root)).toEqual([]);
        expect(await storage.list(at('nothing/here/'))).toEqual([]);
      });

      it('lists every object below the prefix (any depth) sorted by code unit, not by locale or insertion', async () => {
        // Code units: '-' 45 < '.' 46 < '/' 47 < '0' 48 < 'B' 66 < 'C' 67 < '_' 95 < 'a' 97. No two
        // names differ only in case, so case-insensitive filesystems (macOS, Windows) pass too.
        const sorted = ['s/B', 's/a-b', 's/a.b', 's/a/b', 's/a/c/d/e', 's/a0', 's/aC', 's/a_b', 's/ab'].map(at);
        const shuffled = [5, 2, 8, 0, 3, 7, 1, 6, 4].map((i) => sorted[i]!);
        for (const p of shuffled) await storage.put(p, pattern(2, 1));
        expect(await storage.list(at('s/'))).toEqual(sorted);
        expect(await storage.list(at('s'))).toEqual(sorted);
      });

      it('the prefix is a plain string prefix: "a/b" lists a/b, a/b/x and a/bc/x but not a/c or ab', async () => {
        for (const p of ['a/b', 'a/bc/x', 'a/c', 'ab', 'a/b-/y']) await storage.put(at(p), pattern(1, 2));
        await storage.put(at('q/b/x'), pattern(1, 3)); // a second tree, so that "a/b" (an object) and "q/b/" (a directory) are both covered
        expect(await storage.list(at('a/b'))).toEqual([at('a/b'), at('a/b-/y'), at('a/bc/x')]);
        expect(await storage.list(at('a/bc'))).toEqual([at('a/bc/x')]);
        expect(await storage.list(at('a/bc/'))).toEqual([at('a/bc/x')]);
        expect(await storage.list(at('q/b/'))).toEqual([at('q/b/x')]);
        expect(await storage.list(at('q/b/x'))).toEqual([at('q/b/x')]);
        expect(await storage.list(at('q/b/x/'))).toEqual([]);
        expect(await storage.list(at('a/bz'))).toEqual([]);
      });

      it('a prefix that no valid path can start with lists nothing (and does not throw)', async () => {
        await storage.put(at('x'), pattern(1, 4));
        expect(await storage.list(`${root}/../${root}/x`)).toEqual([]);
        expect(await storage.list(`${root}//x`)).toEqual([]);
        expect(await storage.list(`${root}/./x`)).toEqual([]);
      });
    });

    describe('atomicity and concurrency', () => {
      it('concurrent puts to 200 different paths (sharing parent directories) all land', async () => {
        const paths = Array.from({ length: 200 }, (_, i) => at(`c/${i % 4}/${i % 7}/p${i}`));
        await Promise.all(paths.map((p, i) => storage.put(p, pattern(100 + i, i))));
        expect(await storage.list(at('c/'))).toEqual([...paths].sort());
        const back = await Promise.all(paths.map((p) => storage.get(p)));
        back.forEach((b, i) => expect(sameBytes(b, pattern(100 + i, i)), paths[i]).toBe(true));
      });

      it('concurrent puts and gets of one path: every read is exactly one whole version, never a mix or a prefix', async () => {
        const versions = Array.from({ length: 6 }, (_, v) => pattern(256 * 1024 + v * 4099, 100 + v));
        const path = at('manifest');
        await storage.put(path, versions[0]!);
        const reads: Promise<void>[] = [];
        const writes: Promise<void>[] = [];
        const bad: string[] = [];
        for (let round = 0; round < 4; round++) {
          for (let v = 0; v < versions.length; v++) {
            writes.push(storage.put(path, versions[v]!));
            reads.push(
              storage.get(path).then((got) => {
                if (!versions.some((version) => sameBytes(got, version))) bad.push(describeBytes(got));
              }),
            );
          }
        }
        await Promise.all([...writes, ...reads]);
        expect(bad, 'reads that were not a whole version').toEqual([]);
        const last = await storage.get(path);
        expect(versions.some((version) => sameBytes(last, version))).toBe(true);
        expect(await storage.list(root)).toEqual([path]);
      });

      it('a delete racing with puts in the same directory never loses the puts', async () => {
        for (let round = 0; round < 20; round++) {
          await storage.put(at(`r/${round}/old`), pattern(4, round));
          await Promise.all([storage.delete(at(`r/${round}/old`)), storage.put(at(`r/${round}/new`), pattern(4, round + 1))]);
          expect(sameBytes(await storage.get(at(`r/${round}/new`)), pattern(4, round + 1))).toBe(true);
          expect(await storage.get(at(`r/${round}/old`))).toBeUndefined();
        }
        expect((await storage.list(at('r/'))).length).toBe(20);
      });

      it.skipIf(!shared)(`a second storage over the same place sees the first one's objects${sharedReason}`, async () => {
        const other = await make();
        await storage.put(at('shared'), pattern(8, 1));
        expect(sameBytes(await other.get(at('shared')), pattern(8, 1))).toBe(true);
        expect(await other.list(root)).toEqual([at('shared')]);
      });
    });

    describe('locks', () => {
      it('a second lock of a held scope is refused with STORAGE_LOCKED', async () => {
        const lock = await storage.lock(at('job'));
        try {
          const error = await expectCode(storage.lock(at('job')), 'STORAGE_LOCKED');
          expect(error.message).toContain(at('job'));
        } finally {
          await lock.release();
        }
      });

      it('lock, release, lock again works — and release() is idempotent', async () => {
        const first = await storage.lock(at('job'));
        await first.release();
        await first.release();
        const second = await storage.lock(at('job'));
        await second.release();
      });

      it('a stale handle’s release() does not free a lock taken after it', async () => {
        const first = await storage.lock(at('job'));
        await first.release();
        const second = await storage.lock(at('job'));
        try {
          await first.release();
          await expectCode(storage.lock(at('job')), 'STORAGE_LOCKED');
        } finally {
          await second.release();
        }
      });

      it('locks of different scopes are independent', async () => {
        const a = await storage.lock(at('job-a'));
        const b = await storage.lock(at('job-b'));
        await a.release();
        await expectCode(storage.lock(at('job-b')), 'STORAGE_LOCKED');
        const a2 = await storage.lock(at('job-a'));
        await Promise.all([a2.release(), b.release()]);
      });

      // Skipped only where the server under test cannot decide racing conditional writes
      // (moto checks and then writes without a lock); the reason is in the test's name then.
      const racy = capabilities.racyConditionalWrites;
      it.skipIf(racy !== undefined)(
        `concurrent lock() calls on one scope: exactly one wins, the rest get STORAGE_LOCKED${racy ? ` (skipped: ${racy})` : ''}`,
        async () => {
          const results = await Promise.allSettled(Array.from({ length: 8 }, () => storage.lock(at('race'))));
          const won = results.filter((r) => r.status === 'fulfilled');
          expect(won.length).toBe(1);
          for (const r of results) {
            if (r.status === 'rejected') expect((r.reason as EddyError).code).toBe('STORAGE_LOCKED');
          }
          await (won[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
        },
      );

      it('a held lock leaves no object visible to list or get, and the holder can write under its scope', async () => {
        const lock = await storage.lock(at('job'));
        try {
          expect(await storage.list(root)).toEqual([]);
          await storage.put(at('job/chk-1/_metadata'), pattern(10, 1));
          expect(await storage.list(root)).toEqual([at('job/chk-1/_metadata')]);
          await storage.delete(at('job/chk-1/_metadata'));
        } finally {
          await lock.release();
        }
        expect(await storage.list(root)).toEqual([]);
      });

      it.skipIf(!shared)(`a lock held through one storage refuses another storage over the same place${sharedReason}`, async () => {
        const other = await make();
        const lock = await storage.lock(at('job'));
        try {
          await expectCode(other.lock(at('job')), 'STORAGE_LOCKED');
        } finally {
          await lock.release();
        }
        await (await other.lock(at('job'))).release();
      });
    });

    describe('invalid paths', () => {
      const bad = ['', '../x', 'a//b', 'a/./b', 'a/../b', '/a', 'a/', 'a\\b', 'a b', 'ä'];

      it(`put, get and delete refuse ${bad.map((p) => JSON.stringify(p)).join(', ')} with INVALID_ARGUMENT`, async () => {
        for (const p of bad) {
          await expectCode(storage.put(p, new Uint8Array(1)), 'INVALID_ARGUMENT');
          await expectCode(storage.get(p), 'INVALID_ARGUMENT');
          await expectCode(storage.delete(p), 'INVALID_ARGUMENT');
        }
      });

      it('lock refuses an invalid scope with INVALID_ARGUMENT', async () => {
        for (const p of ['', '../x', 'a//b', 'a/./b']) await expectCode(storage.lock(p), 'INVALID_ARGUMENT');
      });

      it('put refuses data that is not a Uint8Array with INVALID_ARGUMENT', async () => {
        await expectCode(storage.put(at('x'), 'text' as unknown as Uint8Array), 'INVALID_ARGUMENT');
        await expectCode(storage.put(at('x'), [1, 2] as unknown as Uint8Array), 'INVALID_ARGUMENT');
        expect(await storage.get(at('x'))).toBeUndefined();
      });
    });
  });
}
