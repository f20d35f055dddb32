/**
 * The job of the process-kill chaos runs, as a program: `node --import tsx process-job.ts
 * <dir> <records>`. It checkpoints into `<dir>/checkpoints`, commits its output through a
 * two-phase-commit sink as one file per transaction in `<dir>/out` (written under a
 * temporary name and renamed, so a commit repeated after a restore is idempotent), and on
 * start resumes from the newest complete checkpoint it finds (`env.fromLatestCheckpoint()`). The parent kills it with
 * SIGKILL at random moments and starts it again with the same command.
 */
import { rename, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  RestartStrategies,
  RichMapFunction,
  StreamExecutionEnvironment,
  TwoPhaseCommitSink,
  ValueStateDescriptor,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { FileSystemCheckpointStorage } from '../../src/storages/fs.ts';
import { pacedSource } from '../helpers/sources.ts';
import { RunningCount } from '../helpers/running-count.ts';

const [dir, recordsArg] = process.argv.slice(2);
if (!dir || !recordsArg) throw new Error('usage: process-job.ts <dir> <records>');
const records = Number(recordsArg);
const JOB = 'chaos-process';

type Txn = { id: string; records: string[] };

class FileSink extends TwoPhaseCommitSink<string, Txn> {
  constructor(private readonly out: string) {
    super();
  }
  beginTransaction(): Txn {
    return { id: `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`, records: [] };
  }
  invoke(txn: Txn, v: string) {
    txn.records.push(v);
  }
  preCommit() {}
  async commit(txn: Txn) {
    const tmp = join(this.out, `.${txn.id}.tmp`);
    await writeFile(tmp, JSON.stringify(txn.records));
    await rename(tmp, join(this.out, `${txn.id}.json`));
  }
  abort() {}
}

const out = join(dir, 'out');
await mkdir(out, { recursive: true });
const storage = new FileSystemCheckpointStorage(join(dir, 'checkpoints'));
const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
env.enableCheckpointing(20).setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 0));
env.getCheckpointConfig().setCheckpointStorage(storage).setMaxRetainedCheckpoints(2);
// The same command on every start: it resumes from the newest complete checkpoint, if any.
env.fromLatestCheckpoint();
env
  .fromSource(
    pacedSource(records, (i) => i, 3),
    undefined,
    'numbers',
  )
  .uid('numbers')
  .keyBy((i) => i % 7)
  .map(new RunningCount(7))
  .uid('count')
  .addSink(new FileSink(out))
  .uid('sink');
process.stdout.write('started\n');
await env.execute(JOB);
process.stdout.write('finished\n');
