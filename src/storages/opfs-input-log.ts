/**
 * A durable input log in the Origin Private File System (browsers, main thread or
 * workers): each append round is one file, `b-<first offset>-<count>`, holding its entries
 * as `length u32 · bytes` frames and written through `createWritable()`, whose `close()`
 * replaces the file atomically — so a crash leaves a round whole or empty (created, never
 * written: dropped on open), never torn.
 * The first retained offset is kept in the file `first`; truncation deletes the rounds
 * wholly before it. One writer per log across the tabs and workers of an origin: a Web
 * Lock, taken without waiting and held until `close()`. Platform globals are touched only
 * when the log is opened.
 */
import type { InputLogBounds, InputLogStore } from '../format/input-log-store.ts';
import { InputLogWriter, quotaExceeded, takeInputLogWebLock } from '../format/input-log-writer.ts';

/** Options of {@link OpfsInputLogStore}. */
export interface OpfsInputLogStoreOptions {
  /** When another writer holds the log: `'fail'` (default) refuses with `STORAGE_LOCKED`; `'wait'` waits until it is released. */
  lock?: 'fail' | 'wait';
}

type Dir = FileSystemDirectoryHandle & { keys(): AsyncIterable<string> };

interface Round {
  readonly start: number;
  readonly count: number;
  readonly name: string;
}

const ROUND = /^b-(\d{16})-(\d+)$/;

/** Stores a durable input log in a directory of the Origin Private File System. */
export class OpfsInputLogStore implements InputLogStore {
  readonly description: string;
  readonly #writer: InputLogWriter;
  #dir: Dir | undefined;
  #rounds: Round[] = [];
  #first = 0;

  constructor(
    /** The log's name; its files live in the OPFS directory `eddy-input-log-<name>`. */
    readonly name: string,
    options: OpfsInputLogStoreOptions = {},
  ) {
    this.description = `opfs:${name}`;
    const mode = options.lock ?? 'fail';
    this.#writer = new InputLogWriter(
      this.description,
      () => takeInputLogWebLock(webLocks(), `eddy:input-log-opfs:${name}`, mode, this.description),
      quotaExceeded,
    );
  }

  async open(): Promise<InputLogBounds> {
    const storage = (globalThis as { navigator?: Navigator }).navigator?.storage;
    if (storage?.getDirectory === undefined)
      throw this.#writer.error('STORAGE_FAILURE', 'the Origin Private File System is not available here (navigator.storage.getDirectory is missing)');
    return this.#writer.open(
      () => this.#recover(storage),
      () => this.close(),
    );
  }

  /** Reads `first` and the rounds, and drops an empty last round (see below). */
  async #recover(storage: StorageManager): Promise<InputLogBounds> {
    const root = await storage.getDirectory();
    const dir = (this.#dir = (await root.getDirectoryHandle(`eddy-input-log-${this.name}`, { create: true })) as Dir);
    const first = await this.#readText('first');
    this.#first = first === undefined ? 0 : Number(first);
    if (!Number.isInteger(this.#first) || this.#first < 0) throw this.#writer.error('SNAPSHOT_CORRUPT', `its "first" file holds "${first}", not an offset`);
    const rounds: Round[] = [];
    for await (const name of dir.keys()) {
      const m = ROUND.exec(name);
      if (m) rounds.push({ start: Number(m[1]), count: Number(m[2]), name });
    }
    rounds.sort((a, b) => a.start - b.start);
    for (let i = 1; i < rounds.length; i++) {
      const prev = rounds[i - 1]!;
      if (prev.start + prev.count !== rounds[i]!.start) throw this.#writer.error('SNAPSHOT_CORRUPT', `round ${rounds[i]!.name} does not continue ${prev.name}`);
    }
    // getFileHandle({ create: true }) makes the round's file empty before createWritable()
    // fills it: a tab that went away between the two leaves an empty last round whose
    // append never resolved. Counting it would shift every later offset (a reload showed
    // events replayed twice); it is dropped, as the file store cuts a torn frame.
    const last = rounds.at(-1);
    if (last !== undefined && last.count > 0 && (await (await dir.getFileHandle(last.name)).getFile()).size === 0) {
      await dir.removeEntry(last.name);
      rounds.pop();
    }
    this.#rounds = rounds;
    await this.#dropCovered();
    return { first: this.#first, next: this.#next() };
  }

  #next(): number {
    const last = this.#rounds.at(-1);
    return last ? Math.max(this.#first, last.start + last.count) : this.#first;
  }

  async append(offset: number, entries: readonly Uint8Array[]): Promise<void> {
    const dir = this.#open();
    if (offset !== this.#next()) throw this.#writer.error('INVALID_ARGUMENT', `append at offset ${offset}, but the log ends at ${this.#next()}`);
    if (entries.length === 0) return;
    let total = 0;
    for (const e of entries) total += 4 + e.byteLength;
    const buf = new Uint8Array(total);
    const view = new DataView(buf.buffer);
    let at = 0;
    for (const e of entries) {
      view.setUint32(at, e.byteLength, true);
      buf.set(e, at + 4);
      at += 4 + e.byteLength;
    }
    const name = `b-${String(offset).padStart(16, '0')}-${entries.length}`;
    try {
      await this.#write(dir, name, buf);
    } catch (e) {
      throw this.#writer.failure(e, 'append to');
    }
    this.#rounds.push({ start: offset, count: entries.length, name });
  }

  async read(from: number, max: number): Promise<Uint8Array[]> {
    const dir = this.#open();
    const out: Uint8Array[] = [];
    let i = this.#rounds.findLastIndex((r) => r.start <= from);
    for (; i >= 0 && i < this.#rounds.length && out.length < max; i++) {
      const round = this.#rounds[i]!;
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await (await (await dir.getFileHandle(round.name)).getFile()).arrayBuffer());
      } catch (e) {
        throw this.#writer.failure(e, 'read');
      }
      const view = new DataView(bytes.buffer);
      for (let k = 0, at = 0; at < bytes.length && out.length < max; k++) {
        const len = view.getUint32(at, true);
        if (round.start + k >= from + out.length) out.push(bytes.slice(at + 4, at + 4 + len));
        at += 4 + len;
      }
    }
    return out;
  }

  async truncate(before: number): Promise<void> {
    const dir = this.#open();
    if (before <= this.#first) return;
    if (before > this.#next()) throw this.#writer.error('INVALID_ARGUMENT', `cannot truncate before ${before}: the log ends at ${this.#next()}`);
    try {
      await this.#write(dir, 'first', new TextEncoder().encode(String(before)));
    } catch (e) {
      throw this.#writer.failure(e, 'truncate');
    }
    this.#first = before;
    await this.#dropCovered();
  }

  /** Deletes the rounds wholly before `first`. */
  async #dropCovered(): Promise<void> {
    const dir = this.#dir!;
    while (this.#rounds.length > 0 && this.#rounds[0]!.start + this.#rounds[0]!.count <= this.#first) {
      const round = this.#rounds.shift()!;
      await dir.removeEntry(round.name).catch(() => {});
    }
  }

  async #write(dir: Dir, name: string, bytes: Uint8Array): Promise<void> {
    const file = await dir.getFileHandle(name, { create: true });
    const w = await file.createWritable();
    try {
      await w.write(bytes as Uint8Array<ArrayBuffer>);
      await w.close();
    } catch (e) {
      await w.abort().catch(() => {});
      throw e;
    }
  }

  async #readText(name: string): Promise<string | undefined> {
    try {
      return await (await (await this.#dir!.getFileHandle(name)).getFile()).text();
    } catch (e) {
      if (e instanceof Error && e.name === 'NotFoundError') return undefined;
      throw e;
    }
  }

  async close(): Promise<void> {
    this.#dir = undefined;
    await this.#writer.release();
  }

  #open(): Dir {
    if (!this.#dir) throw this.#writer.error('INVALID_ARGUMENT', 'the store is not open');
    return this.#dir;
  }
}

/** The browser's Web Locks, looked up only when the log is opened. */
function webLocks(): LockManager | undefined {
  return (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
}
