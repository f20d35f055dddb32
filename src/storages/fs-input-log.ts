/**
 * A durable input log in a directory (Node, Deno): entries framed as
 * `length u32 · CRC-32 u32 · bytes` in segment files `seg-<first offset>.log`, appended
 * and fdatasync'ed per batch; the first retained offset in `first` (replaced atomically
 * by rename). A crash can leave a torn frame at the end of the last segment: `open()`
 * cuts it off (its append never resolved). Truncation deletes whole segments. One writer
 * at a time: the directory's lock file (the filesystem storage's `.~lock`, taken over
 * only from a dead process on this host).
 */
import type * as NodeFs from 'node:fs/promises';
import { crc32 } from '../format/checkpoint-format.ts';
import type { StorageLock } from '../format/checkpoint-storage.ts';
import type { InputLogBounds, InputLogStore } from '../format/input-log-store.ts';
import { InputLogWriter } from '../format/input-log-writer.ts';
import { errorCode, loadPlatform, syncDirectory, writeAll, type Platform } from './fs-files.ts';
import { takeLock } from './fs-lock.ts';

const HEADER = 8;
const FIRST_FILE = 'first';
const LOCK_SCOPE = 'writer';

/** Options of {@link FileInputLogStore}. */
export interface FileInputLogStoreOptions {
  /** A new segment file is started once the current one exceeds this many bytes (default 8 MiB). */
  segmentBytes?: number;
}

interface Segment {
  readonly start: number;
  readonly path: string;
  /** Byte position of each entry; `positions.length` entries. */
  readonly positions: number[];
  size: number;
}

/** Stores a durable input log in a directory of append-only segment files. */
export class FileInputLogStore implements InputLogStore {
  readonly description: string;
  readonly #segmentBytes: number;
  readonly #writer: InputLogWriter;
  #platform: Platform | undefined;
  #segments: Segment[] = [];
  #first = 0;
  #active: NodeFs.FileHandle | undefined;
  /** Read handles by segment path, kept open: a replay reads a segment in many small steps. */
  readonly #readers = new Map<string, NodeFs.FileHandle>();

  constructor(
    readonly directory: string,
    options: FileInputLogStoreOptions = {},
  ) {
    this.description = `file:${directory}`;
    this.#segmentBytes = options.segmentBytes ?? 8 * 1024 * 1024;
    this.#writer = new InputLogWriter(
      this.description,
      () => this.#takeLock(),
      (e) => {
        const code = errorCode(e);
        return code === 'ENOSPC' || code === 'EDQUOT';
      },
    );
  }

  open(): Promise<InputLogBounds> {
    return this.#writer.open(
      () => this.#recover(this.#platform!),
      () => this.close(),
    );
  }

  /** Takes the directory's lock file, creating the directory first. */
  async #takeLock(): Promise<StorageLock> {
    const p = (this.#platform = await loadPlatform());
    await p.fs.mkdir(this.directory, { recursive: true });
    try {
      return await takeLock(this.directory, LOCK_SCOPE);
    } catch (e) {
      throw this.#writer.error('STORAGE_LOCKED', `another writer holds the log: ${e instanceof Error ? e.message : String(e)}`, e);
    }
  }

  async #recover({ fs, path }: Platform): Promise<InputLogBounds> {
    const text = await fs.readFile(path.join(this.directory, FIRST_FILE), 'utf8').catch((e: unknown) => (errorCode(e) === 'ENOENT' ? '0' : Promise.reject(e)));
    this.#first = Number(text.trim());
    if (!Number.isInteger(this.#first) || this.#first < 0)
      throw this.#writer.error('SNAPSHOT_CORRUPT', `its "${FIRST_FILE}" file holds "${text.trim()}", not an offset`);
    const names = (await fs.readdir(this.directory)).filter((n) => /^seg-\d{16}\.log$/.test(n)).sort();
    this.#segments = [];
    for (const [i, name] of names.entries()) {
      const file = path.join(this.directory, name);
      const bytes = new Uint8Array(await fs.readFile(file));
      const seg: Segment = { start: Number(name.slice(4, 20)), path: file, positions: [], size: 0 };
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      let at = 0;
      while (at + HEADER <= bytes.length) {
        const len = view.getUint32(at, true);
        if (at + HEADER + len > bytes.length || crc32(bytes, at + HEADER, at + HEADER + len) !== view.getUint32(at + 4, true)) break;
        seg.positions.push(at);
        at += HEADER + len;
      }
      if (at < bytes.length) {
        if (i < names.length - 1)
          throw this.#writer.error('SNAPSHOT_CORRUPT', `segment ${name} is damaged at byte ${at} and is not the last one, so it was not a torn append`);
        await fs.truncate(file, at); // the torn tail of an append that never resolved
      }
      seg.size = at;
      const prev = this.#segments.at(-1);
      if (prev && prev.start + prev.positions.length !== seg.start)
        throw this.#writer.error('SNAPSHOT_CORRUPT', `segment ${name} does not continue the one before it`);
      this.#segments.push(seg);
    }
    await this.#dropCovered();
    if (this.#next() < this.#first) {
      // Truncated up to the end, and the segments are gone: the next entry starts a new one at `first`.
      this.#segments = [];
    }
    return { first: this.#first, next: this.#next() };
  }

  #next(): number {
    const last = this.#segments.at(-1);
    return last ? last.start + last.positions.length : this.#first;
  }

  async append(offset: number, entries: readonly Uint8Array[]): Promise<void> {
    const p = this.#open();
    if (offset !== this.#next()) throw this.#writer.error('INVALID_ARGUMENT', `append at offset ${offset}, but the log ends at ${this.#next()}`);
    let total = 0;
    for (const e of entries) total += HEADER + e.byteLength;
    const buf = new Uint8Array(total);
    const view = new DataView(buf.buffer);
    let seg = this.#segments.at(-1);
    if (!seg || !this.#active || seg.size >= this.#segmentBytes) seg = await this.#roll(p, offset);
    const positions: number[] = [];
    let at = 0;
    for (const e of entries) {
      view.setUint32(at, e.byteLength, true);
      buf.set(e, at + HEADER);
      view.setUint32(at + 4, crc32(buf, at + HEADER, at + HEADER + e.byteLength), true);
      positions.push(seg.size + at);
      at += HEADER + e.byteLength;
    }
    try {
      await writeAll(this.#active!, buf);
      await this.#active!.datasync();
    } catch (e) {
      throw this.#writer.failure(e, 'append to');
    }
    for (const x of positions) seg.positions.push(x);
    seg.size += total;
  }

  /** Starts a new segment at `offset` (the active one is full, or none is open). */
  async #roll({ fs, path }: Platform, offset: number): Promise<Segment> {
    const last = this.#segments.at(-1);
    if (last && this.#active === undefined && last.size < this.#segmentBytes) {
      this.#active = await fs.open(last.path, 'a');
      return last;
    }
    await this.#active?.close();
    const file = path.join(this.directory, `seg-${String(offset).padStart(16, '0')}.log`);
    this.#active = await fs.open(file, 'a');
    await syncDirectory(fs, this.directory);
    const seg: Segment = { start: offset, path: file, positions: [], size: 0 };
    this.#segments.push(seg);
    return seg;
  }

  async read(from: number, max: number): Promise<Uint8Array[]> {
    const { fs } = this.#open();
    const out: Uint8Array[] = [];
    let i = this.#segments.findLastIndex((s) => s.start <= from);
    while (out.length < max && i >= 0 && i < this.#segments.length) {
      const seg = this.#segments[i]!;
      const k = Math.max(0, from + out.length - seg.start);
      const n = Math.min(max - out.length, seg.positions.length - k);
      if (n > 0) {
        const begin = seg.positions[k]!;
        const end = k + n < seg.positions.length ? seg.positions[k + n]! : seg.size;
        const bytes = new Uint8Array(end - begin);
        let handle = this.#readers.get(seg.path);
        if (!handle) this.#readers.set(seg.path, (handle = await fs.open(seg.path, 'r')));
        await handle.read(bytes, 0, bytes.length, begin);
        const view = new DataView(bytes.buffer);
        for (let at = 0; at < bytes.length; ) {
          const len = view.getUint32(at, true);
          out.push(bytes.slice(at + HEADER, at + HEADER + len));
          at += HEADER + len;
        }
      }
      i++;
    }
    return out;
  }

  async truncate(before: number): Promise<void> {
    const { fs, path } = this.#open();
    if (before <= this.#first) return;
    if (before > this.#next()) throw this.#writer.error('INVALID_ARGUMENT', `cannot truncate before ${before}: the log ends at ${this.#next()}`);
    const tmp = path.join(this.directory, `${FIRST_FILE}.tmp`);
    try {
      const h = await fs.open(tmp, 'w');
      try {
        await writeAll(h, new TextEncoder().encode(`${before}\n`));
        await h.sync();
      } finally {
        await h.close();
      }
      await fs.rename(tmp, path.join(this.directory, FIRST_FILE));
      await syncDirectory(fs, this.directory);
    } catch (e) {
      throw this.#writer.failure(e, 'truncate');
    }
    this.#first = before;
    await this.#dropCovered();
  }

  /** Deletes segments wholly before `first`, except the last (it is where appends go). */
  async #dropCovered(): Promise<void> {
    const { fs } = this.#platform!;
    while (this.#segments.length > 1 && this.#segments[1]!.start <= this.#first) {
      const seg = this.#segments.shift()!;
      await this.#readers.get(seg.path)?.close();
      this.#readers.delete(seg.path);
      await fs.rm(seg.path, { force: true });
    }
  }

  async close(): Promise<void> {
    const active = this.#active;
    this.#active = undefined;
    await active?.close().catch(() => {});
    for (const h of this.#readers.values()) await h.close().catch(() => {});
    this.#readers.clear();
    await this.#writer.release();
  }

  #open(): Platform {
    if (!this.#writer.held || !this.#platform) throw this.#writer.error('INVALID_ARGUMENT', 'the store is not open');
    return this.#platform;
  }
}
