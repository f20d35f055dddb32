/** Sinks: WritableStream with back-pressure, print(), Sink V2 flush(false) per checkpoint, notifyCheckpointAborted. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryCheckpointStorage, StreamExecutionEnvironment, WritableStreamSink, type Sink, type SinkWriter } from '../../src/index.ts';
import { FaultyStorage } from '../helpers/faulty-storage.ts';
import { pacedSource } from '../helpers/sources.ts';

afterEach(() => vi.restoreAllMocks());

describe('WritableStreamSink', () => {
  it('every record arrives in order at a slow stream, which is closed at the end of input', async () => {
    const written: number[] = [];
    let closed = false;
    const stream = new WritableStream<number>(
      {
        async write(chunk) {
          await new Promise((r) => setTimeout(r, 0));
          written.push(chunk);
        },
        close() {
          closed = true;
        },
      },
      { highWaterMark: 4 },
    );
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.fromGenerator((i) => i, { count: 300 }).sinkTo(new WritableStreamSink(stream));
    await env.execute('slow-stream');
    expect(written).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(closed).toBe(true);
  });

  it('a slow stream slows the job: the source is held at the stream queue (await writer.ready), nothing piles up or is lost', async () => {
    const written: number[] = [];
    let produced = 0;
    let maxAhead = 0;
    const stream = new WritableStream<number>(
      {
        async write(chunk) {
          await new Promise((r) => setTimeout(r, 5));
          written.push(chunk);
        },
      },
      { highWaterMark: 2 },
    );
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    env
      .fromSource(
        pacedSource(100, (i) => i, 1),
        undefined,
        'one at a time',
      )
      .map((i: number) => {
        produced++;
        maxAhead = Math.max(maxAhead, produced - written.length);
        return i;
      })
      .sinkTo(new WritableStreamSink(stream));
    await env.execute('held');
    expect(written).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // One record at a time from the source: the queue (2) and the write under way bound it.
    expect(maxAhead).toBeLessThanOrEqual(4);
  });

  it('a given stream refuses a parallel sink with INVALID_CONFIG; a factory gets a stream per subtask', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
    env.fromElements(1, 2, 3).sinkTo(new WritableStreamSink(new WritableStream<number>()));
    await expect(env.execute('parallel')).rejects.toThrow(/a given WritableStream takes one writer/);

    const perSubtask = new Map<number, number[]>();
    const env2 = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
    env2
      .fromGenerator((i) => i, { count: 10 })
      .sinkTo(
        new WritableStreamSink<number>((ctx) => {
          const got: number[] = [];
          perSubtask.set(ctx.getSubtaskId(), got);
          return new WritableStream<number>({ write: (c) => void got.push(c) });
        }),
      );
    await env2.execute('factory');
    expect([...perSubtask.keys()].sort()).toEqual([0, 1]);
    expect([...perSubtask.values()].flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });

  it("a stream's error fails the job", async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.fromElements(1, 2, 3).sinkTo(
      new WritableStreamSink(
        new WritableStream<number>({
          write(c) {
            if (c === 2) throw new Error('disk full');
          },
        }),
      ),
    );
    await expect(env.execute('failing-stream')).rejects.toThrow(/disk full/);
  });
});

describe('print() and printToErr()', () => {
  it("prints one line per record, prefixed 'subtask> ' when parallel (as Flink)", async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.fromElements('a', 'b').print();
    env.fromElements({ n: 1 }, { n: 2 }).rebalance().setParallelism(2).print().setParallelism(2);
    await env.execute('print');
    expect(lines.filter((l) => !l.includes('>')).sort()).toEqual(['a', 'b']);
    expect(lines.filter((l) => l.includes('>')).sort()).toEqual(['1> {"n":1}', '2> {"n":2}']);
  });

  it("printToErr writes to the error channel with Flink's 'identifier> ' prefix", async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void lines.push(line));
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.fromElements(1, 2).printToErr('errs');
    await env.execute('print-err');
    expect(lines).toEqual(['errs> 1', 'errs> 2']);
  });
});

/** A Sink V2 whose writer logs what it is asked to do, into `log` (shared through a closure). */
function loggingSink(log: string[]): Sink<number> {
  return {
    createWriter(): SinkWriter<number> & { notifyCheckpointAborted(id: number): void } {
      return {
        write: (v) => void log.push(`write ${v}`),
        flush: (endOfInput) => void log.push(`flush ${endOfInput}`),
        notifyCheckpointAborted: (id) => void log.push(`aborted ${id}`),
      };
    },
  };
}

describe('Sink V2 writers and checkpoints', () => {
  it('flush(false) before every checkpoint, flush(true) once at the end', async () => {
    const log: string[] = [];
    const completed: number[] = [];
    const env = StreamExecutionEnvironment.getExecutionEnvironment().enableCheckpointing(10);
    env.getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
    env
      .fromSource(
        pacedSource(200, (i) => i, 2),
        undefined,
        'paced',
      )
      .map({ map: (i: number) => i, notifyCheckpointComplete: (id: number) => void completed.push(id) })
      .sinkTo(loggingSink(log));
    await env.execute('flushes');
    const flushes = log.filter((l) => l.startsWith('flush'));
    expect(completed.length).toBeGreaterThan(0);
    // One flush(false) per checkpoint taken by the running sink (completed ones at least, the final one excluded).
    expect(flushes.filter((f) => f === 'flush false').length).toBeGreaterThanOrEqual(completed.length - 1);
    expect(flushes.filter((f) => f === 'flush true')).toHaveLength(1);
    expect(flushes.at(-1)).toBe('flush true');
    expect(log.filter((l) => l.startsWith('write'))).toHaveLength(200);
  });

  it('notifyCheckpointAborted reaches functions and writers once for a checkpoint that failed', async () => {
    const log: string[] = [];
    const aborted: number[] = [];
    const completed: number[] = [];
    const storage = new FaultyStorage({ failManifestWrite: 2 });
    const env = StreamExecutionEnvironment.getExecutionEnvironment().enableCheckpointing(10);
    env.getCheckpointConfig().setCheckpointStorage(storage);
    env.getCheckpointConfig().setTolerableCheckpointFailureNumber(5);
    env
      .fromSource(
        pacedSource(300, (i) => i, 1),
        undefined,
        'paced',
      )
      .map({
        map: (i: number) => i,
        notifyCheckpointComplete: (id: number) => void completed.push(id),
        notifyCheckpointAborted: (id: number) => void aborted.push(id),
      })
      .sinkTo(loggingSink(log));
    await env.execute('aborted');
    expect(storage.manifestWrites).toBeGreaterThanOrEqual(3);
    expect(aborted).toHaveLength(1);
    expect(completed).not.toContain(aborted[0]);
    expect(completed.some((id) => id > aborted[0])).toBe(true);
    expect(log.filter((l) => l.startsWith('aborted'))).toEqual([`aborted ${aborted[0]}`]);
  });
});
