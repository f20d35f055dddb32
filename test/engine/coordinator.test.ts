/**
 * The checkpoint coordinator on its own: fake tasks acknowledge with hand-made parts, and
 * a storage that logs (and can hold or fail) every write shows the order of the commit
 * protocol. Triggers are called directly (the interval is a day) unless a case is about
 * the schedule, which runs on fake timers.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CheckpointError, type EddyError } from '../../src/api/errors.ts';
import { CheckpointCoordinator, FULL_CHECKPOINT_EVERY, type CoordinatorSettings } from '../../src/engine/checkpoint-coordinator.ts';
import type { PartSource } from '../../src/format/checkpoint-format.ts';
import { decodeManifest } from '../../src/format/checkpoint-format.ts';
import type { CoordinatedTask } from '../../src/engine/task.ts';
import { MemoryCheckpointStorage } from '../../src/storages/memory.ts';

/** A storage that logs completed puts and deletes, and can hold or fail chosen puts. */
class LoggingStorage extends MemoryCheckpointStorage {
  readonly held = new Map<string, () => void>();
  hold: (path: string) => boolean = () => false;
  fail: (path: string) => boolean = () => false;
  constructor(private readonly log: string[]) {
    super();
  }
  override async put(path: string, data: Uint8Array): Promise<void> {
    if (this.hold(path)) await new Promise<void>((resolve) => this.held.set(path, resolve));
    if (this.fail(path)) throw new Error(`injected failure writing ${path}`);
    await super.put(path, data);
    this.log.push(`put ${path}`);
  }
  override async delete(path: string): Promise<void> {
    await super.delete(path);
    this.log.push(`delete ${path}`);
  }
}

class FakeTask implements CoordinatedTask {
  readonly triggered: Array<{ id: number; incremental: boolean }> = [];
  notifyFails = false;
  constructor(
    readonly name: string,
    readonly isSource: boolean,
    private readonly log: string[],
  ) {}
  triggerCheckpoint(checkpointId: number, _timestamp: number, incremental: boolean): void {
    this.triggered.push({ id: checkpointId, incremental });
  }
  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    this.log.push(`notify ${this.name} ${checkpointId}`);
    if (this.notifyFails) throw new Error('the sink could not commit');
  }
}

const part = (operatorId: string, incremental = false, fill = 1): PartSource => ({
  operatorId,
  subtaskIndex: 0,
  incremental,
  bytes: () => Uint8Array.of(fill, fill),
});

const attached: CheckpointCoordinator[] = [];
afterEach(async () => {
  for (const c of attached.splice(0)) await c.detach();
  vi.useRealTimers();
});

/** A coordinator over a source task (operator `src`) and a sink task (operator `sink`), attached. */
function setup(settings: Partial<CoordinatorSettings> = {}) {
  const log: string[] = [];
  const storage = new LoggingStorage(log);
  const failures: EddyError[] = [];
  const all: CoordinatorSettings = {
    jobId: 'job',
    storage,
    intervalMs: 86_400_000,
    aligned: true,
    minPauseMs: 0,
    timeoutMs: 60_000,
    tolerableFailures: 0,
    maxRetained: 1,
    incremental: false,
    maxParallelism: 128,
    firstCheckpointId: 1,
    ...settings,
  };
  const c = new CheckpointCoordinator(all, (e) => failures.push(e));
  const source = new FakeTask('Source (1/1)', true, log);
  const sink = new FakeTask('Sink (1/1)', false, log);
  c.attach(
    [source, sink],
    new Map([
      ['src', 1],
      ['sink', 1],
    ]),
  );
  attached.push(c);
  /** Both tasks acknowledge checkpoint `id` with one part each. */
  const ackAll = (id: number, incremental = false) => {
    c.acknowledgeParts(source, id, Promise.resolve([part('src', incremental)]));
    c.acknowledgeParts(sink, id, Promise.resolve([part('sink', incremental)]));
  };
  return { c, settings: all, log, storage, failures, source, sink, ackAll };
}

/** Lets the coordinator's background writes run (real timers only). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('CheckpointCoordinator: trigger, acknowledge, complete', () => {
  it('asks only source tasks to inject barriers, with ids counting up from firstCheckpointId', async () => {
    const { c, source, sink, ackAll } = setup({ firstCheckpointId: 7 });
    const first = c.trigger();
    expect(source.triggered).toEqual([{ id: 7, incremental: false }]);
    expect(sink.triggered).toEqual([]);
    ackAll(7);
    expect(await first).toBe('job/chk-7');
    const second = c.trigger();
    expect(source.triggered.map((t) => t.id)).toEqual([7, 8]);
    ackAll(8);
    expect(await second).toBe('job/chk-8');
  });

  it('completes only once every task acknowledged: the manifest lists every operator subtask with its part', async () => {
    const { c, storage, source, sink } = setup();
    const done = c.trigger();
    c.acknowledgeParts(source, 1, Promise.resolve([part('src')]));
    await settle();
    expect(await storage.get('job/chk-1/src-0')).toEqual(Uint8Array.of(1, 1));
    expect(await storage.get('job/chk-1/_metadata'), 'no manifest while the sink has not acknowledged').toBeUndefined();
    c.acknowledgeParts(sink, 1, Promise.resolve([part('sink', false, 2)]));
    expect(await done).toBe('job/chk-1');
    const manifest = decodeManifest((await storage.get('job/chk-1/_metadata'))!, 'job/chk-1/_metadata');
    expect(manifest).toMatchObject({ jobId: 'job', checkpointId: 1, savepoint: false, maxParallelism: 128 });
    expect(manifest.operators.map((o) => [o.operatorId, o.parallelism, o.parts.map((chain) => chain?.map((h) => [h.path, h.size]))])).toEqual([
      ['src', 1, [[['job/chk-1/src-0', 2]]]],
      ['sink', 1, [[['job/chk-1/sink-0', 2]]]],
    ]);
    expect(c.completed).toEqual(['job/chk-1']);
  });

  it('refuses a trigger while a checkpoint is pending, and before attach or after detach', async () => {
    const { c, settings, ackAll } = setup();
    const first = c.trigger();
    expect(await failureOf(c.trigger())).toMatchObject({ code: 'CHECKPOINT_FAILED', message: expect.stringContaining('another checkpoint is in progress') });
    ackAll(1);
    await first;
    await c.detach();
    expect(await failureOf(c.trigger())).toMatchObject({ code: 'CHECKPOINT_FAILED', message: expect.stringContaining('the job is not running') });
    const fresh = new CheckpointCoordinator(settings, () => {});
    expect(await failureOf(fresh.trigger())).toBeInstanceOf(CheckpointError);
  });

  it('ignores an acknowledgement of a checkpoint that is not pending (late, or of an aborted one)', async () => {
    const { c, log, source } = setup();
    c.acknowledgeParts(source, 1, Promise.resolve([part('src')]));
    c.acknowledgeParts(source, 1, Promise.reject(new Error('a late part that failed to encode')));
    await settle();
    expect(log).toEqual([]);
  });
});

describe('CheckpointCoordinator: the manifest is the commit point', () => {
  it('notifies tasks of completion only after the manifest write finished', async () => {
    const { c, log, storage, ackAll } = setup();
    storage.hold = (path) => path.endsWith('/_metadata');
    const done = c.trigger();
    ackAll(1);
    await settle();
    expect(storage.held.has('job/chk-1/_metadata')).toBe(true);
    expect(
      log.filter((l) => l.startsWith('notify')),
      'nobody is told while the manifest is being written',
    ).toEqual([]);
    storage.held.get('job/chk-1/_metadata')!();
    await done;
    const manifestAt = log.indexOf('put job/chk-1/_metadata');
    expect(manifestAt).toBeGreaterThanOrEqual(0);
    expect(log.indexOf('notify Source (1/1) 1')).toBeGreaterThan(manifestAt);
    expect(log.indexOf('notify Sink (1/1) 1')).toBeGreaterThan(manifestAt);
  });

  it('a failed part write never commits a manifest: the checkpoint fails, its written parts are deleted, nobody is notified', async () => {
    const { c, log, storage, source, sink, failures } = setup({ tolerableFailures: 5 });
    storage.fail = (path) => path === 'job/chk-1/sink-0';
    const done = c.trigger();
    c.acknowledgeParts(source, 1, Promise.resolve([part('src')]));
    await settle();
    c.acknowledgeParts(sink, 1, Promise.resolve([part('sink')]));
    const e = await failureOf(done);
    expect(e).toMatchObject({ code: 'CHECKPOINT_FAILED', message: expect.stringContaining('Sink (1/1)') });
    await settle();
    expect(log.some((l) => l.includes('_metadata') && l.startsWith('put'))).toBe(false);
    expect(await storage.list('job/chk-1/')).toEqual([]);
    expect(log.filter((l) => l.startsWith('notify'))).toEqual([]);
    expect(c.completed).toEqual([]);
    expect(failures, 'within the tolerance').toEqual([]);
  });

  it('a part that fails to encode fails the checkpoint the same way', async () => {
    const { c, log, source } = setup({ tolerableFailures: 5 });
    const done = c.trigger();
    c.acknowledgeParts(
      source,
      1,
      Promise.resolve([
        {
          ...part('src'),
          bytes: () => {
            throw new Error('cannot encode');
          },
        },
      ]),
    );
    expect(await failureOf(done)).toMatchObject({ code: 'CHECKPOINT_FAILED', message: expect.stringContaining('cannot encode') });
    expect(log.some((l) => l.startsWith('put'))).toBe(false);
  });

  it('a checkpoint aborted while its manifest is written deletes nothing until the write ended, then takes the commit back manifest first', async () => {
    vi.useFakeTimers();
    const { c, storage, ackAll, log } = setup({ timeoutMs: 1000, tolerableFailures: 5 });
    storage.hold = (path) => path.endsWith('/_metadata');
    const done = failureOf(c.trigger());
    ackAll(1);
    await vi.advanceTimersByTimeAsync(10);
    expect(storage.held.has('job/chk-1/_metadata')).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await done).toMatchObject({ code: 'CHECKPOINT_FAILED', message: expect.stringContaining('expired after 1000 ms') });
    // A crash now would leave whatever is stored: the parts must still be there for the manifest that may land.
    expect(log.filter((l) => l.startsWith('delete'))).toEqual([]);
    storage.held.get('job/chk-1/_metadata')!();
    await vi.advanceTimersByTimeAsync(10);
    expect(await storage.get('job/chk-1/_metadata')).toBeUndefined();
    // Taken back manifest first, then the parts.
    const deletes = log.filter((l) => l.startsWith('delete'));
    expect(deletes[0]).toBe('delete job/chk-1/_metadata');
    expect(deletes.length).toBeGreaterThan(1);
    expect(await storage.list('job/chk-1/')).toEqual([]);
    expect(log.filter((l) => l.startsWith('notify'))).toEqual([]);
    expect(c.completed).toEqual([]);
  });

  it('a notifyCheckpointComplete that fails fails the job (the checkpoint itself stays complete)', async () => {
    const { c, sink, ackAll, failures } = setup();
    sink.notifyFails = true;
    const done = c.trigger();
    ackAll(1);
    expect(await done).toBe('job/chk-1');
    expect(failures.map((e) => e.code)).toEqual(['CHECKPOINT_FAILED']);
    expect(failures[0]!.message).toContain('the sink could not commit');
  });
});

describe('CheckpointCoordinator: abort, timeout and the failure tolerance', () => {
  it('a checkpoint expires after timeoutMs; past the tolerance the job fails', async () => {
    vi.useFakeTimers();
    const { c, storage, source, failures, log } = setup({ timeoutMs: 500, tolerableFailures: 0 });
    let settled = false;
    const done = failureOf(c.trigger()).finally(() => (settled = true));
    c.acknowledgeParts(source, 1, Promise.resolve([part('src')]));
    await vi.advanceTimersByTimeAsync(499);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await done).toMatchObject({ code: 'CHECKPOINT_FAILED', message: expect.stringContaining('checkpoint 1 expired after 500 ms') });
    expect(failures).toHaveLength(1);
    expect(failures[0]!.message).toContain('1 consecutive checkpoint failures exceed the tolerance of 0');
    await vi.advanceTimersByTimeAsync(10);
    expect(await storage.list('job/chk-1/'), 'the written part is deleted').toEqual([]);
    expect(log.filter((l) => l.startsWith('notify'))).toEqual([]);
  });

  it('only consecutive failures count: a completed checkpoint resets the count', async () => {
    vi.useFakeTimers();
    const { c, failures, ackAll } = setup({ timeoutMs: 100, tolerableFailures: 1 });
    const expire = async () => {
      const done = failureOf(c.trigger());
      await vi.advanceTimersByTimeAsync(100);
      return done;
    };
    await expire();
    expect(failures, 'one failure is tolerated').toEqual([]);
    const ok = c.trigger();
    ackAll(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(await ok).toBe('job/chk-2');
    await expire();
    expect(failures, 'the count started again after checkpoint 2').toEqual([]);
    await expire();
    expect(failures.map((e) => e.message.includes('2 consecutive checkpoint failures exceed the tolerance of 1'))).toEqual([true]);
  });

  it('a task finishing before its barrier is asked for its final state instead, and later checkpoints go on with it (checkpoints after tasks finish)', async () => {
    const { c, source, sink, failures } = setup({ tolerableFailures: 0 });
    const done = c.trigger();
    c.taskFinished(sink);
    expect(
      sink.triggered.map((t) => t.id),
      'the finished task is asked directly',
    ).toEqual([1]);
    c.acknowledgeParts(source, 1, Promise.resolve([part('src')]));
    c.acknowledgeParts(sink, 1, Promise.resolve([part('sink')]));
    expect(await done).toBe('job/chk-1');
    const next = c.trigger();
    expect(
      sink.triggered.map((t) => t.id),
      'later checkpoints trigger it with the sources',
    ).toEqual([1, 2]);
    expect(source.triggered.map((t) => t.id)).toEqual([1, 2]);
    c.acknowledgeParts(source, 2, Promise.resolve([part('src')]));
    c.acknowledgeParts(sink, 2, Promise.resolve([part('sink')]));
    expect(await next).toBe('job/chk-2');
    expect(failures).toEqual([]);
  });

  it('detach abandons a pending checkpoint without counting it', async () => {
    const { c, failures } = setup({ tolerableFailures: 0 });
    const done = c.trigger();
    await c.detach();
    expect(await failureOf(done)).toMatchObject({ code: 'CHECKPOINT_FAILED', message: expect.stringContaining('abandoned') });
    expect(failures).toEqual([]);
  });

  it('triggers on the interval after attach, and again an interval after a failed checkpoint', async () => {
    vi.useFakeTimers();
    const { source } = setup({ intervalMs: 100, timeoutMs: 50, tolerableFailures: 10 });
    await vi.advanceTimersByTimeAsync(99);
    expect(source.triggered).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(source.triggered.map((t) => t.id)).toEqual([1]);
    await vi.advanceTimersByTimeAsync(50 + 99);
    expect(
      source.triggered.map((t) => t.id),
      'checkpoint 1 expired at 150; the next comes at 250',
    ).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1);
    expect(source.triggered.map((t) => t.id)).toEqual([1, 2]);
  });
});

describe('CheckpointCoordinator: retention and incremental chains', () => {
  it('drops checkpoints beyond maxRetained only after the newer one completed and was notified, manifest first', async () => {
    const { c, log, storage, ackAll } = setup({ maxRetained: 2 });
    for (let id = 1; id <= 3; id++) {
      const done = c.trigger();
      ackAll(id);
      await done;
    }
    // Old checkpoints are dropped after the caller learnt of the new one.
    await settle();
    expect(c.completed).toEqual(['job/chk-2', 'job/chk-3']);
    expect(await storage.list('job/chk-1')).toEqual([]);
    expect(await storage.list('job/chk-2/')).toEqual(['job/chk-2/_metadata', 'job/chk-2/sink-0', 'job/chk-2/src-0']);
    const at = (entry: string) => log.indexOf(entry);
    expect(at('put job/chk-3/_metadata')).toBeLessThan(at('notify Sink (1/1) 3'));
    expect(at('notify Sink (1/1) 3')).toBeLessThan(at('delete job/chk-1/_metadata'));
    expect(at('delete job/chk-1/_metadata')).toBeLessThan(at('delete job/chk-1/src-0'));
    expect(log.some((l) => l.startsWith('delete job/chk-2'))).toBe(false);
  });

  it('a delta part extends the chain of the last completed checkpoint; parts a retained chain references outlive their checkpoint', async () => {
    const { c, storage, source, sink } = setup({ incremental: true, maxRetained: 1 });
    const ack = (id: number, srcDelta: boolean) => {
      c.acknowledgeParts(source, id, Promise.resolve([part('src', srcDelta)]));
      c.acknowledgeParts(sink, id, Promise.resolve([part('sink')]));
    };
    let done = c.trigger();
    expect(source.triggered.at(-1)!.incremental).toBe(true);
    ack(1, false);
    await done;
    done = c.trigger();
    ack(2, true);
    await done;
    await settle();
    const manifest = decodeManifest((await storage.get('job/chk-2/_metadata'))!, 'm');
    expect(manifest.operators.find((o) => o.operatorId === 'src')!.parts[0]!.map((h) => h.path)).toEqual(['job/chk-1/src-0', 'job/chk-2/src-0']);
    expect(await storage.list('job/chk-1/'), 'chk-1 is dropped but its src part is still referenced').toEqual(['job/chk-1/src-0']);
    done = c.trigger();
    ack(3, false);
    await done;
    await settle();
    expect(await storage.list('job/chk-1/'), 'a full part ends the chain: the leftover goes').toEqual([]);
  });

  it('a delta without a completed base fails the checkpoint', async () => {
    const { c, source, sink } = setup({ incremental: true, tolerableFailures: 5 });
    const done = c.trigger();
    c.acknowledgeParts(source, 1, Promise.resolve([part('src', true)]));
    c.acknowledgeParts(sink, 1, Promise.resolve([part('sink')]));
    expect(await failureOf(done)).toMatchObject({ message: expect.stringContaining('no completed checkpoint holds its base') });
  });

  it(`with incremental checkpoints every ${FULL_CHECKPOINT_EVERY}th checkpoint is full; savepoints are always full and not retained`, async () => {
    const { c, source, ackAll } = setup({ incremental: true, maxRetained: 10 });
    for (let id = 1; id <= FULL_CHECKPOINT_EVERY; id++) {
      const done = c.trigger();
      ackAll(id);
      await done;
    }
    expect(source.triggered.map((t) => t.incremental)).toEqual([...new Array(FULL_CHECKPOINT_EVERY - 1).fill(true), false]);
    const savepoint = c.triggerSavepoint();
    await settle();
    expect(source.triggered.at(-1)).toEqual({ id: FULL_CHECKPOINT_EVERY + 1, incremental: false });
    ackAll(FULL_CHECKPOINT_EVERY + 1);
    expect(await savepoint).toBe(`job/savepoint-${FULL_CHECKPOINT_EVERY + 1}`);
    expect(c.completed).not.toContain(`job/savepoint-${FULL_CHECKPOINT_EVERY + 1}`);
    expect(c.completed).toHaveLength(FULL_CHECKPOINT_EVERY);
  });
});
