/**
 * The job of the SIGKILL test, as a program: `node --import tsx kill-job.ts <dir> <events>`.
 * A producer appends the events `0 … events-1` to a durable file log in `<dir>/log` at a
 * steady pace (resuming at the log's next offset, as a client would resume its feed),
 * while a keyed job reads the log, counts per key and commits its output through a
 * two-phase-commit sink, one file per transaction in `<dir>/out` (renamed into place, so
 * a commit repeated after a restore is idempotent). It checkpoints into
 * `<dir>/checkpoints` and resumes from the newest one on start (`fromLatestCheckpoint()`).
 * The test kills it with SIGKILL at random moments and reruns the same command.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DurableLog } from '../../src/engine/input-log/durable-log.ts';
import { RestartStrategies, StreamExecutionEnvironment, TwoPhaseCommitSink } from '../../src/index.ts';
import { FileInputLogStore } from '../../src/storages/fs-input-log.ts';
import { FileSystemCheckpointStorage } from '../../src/storages/fs.ts';
import { RunningCount } from '../helpers/running-count.ts';

const [dir, eventsArg] = process.argv.slice(2);
if (!dir || !eventsArg) throw new Error('usage: kill-job.ts <dir> <events>');
const EVENTS = Number(eventsArg);

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
const log = await DurableLog.open<number>(new FileInputLogStore(join(dir, 'log'), { segmentBytes: 4096 }), { name: 'events' });
process.stdout.write(`started first=${log.firstOffset} next=${log.nextOffset}\n`);

const producing = (async () => {
  while (log.nextOffset < EVENTS) {
    const from = log.nextOffset;
    await log.appendAll(Array.from({ length: Math.min(5, EVENTS - from) }, (_, k) => from + k));
    await new Promise((r) => setTimeout(r, 35));
  }
})();

const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
env.enableCheckpointing(25).setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 0));
env
  .getCheckpointConfig()
  .setCheckpointStorage(new FileSystemCheckpointStorage(join(dir, 'checkpoints')))
  .setMaxRetainedCheckpoints(2);
env.fromLatestCheckpoint();
env
  .fromSource(log.source({ stopAtOffset: EVENTS }), undefined, 'events')
  .uid('events')
  .keyBy((i) => i % 7)
  .map(new RunningCount(7))
  .uid('count')
  .addSink(new FileSink(out))
  .uid('sink');
await env.execute('log-kills');
await producing;
await log.close();
process.stdout.write('finished\n');
