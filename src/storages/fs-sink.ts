/**
 * `FileSink`: exactly-once output into part files of one directory, for Node and Deno
 * (Flink's `FileSink` in row format). The protocol — in-progress, pending, committed by an
 * atomic rename — is `PartFileSink`'s (src/api/part-file-sink.ts); this file supplies the
 * directory operations through `node:fs/promises`, which Deno provides too, loaded on first
 * use as the filesystem checkpoint storage does (so a bundle that includes it still loads in
 * a browser). Part files are fsynced when they become pending, and the directory is fsynced
 * after the renames of a commit, before the commit counts as done.
 */
import type * as NodeFs from 'node:fs/promises';
import { ConfigurationError } from '../api/errors.ts';
import { PartFileSink, type PartFileSinkOptions, type PartFileWriter } from '../api/part-file-sink.ts';
import { errorCode, loadPlatform, syncDirectory, writeAll } from './fs-files.ts';

/** Options of {@link FileSink}. */
export interface FileSinkOptions<T> extends PartFileSinkOptions<T> {
  /** The output directory; it must exist and be writable when the job starts. */
  readonly directory: string;
}

/**
 * Writes every record exactly once into files of a directory, one line per record by
 * default (JSON Lines; see `jsonLinesEncoder`). Committed files are
 * `<prefix>-<subtask>-<uid>-<counter><suffix>` (`part-0-mf3q1x2ab7k2p9-0`); files being
 * written or waiting for their checkpoint to complete are hidden
 * (`.part-0-mf3q1x2ab7k2p9-1.inprogress`), so a reader that skips names starting with `.`
 * sees only committed output. Sorting a subtask's files by name gives its write order
 * (the uid starts with the run's start time). One job per directory and prefix: a
 * restarted job removes hidden files of its earlier attempts.
 */
export class FileSink<T> extends PartFileSink<T> {
  /** The output directory as given. */
  readonly directory: string;
  private resolved = '';

  /** The platform and the absolute output directory (commits of a restore run before `open`). */
  private async output(): Promise<{ fs: typeof NodeFs; dir: string; join(name: string): string }> {
    const { fs, path } = await loadPlatform();
    this.resolved ||= path.resolve(this.directory);
    const dir = this.resolved;
    return { fs, dir, join: (name) => path.join(dir, name) };
  }

  constructor(options: FileSinkOptions<T>) {
    if (typeof options?.directory !== 'string' || options.directory.length === 0) {
      throw new ConfigurationError('FileSink needs { directory: "path" }', { component: 'sink:file' });
    }
    super('file', options);
    this.directory = options.directory;
  }

  protected async openOutput(probe: string): Promise<void> {
    let out: Awaited<ReturnType<FileSink<T>['output']>>;
    try {
      out = await this.output();
    } catch (e) {
      throw this.failure('INVALID_CONFIG', 'FileSink needs Node or Deno (node:fs/promises could not be loaded); in a browser use OpfsSink', e);
    }
    const stat = await out.fs.stat(out.dir).catch((e: unknown) => e as Error);
    if (stat instanceof Error) {
      const why = errorCode(stat) === 'ENOENT' ? 'does not exist (create it before the job starts)' : `cannot be read (${stat.message})`;
      throw this.failure('INVALID_CONFIG', `output directory "${this.directory}" ${why}`, stat);
    }
    if (!stat.isDirectory()) throw this.failure('INVALID_CONFIG', `output directory "${this.directory}" is not a directory`);
    // Writing a file is the one test that holds everywhere (fs.access needs extra permissions
    // in Deno, and says nothing of read-only mounts or ACLs).
    try {
      await (await out.fs.open(out.join(probe), 'wx')).close();
      await out.fs.rm(out.join(probe), { force: true });
    } catch (e) {
      throw this.failure('INVALID_CONFIG', `output directory "${this.directory}" is not writable (${errorCode(e) ?? String(e)})`, e);
    }
  }

  protected async createPart(name: string): Promise<PartFileWriter> {
    const { fs, join } = await this.output();
    const handle = await fs.open(join(name), 'wx');
    return {
      write: (bytes) => writeAll(handle, bytes),
      async close() {
        try {
          await handle.sync(); // durable before the checkpoint that names it counts
        } finally {
          await handle.close();
        }
      },
      discard: () => handle.close(),
    };
  }

  protected async publishPart(hidden: string, final: string): Promise<void> {
    const { fs, join } = await this.output();
    try {
      await fs.rename(join(hidden), join(final));
    } catch (e) {
      // Renamed by an earlier commit of the same transaction (replayed after a restore), or
      // taken away by a consumer since: either way there is nothing left to commit.
      if (errorCode(e) !== 'ENOENT') throw e;
    }
  }

  protected async removePart(name: string): Promise<void> {
    const { fs, join } = await this.output();
    await fs.rm(join(name), { force: true });
  }

  protected async listParts(): Promise<string[]> {
    const { fs, dir } = await this.output();
    return fs.readdir(dir);
  }

  protected async syncOutput(): Promise<void> {
    const { fs, dir } = await this.output();
    await syncDirectory(fs, dir);
  }
}
