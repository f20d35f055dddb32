/** Live sources: order, a clean end, the overflow policies, failures, back-pressure of ReadableStream. */
import { describe, expect, it } from 'vitest';
import {
  BroadcastChannelSource,
  ConfigurationError,
  EventTargetSource,
  ReadableStreamSource,
  ServerSentEventSource,
  SourceError,
  StreamExecutionEnvironment,
  WebSocketSource,
  type OverflowPolicy,
} from '../../src/index.ts';
import { FakeEventSource, FakeWebSocket, TrackedTarget, until } from './helpers.ts';

const env = () => StreamExecutionEnvironment.getExecutionEnvironment();

describe('EventTargetSource', () => {
  it('delivers the events in order, mapped, and finishes on its end event (detaching its listeners)', async () => {
    const target = new TrackedTarget();
    const job = env()
      .fromSource(new EventTargetSource<CustomEvent<number>, number>(target, 'tick', { map: (e) => e.detail, endOn: 'done' }), undefined, 'ticks')
      .executeAndCollect();
    await until(() => target.listeners === 2, 'the source to listen');
    for (let i = 0; i < 2500; i++) target.emit('tick', i);
    await new Promise((r) => setTimeout(r, 20));
    for (let i = 2500; i < 3000; i++) target.emit('tick', i);
    target.emit('done');
    expect(await job).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(target.listeners).toBe(0);
  });

  it('ends when its AbortSignal aborts, after the events buffered before', async () => {
    const target = new TrackedTarget();
    const abort = new AbortController();
    const job = env()
      .fromSource(new EventTargetSource<CustomEvent<string>, string>(target, 'msg', { map: (e) => e.detail, signal: abort.signal }), undefined, 'msgs')
      .executeAndCollect();
    await until(() => target.listeners === 1, 'the source to listen');
    target.emit('msg', 'a');
    target.emit('msg', 'b');
    abort.abort();
    target.emit('msg', 'after the end');
    expect(await job).toEqual(['a', 'b']);
  });

  /** Ten events arrive in one synchronous burst into a buffer of three. */
  async function burst(onOverflow: OverflowPolicy): Promise<{ result: Promise<number[]>; source: EventTargetSource<CustomEvent<number>, number> }> {
    const target = new TrackedTarget();
    const source = new EventTargetSource<CustomEvent<number>, number>(target, 'n', { map: (e) => e.detail, endOn: 'end', bufferSize: 3, onOverflow });
    const result = env().fromSource(source, undefined, 'burst').executeAndCollect();
    result.catch(() => {});
    await until(() => target.listeners === 2, 'the source to listen');
    for (let i = 1; i <= 10; i++) target.emit('n', i);
    target.emit('end');
    return { result, source };
  }

  it("onOverflow 'drop-newest' keeps the first events and counts the drops", async () => {
    const { result, source } = await burst('drop-newest');
    expect(await result).toEqual([1, 2, 3]);
    expect(source.getDroppedCount()).toBe(7);
  });

  it("onOverflow 'drop-oldest' keeps the last events and counts the drops", async () => {
    const { result, source } = await burst('drop-oldest');
    expect(await result).toEqual([8, 9, 10]);
    expect(source.getDroppedCount()).toBe(7);
  });

  it("onOverflow 'fail' (the default) fails the job with SOURCE_BUFFER_FULL instead of dropping", async () => {
    const { result, source } = await burst('fail');
    const error = await result.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).code).toBe('SOURCE_BUFFER_FULL');
    expect((error as Error).message).toContain('[source:event-target]');
    expect((error as Error).message).toContain('buffer of 3 events is full');
    expect(source.getDroppedCount()).toBe(0);
  });

  it('refuses bad options at graph building with INVALID_CONFIG', () => {
    const t = new TrackedTarget();
    expect(() => new EventTargetSource(t, 'x', { bufferSize: 0 })).toThrow(ConfigurationError);
    expect(() => new EventTargetSource(t, 'x', { onOverflow: 'block' as OverflowPolicy })).toThrow(
      /onOverflow must be one of 'fail', 'drop-oldest', 'drop-newest'/,
    );
    expect(() => new EventTargetSource(t, '')).toThrow(/event type/);
    expect(() => new EventTargetSource(42 as never, 'x')).toThrow(/needs the platform object or a factory/);
  });

  it('a map that throws fails the job naming the source operator', async () => {
    const target = new TrackedTarget();
    const job = env()
      .fromSource(
        new EventTargetSource<CustomEvent<number>, number>(target, 'n', {
          map: () => {
            throw new Error('bad event');
          },
        }),
        undefined,
        'Clicks',
      )
      .executeAndCollect();
    job.catch(() => {});
    await until(() => target.listeners === 1, 'the source to listen');
    target.emit('n', 1);
    await expect(job).rejects.toThrow(/Clicks.*poll threw: bad event/);
  });
});

describe('WebSocketSource', () => {
  it('delivers messages in order and finishes on a clean close; a given socket is left to its owner', async () => {
    const socket = new FakeWebSocket();
    const job = env().fromSource(new WebSocketSource<string>(socket), undefined, 'ws').executeAndCollect();
    await until(() => socket.listeners === 2, 'the source to listen');
    for (let i = 0; i < 100; i++) socket.receive(`m${i}`);
    socket.drop(1000, true);
    expect(await job).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`));
    expect(socket.listeners).toBe(0);
    expect(socket.closedWith).toBeUndefined();
  });

  it('an abnormal close fails the job with SOURCE_FAILED (the restart strategy can reconnect through a factory)', async () => {
    const sockets: FakeWebSocket[] = [];
    const job = env()
      .fromSource(
        new WebSocketSource<string>(() => {
          const s = new FakeWebSocket();
          sockets.push(s);
          return s;
        }),
        undefined,
        'ws',
      )
      .executeAndCollect();
    job.catch(() => {});
    await until(() => sockets.length === 1 && sockets[0].listeners === 2, 'the source to listen');
    sockets[0].drop(1006, false);
    const error = (await job.catch((e: unknown) => e)) as SourceError;
    expect(error).toBeInstanceOf(SourceError);
    expect(error.code).toBe('SOURCE_FAILED');
    expect(error.message).toContain('code 1006');
  });

  it('a factory is called per subtask, and what it made is closed when the job is cancelled', async () => {
    const sockets: FakeWebSocket[] = [];
    const e = env().setParallelism(2);
    const seen: string[] = [];
    e.fromSource(
      new WebSocketSource<string>(({ subtaskIndex }) => {
        const s = new FakeWebSocket();
        sockets[subtaskIndex] = s;
        return s;
      }),
      undefined,
      'ws',
    ).addSink((v) => void seen.push(v));
    const client = await e.executeAsync('ws-factory');
    await until(() => sockets.filter((s) => s?.listeners === 2).length === 2, 'both readers to listen');
    sockets[0].receive('from 0');
    sockets[1].receive('from 1');
    await until(() => seen.length === 2, 'both messages');
    expect(seen.sort()).toEqual(['from 0', 'from 1']);
    await client.cancel();
    expect(sockets.map((s) => s.closedWith)).toEqual([1000, 1000]);
  });
});

describe('BroadcastChannelSource', () => {
  it("reads another channel's messages in order (Node's BroadcastChannel) and ends on its signal", async () => {
    const name = `eddy-test-${Math.random()}`;
    const abort = new AbortController();
    let listening: BroadcastChannel | undefined;
    const job = env()
      .fromSource(
        new BroadcastChannelSource<number>(
          () => {
            listening = new BroadcastChannel(name);
            return listening;
          },
          { signal: abort.signal },
        ),
        undefined,
        'bc',
      )
      .executeAndCollect();
    await until(() => listening !== undefined, 'the channel');
    const sender = new BroadcastChannel(name);
    for (let i = 0; i < 50; i++) sender.postMessage(i);
    sender.close();
    // Messages are delivered in later tasks: wait until the receiver had time to see them.
    await new Promise((r) => setTimeout(r, 100));
    abort.abort();
    expect(await job).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('ServerSentEventSource', () => {
  it('reads the chosen event types in order and ends on the end event the server sends', async () => {
    const es = new FakeEventSource();
    const job = env()
      .fromSource(new ServerSentEventSource<number>(es, { events: ['message', 'price'], endOn: 'end', map: (d) => Number(d) }), undefined, 'sse')
      .executeAndCollect();
    await until(() => es.listeners === 4, 'the source to listen');
    es.send('message', '1');
    es.send('price', '2');
    es.send('other', '99');
    es.send('message', '3');
    es.send('end', '');
    expect(await job).toEqual([1, 2, 3]);
  });

  it('fails with SOURCE_FAILED once the EventSource gives up reconnecting', async () => {
    const es = new FakeEventSource();
    const job = env().fromSource(new ServerSentEventSource(es), undefined, 'sse').executeAndCollect();
    job.catch(() => {});
    await until(() => es.listeners === 2, 'the source to listen');
    es.dispatchEvent(new Event('error')); // readyState CONNECTING: it reconnects, nothing to do
    es.giveUp();
    await expect(job).rejects.toMatchObject({ code: 'SOURCE_FAILED' });
  });
});

describe('ReadableStreamSource', () => {
  it('delivers the chunks in order and finishes at the end of the stream', async () => {
    const stream = new ReadableStream<number>({
      start(c) {
        for (let i = 0; i < 300; i++) c.enqueue(i);
        c.close();
      },
    });
    expect(await env().fromSource(new ReadableStreamSource(stream), undefined, 'rs').executeAndCollect()).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('pulls only when the job has room: a slow sink keeps the stream from being read ahead, and nothing is lost', async () => {
    let pulled = 0;
    const stream = new ReadableStream<number>(
      {
        pull(c) {
          if (pulled === 200) c.close();
          else c.enqueue(pulled++);
        },
      },
      { highWaterMark: 1 },
    );
    const written: number[] = [];
    let ahead = 0;
    const e = env();
    e.fromSource(new ReadableStreamSource(stream), undefined, 'rs').addSink(async (v: number) => {
      // Slow: every record takes a macrotask; how far the stream got ahead of the sink is recorded.
      await new Promise((r) => setTimeout(r, 1));
      written.push(v);
      ahead = Math.max(ahead, pulled - written.length);
    });
    await e.execute('slow');
    expect(written).toEqual(Array.from({ length: 200 }, (_, i) => i));
    // One chunk in the reader, one read in flight, one in the stream's queue (highWaterMark 1).
    expect(ahead).toBeLessThanOrEqual(3);
  });

  it('a stream error fails the job with that error', async () => {
    const stream = new ReadableStream<number>({
      start(c) {
        c.enqueue(1);
        c.error(new Error('connection reset'));
      },
    });
    await expect(env().fromSource(new ReadableStreamSource(stream), undefined, 'rs').executeAndCollect()).rejects.toThrow(/connection reset/);
  });
});
