/**
 * The keyed job the FileSink tests run (under vitest and under `deno test`): records
 * `0 … records-1` keyed by `v % keys`, running counts per key, written by a `FileSink`;
 * failures are injected before the key-by and, once, in the middle of a commit. Plus
 * readers of a sink's output directory: the committed lines and the hidden files.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MemoryCheckpointStorage, RestartStrategies, StreamExecutionEnvironment, type RuntimeContext } from '../../src/index.ts';
import { FileSink } from '../../src/storages/fs.ts';
import { RunningCount } from './running-count.ts';
import { pacedSource } from './sources.ts';

/** Shared by every subtask's copy of the sink (a class instance is not copied): how many commits still fail. */
export class CommitTrap {
  constructor(public remaining: number) {}
  spring(): boolean {
    if (this.remaining <= 0) return false;
    this.remaining--;
    return true;
  }
}

/**
 * A FileSink that fails right after renaming one part file of a commit, while the trap
 * lasts: the rest of that commit is left to the restore. Only commits of a running subtask
 * fail (not those a restore makes while the subtask initializes).
 */
export class FlakyFileSink<T> extends FileSink<T> {
  private opened = false;
  constructor(
    options: ConstructorParameters<typeof FileSink<T>>[0],
    private readonly trap: CommitTrap,
  ) {
    super(options);
  }
  override async open(ctx: RuntimeContext): Promise<void> {
    await super.open(ctx);
    this.opened = true;
  }
  protected override async publishPart(hidden: string, final: string): Promise<void> {
    await super.publishPart(hidden, final);
    if (this.opened && this.trap.spring()) throw new Error(`injected failure after committing ${final}`);
  }
}

/** What to run; `failAt` are records whose first arrival throws, `commitFailures` how many commits fail half-way. */
export interface CountJob {
  readonly directory: string;
  readonly parallelism: number;
  readonly records: number;
  readonly keys: number;
  readonly failAt?: readonly number[];
  readonly commitFailures?: number;
  readonly rollSize?: number;
}

/**
 * Runs the job to its end; resolves to the number of restarts it took and how many of the
 * injected failures never fired (two that fire in one attempt cost one restart).
 */
export async function runCountJob(job: CountJob): Promise<{ restarts: number; unfired: number }> {
  const trap = new CommitTrap(job.commitFailures ?? 0);
  const failAt = new Set(job.failAt ?? []);
  const env = StreamExecutionEnvironment.getExecutionEnvironment()
    .setParallelism(job.parallelism)
    .enableCheckpointing(10)
    .setRestartStrategy(RestartStrategies.fixedDelayRestart(20, 0));
  env.getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
  env
    .fromSource(
      pacedSource(job.records, (i) => i, 5),
      undefined,
      'paced',
    )
    .map((i: number) => {
      if (failAt.delete(i)) throw new Error(`injected at record ${i}`);
      return i;
    })
    .keyBy((i: number) => i % job.keys)
    .map(new RunningCount(job.keys))
    .addSink(new FlakyFileSink<string>({ directory: job.directory, rollSize: job.rollSize }, trap));
  const client = await env.executeAsync('file-sink-count');
  await client.result;
  return { restarts: client.getNumRestarts(), unfired: failAt.size + trap.remaining };
}

/** Committed part-file names in write order per subtask: by name, the counter after the last '-' compared as a number. */
export async function committedFiles(directory: string): Promise<string[]> {
  const key = (n: string): [string, number] => {
    const m = /^(.*)-(\d+)\D*$/.exec(n);
    return m === null ? [n, 0] : [m[1]!, Number(m[2])];
  };
  return (await readdir(directory))
    .filter((n) => !n.startsWith('.'))
    .sort((a, b) => {
      const [pa, ca] = key(a);
      const [pb, cb] = key(b);
      return pa < pb ? -1 : pa > pb ? 1 : ca - cb;
    });
}

/** The lines of the committed (not hidden) files, each parsed as JSON, file by file in {@link committedFiles} order. */
export async function committedLines(directory: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const name of await committedFiles(directory)) {
    const text = await readFile(join(directory, name), 'utf8');
    for (const line of text.split('\n')) if (line !== '') out.push(JSON.parse(line));
  }
  return out;
}

/** The names of hidden (in-progress or pending) files. */
export async function hiddenFiles(directory: string): Promise<string[]> {
  return (await readdir(directory)).filter((n) => n.startsWith('.'));
}
