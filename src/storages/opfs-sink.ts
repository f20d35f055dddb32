/**
 * `OpfsSink`: exactly-once output into part files in the browser's Origin Private File
 * System, with the protocol of `FileSink` (src/api/part-file-sink.ts): hidden in-progress
 * files, pending at a checkpoint, committed by a rename when it completes.
 *
 * Writing: a `FileSystemWritableFileStream` (`createWritable()`), which the main thread and
 * workers both have, as the OPFS checkpoint storage and input log use; its bytes reach the
 * file on `close()` (when the file becomes pending), and the browser keeps them from then on
 * (OPFS has no fsync to call). Committing: `FileSystemFileHandle.move(newName)` where the browser
 * has it (Chromium); elsewhere the pending file is copied to its final name and then
 * removed, which a replayed commit repeats harmlessly (the copy is rewritten whole while the
 * pending file is still there). Platform globals are touched only once the sink runs.
 */
import { ConfigurationError } from '../api/errors.ts';
import { PartFileSink, type PartFileSinkOptions, type PartFileWriter } from '../api/part-file-sink.ts';

/** Options of {@link OpfsSink}. */
export interface OpfsSinkOptions<T> extends PartFileSinkOptions<T> {
  /** The output directory under the OPFS root, e.g. `results` or `jobs/clicks`; created when missing. */
  readonly directory: string;
}

type Dir = FileSystemDirectoryHandle & { keys(): AsyncIterable<string> };
type Movable = FileSystemFileHandle & { move?(name: string): Promise<void> };

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/**
 * Writes every record exactly once into files of an OPFS directory, one JSON line per
 * record by default; names and rolling as {@link FileSink}'s (`part-<subtask>-<uid>-<counter>`
 * committed, `.part-….inprogress` hidden). Read the output with {@link readOpfsSink}.
 */
export class OpfsSink<T> extends PartFileSink<T> {
  /** The output directory as given. */
  readonly directory: string;
  private dir: Promise<Dir> | undefined;

  constructor(options: OpfsSinkOptions<T>) {
    const directory = options?.directory;
    if (typeof directory !== 'string' || !directory.split('/').every((s) => SEGMENT.test(s))) {
      throw new ConfigurationError(
        `OpfsSink needs { directory: "name" } made of '/'-separated names of letters, digits, '.', '_' and '-', not ${JSON.stringify(directory)}`,
        { component: 'sink:opfs' },
      );
    }
    super('opfs', options);
    this.directory = directory;
  }

  /** The output directory, created on first use (commits of a restore run before `open`). */
  private output(): Promise<Dir> {
    this.dir ??= openDirectory(this.directory);
    this.dir.catch(() => (this.dir = undefined));
    return this.dir;
  }

  protected async openOutput(probe: string): Promise<void> {
    let dir: Dir;
    try {
      dir = await this.output();
      await dir.getFileHandle(probe, { create: true });
      await dir.removeEntry(probe);
    } catch (e) {
      throw this.failure('INVALID_CONFIG', `OPFS directory "${this.directory}" cannot be used: ${(e as Error)?.message ?? String(e)}`, e);
    }
  }

  protected async createPart(name: string): Promise<PartFileWriter> {
    const file = await (await this.output()).getFileHandle(name, { create: true });
    const writable = await file.createWritable();
    return {
      write: (bytes) => writable.write(bytes as Uint8Array<ArrayBuffer>),
      close: () => writable.close(),
      discard: () => writable.abort(),
    };
  }

  protected publishPart(hidden: string, final: string): Promise<void> {
    return whileLocked(() => this.movePart(hidden, final));
  }

  private async movePart(hidden: string, final: string): Promise<void> {
    const dir = await this.output();
    let file: Movable;
    try {
      file = await dir.getFileHandle(hidden);
    } catch (e) {
      if ((e as Error)?.name === 'NotFoundError') return; // committed before (a replay), or taken away since
      throw e;
    }
    if (typeof file.move === 'function') {
      await file.move(final);
      return;
    }
    const bytes = await (await file.getFile()).arrayBuffer();
    const writable = await (await dir.getFileHandle(final, { create: true })).createWritable();
    await writable.write(bytes);
    await writable.close();
    await dir.removeEntry(hidden);
  }

  /** A file still locked after {@link whileLocked}'s retries stays (hidden): a later run's clean-up removes it. */
  protected async removePart(name: string): Promise<void> {
    const dir = await this.output();
    try {
      await whileLocked(() => dir.removeEntry(name));
    } catch (e) {
      const why = (e as Error)?.name;
      if (why !== 'NotFoundError' && why !== 'NoModificationAllowedError') throw e;
    }
  }

  protected async listParts(): Promise<string[]> {
    const names: string[] = [];
    for await (const name of (await this.output()).keys()) names.push(name);
    return names;
  }

  protected async syncOutput(): Promise<void> {
    // OPFS offers no fsync: a closed writable and a finished move are as durable as it gets.
  }
}

/** How long a file locked by another handle is waited for: the writer or mover of a failed attempt, still finishing. */
const LOCK_RETRIES = 50;
const LOCK_RETRY_MS = 20;

/**
 * Runs `op` again while the file is locked (`NoModificationAllowedError`): after a failure
 * the restarted subtask can reach a file while the failed attempt's writable or move on it
 * is still settling. Where `rename` in a filesystem would simply win or find nothing, OPFS
 * refuses the second handle until the first lets go.
 */
async function whileLocked<R>(op: () => Promise<R>): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (e) {
      if ((e as Error)?.name !== 'NoModificationAllowedError' || attempt >= LOCK_RETRIES) throw e;
      await new Promise((r) => setTimeout(r, LOCK_RETRY_MS));
    }
  }
}

async function openDirectory(path: string): Promise<Dir> {
  const storage = (globalThis as { navigator?: Navigator }).navigator?.storage;
  if (storage?.getDirectory === undefined) {
    throw new Error(
      'the Origin Private File System is not available here (navigator.storage.getDirectory is missing): use a browser, or FileSink from eddy/fs',
    );
  }
  let dir = (await storage.getDirectory()) as Dir;
  for (const segment of path.split('/')) dir = (await dir.getDirectoryHandle(segment, { create: true })) as Dir;
  return dir;
}

/** Orders part names by what precedes their counter, then by the counter as a number (`-2` before `-10`). */
function byPartOrder(a: string, b: string): number {
  const [ma, mb] = [/^(.*)-(\d+)(\D*)$/.exec(a), /^(.*)-(\d+)(\D*)$/.exec(b)];
  if (ma === null || mb === null) return a < b ? -1 : a > b ? 1 : 0;
  if (ma[1] !== mb[1]) return ma[1]! < mb[1]! ? -1 : 1;
  return Number(ma[2]) - Number(mb[2]);
}

/**
 * The committed output of an {@link OpfsSink} writing into `directory`: one entry per
 * committed file, in write order per subtask (by name, the counter compared as a number),
 * with its text. Hidden (in-progress or pending) files are left out.
 */
export async function readOpfsSink(directory: string): Promise<Array<{ name: string; text: string }>> {
  const dir = await openDirectory(directory);
  const names: string[] = [];
  for await (const name of dir.keys()) if (!name.startsWith('.')) names.push(name);
  names.sort(byPartOrder);
  const out: Array<{ name: string; text: string }> = [];
  for (const name of names) out.push({ name, text: await (await dir.getFileHandle(name)).getFile().then((f) => f.text()) });
  return out;
}
