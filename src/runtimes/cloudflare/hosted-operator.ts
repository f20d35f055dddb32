/**
 * The engine's `KeyedProcessOperator`, driven by a Durable Object instead of a task: the
 * object hands it whole batches, watermarks and alarm wake-ups, and takes its state out
 * after every batch. Only what the object needs is added; processing is the engine's.
 */
import { SystemClock } from '../../api/clock.ts';
import { EddyError } from '../../api/errors.ts';
import type { KeyedProcessFunctionLike } from '../../api/functions.ts';
import type { WatermarkGenerator } from '../../api/watermarks.ts';
import type { Key } from '../../format/key-bytes.ts';
import { keyGroupForKey, keyGroupRangeForSubtask, type KeyGroupRange } from '../../format/key-groups.ts';
import { instantiate } from '../../engine/operators/function-copy.ts';
import { OutputBuffer, type OperatorRestore, type OperatorSnapshot, type RecordBatch } from '../../engine/operators/operator.ts';
import { KeyedProcessOperator } from '../../engine/operators/process.ts';
import type { StateBackend } from '../../state/backend.ts';
import type { CapturedTimers, OperatorTimers, Timer } from '../../engine/timers.ts';
import type { TimeDomain } from '../../api/functions.ts';
import type { ResolvedJobOptions, StoredTimerService } from './job-config.ts';

/**
 * The engine's timer service in front of timers kept in the object's storage: the
 * operator registers, deletes and polls through it, and the watermark stays here.
 */
class StoredTimers implements OperatorTimers {
  watermark = -Infinity;
  constructor(private readonly stored: StoredTimerService) {}
  register(domain: TimeDomain, key: Key, keyGroup: number, timestamp: number, namespace = ''): boolean {
    return this.stored.register(domain, key, keyGroup, timestamp, namespace);
  }
  delete(domain: TimeDomain, key: Key, _keyGroup: number, timestamp: number, namespace = ''): void {
    this.stored.delete(domain, key, timestamp, namespace);
  }
  nextProcessingTime(): number | undefined {
    return this.stored.nextProcessingTime();
  }
  pollDue(domain: TimeDomain, time: number): Timer | undefined {
    const t = this.stored.pollDue(domain, time);
    // Stored timers are gone once polled: no epoch or order to keep here.
    return t === undefined ? undefined : { ...t, addedIn: 0, endedIn: Number.POSITIVE_INFINITY, seq: 0 };
  }
  timersOf(key: Key, _keyGroup: number): { eventTime: number[]; processingTime: number[] } {
    if (this.stored.timersOf === undefined) {
      throw new EddyError('INVALID_ARGUMENT', 'the stored timer service has no timersOf(key): its timers cannot be listed for a state query', {
        component: 'cloudflare',
      });
    }
    return this.stored.timersOf(key);
  }
  size(domain: TimeDomain): number {
    return this.stored.size(domain);
  }
  async snapshot(): Promise<Map<number, Uint8Array>> {
    return this.stored.snapshot();
  }
  /** Stored timers are written whole into a savepoint: no delta base, ever. */
  capture(): CapturedTimers {
    const full = this.stored.snapshot();
    return {
      baseCheckpointId: undefined,
      full: async () => full,
      delta: () => Promise.reject(new Error('[eddy] [cloudflare] stored timers have no delta')),
    };
  }
  notifyCheckpointComplete(): void {}
  restore(snapshot: ReadonlyMap<number, Uint8Array>): void {
    this.stored.restore(snapshot);
  }
}

/** Exposes the parts of the operator's state an object persists between batches. */
class ObjectKeyedProcessOperator<K extends Key, IN, OUT> extends KeyedProcessOperator<K, IN, OUT> {
  /** True once the timers live in the object's storage (then snapshots per batch leave them out). */
  timersInStorage = false;

  /**
   * Moves the operator onto timers kept in the object's storage, with the timers a
   * savepoint restored (the engine's in-memory service holds them after `initializeState`).
   */
  useStoredTimers(stored: StoredTimerService, restored: ReadonlyArray<ReadonlyMap<number, Uint8Array>>): void {
    const timers = new StoredTimers(stored);
    timers.watermark = this.timers!.watermark;
    for (const snapshot of restored) timers.restore(snapshot);
    this.timers = timers;
    this.timersInStorage = true;
  }

  /** The earliest pending processing-time timer. */
  nextProcessingTime(): number | undefined {
    return this.timers?.nextProcessingTime();
  }
  /**
   * Forgets what the backend buffered for a transaction that rolled back (a write-behind
   * cache would otherwise write it out when the backend is disposed, outside any transaction).
   */
  dropUncommitted(): void {
    (this.backend as { afterRollback?: () => void } | undefined)?.afterRollback?.();
  }
  /** Writes out whatever the backend still buffers, so that it commits with the batch. */
  async flushState(): Promise<void> {
    await this.backend?.flush?.();
  }
  /**
   * Timers and operator state without the keyed state, for a backend that keeps keyed
   * state in the object's storage already (and without timers kept there too); the
   * function's `snapshotState` hook still runs.
   */
  async snapshotWithoutKeyed(checkpointId: number): Promise<OperatorSnapshot> {
    await this.snapshotState(checkpointId, Date.now(), { hooksOnly: true });
    const operatorState = this.operatorState.snapshot();
    if (this.timersInStorage) return { operatorState };
    const timers = await this.timers?.snapshot();
    return { operatorState, timers };
  }
}

/** What one batch produced. */
export interface Emitted {
  readonly output: unknown[];
  readonly sideOutputs: Record<string, unknown[]>;
}

/** One subtask of a keyed job, living in one Durable Object for as long as it stays in memory. */
export class HostedOperator<K extends Key, IN, OUT> {
  readonly keyGroupRange: KeyGroupRange;
  private readonly op: ObjectKeyedProcessOperator<K, IN, OUT>;
  private readonly out = new OutputBuffer();
  private readonly generator: WatermarkGenerator<IN> | undefined;
  private generated = -Infinity;
  /** The processing time the alarm should wake the object at (the earliest timer), if any. */
  wakeUpAt: number | undefined;

  private constructor(
    private readonly options: ResolvedJobOptions<K, IN, OUT>,
    readonly subtask: number,
    readonly parallelism: number,
    /** The object's event-time clock (persisted by the object). */
    public watermark: number,
  ) {
    this.keyGroupRange = keyGroupRangeForSubtask(options.maxParallelism, parallelism, subtask);
    this.op = new ObjectKeyedProcessOperator(instantiate(options.process as KeyedProcessFunctionLike<K, IN, OUT>));
    this.generator = options.watermarks?.createWatermarkGenerator();
  }

  /** Creates the operator of subtask `subtask` of `parallelism`, from `restore` when given, and opens it. */
  static async start<K extends Key, IN, OUT>(
    options: ResolvedJobOptions<K, IN, OUT>,
    backend: StateBackend,
    subtask: number,
    parallelism: number,
    watermark: number,
    restore: OperatorRestore | undefined,
    storedTimers?: StoredTimerService,
  ): Promise<HostedOperator<K, IN, OUT>> {
    const host = new HostedOperator(options, subtask, parallelism, watermark);
    const name = options.name;
    await host.op.initializeState(
      {
        jobName: name,
        jobId: options.jobId,
        operatorId: options.uid,
        name,
        displayName: `${name} (${subtask + 1}/${parallelism})`,
        subtaskIndex: subtask,
        parallelism,
        maxParallelism: options.maxParallelism,
        keyGroupRange: host.keyGroupRange,
        keyed: true,
        clock: new SystemClock(),
        stateBackend: backend,
        // The object derives its watermark after every batch, not on a processing-time period.
        autoWatermarkInterval: 0,
        scheduleProcessingTime: (time) => {
          if (host.wakeUpAt === undefined || time < host.wakeUpAt) host.wakeUpAt = time;
        },
        // Processing-time timers fire on the object's alarm, between batches.
        hasMail: () => false,
        runMail: () => Promise.resolve(),
      },
      restore,
    );
    if (storedTimers !== undefined) {
      host.op.useStoredTimers(storedTimers, restore?.timers ?? []);
      host.wakeUpAt = storedTimers.nextProcessingTime();
    }
    if (watermark > -Infinity) await host.op.processWatermark(watermark, host.out);
    host.out.takeWatermark();
    await host.op.open();
    return host;
  }

  /** Processes the events of one batch, then the watermark they (and the caller) move to. */
  async processEvents(events: readonly IN[], declaredWatermark: number | undefined): Promise<void> {
    const { keyBy, maxParallelism, watermarks } = this.options;
    const n = events.length;
    const keys = new Array<Key>(n);
    // As NetworkOutput makes them, so that the operator's reads see one kind of array.
    const keyGroups = new Array<number>(n);
    const assign = watermarks?.timestampAssigner;
    const timestamps = assign ? new Array<number>(n) : undefined;
    for (let i = 0; i < n; i++) {
      const event = events[i];
      const key = keyBy(event);
      const group = keyGroupForKey(key, maxParallelism);
      if (!this.keyGroupRange.contains(group)) {
        throw new EddyError(
          'INVALID_ARGUMENT',
          `an event of key group ${group} reached subtask ${this.subtask} of ${this.parallelism}, which owns ${this.keyGroupRange.start}..${this.keyGroupRange.end}: the Worker routed it with another parallelism`,
          {
            component: 'runtime:cloudflare',
            operator: `${this.options.name} (${this.subtask + 1}/${this.parallelism})`,
            key,
          },
        );
      }
      keys[i] = key;
      keyGroups[i] = group;
      if (timestamps !== undefined) {
        const ts = assign!(event, undefined);
        timestamps[i] = ts;
        this.generator?.onEvent(event, ts, { emitWatermark: (w) => void (w > this.generated && (this.generated = w)) });
      }
    }
    if (n > 0) {
      const batch: RecordBatch = { values: events as unknown[], timestamps, keys, keyGroups };
      await this.op.processBatch(batch, this.out);
    }
    this.generator?.onPeriodicEmit({ emitWatermark: (w) => void (w > this.generated && (this.generated = w)) });
    const next = Math.max(this.generated, declaredWatermark ?? -Infinity);
    if (next > this.watermark) {
      this.watermark = next;
      await this.op.processWatermark(next, this.out);
      this.out.takeWatermark();
    }
  }

  /** Fires the processing-time timers due at `now`. */
  async fireProcessingTime(now: number): Promise<void> {
    const due = this.op.nextProcessingTime();
    this.wakeUpAt = undefined;
    if (due !== undefined && due <= now) await this.op.onProcessingTime(now, this.out);
    this.wakeUpAt = this.op.nextProcessingTime();
  }

  /** The earliest pending processing-time timer. */
  nextProcessingTime(): number | undefined {
    return this.op.nextProcessingTime();
  }

  /** What was emitted since the last call. */
  takeEmitted(): Emitted {
    const output = this.out.take().values;
    const sides = this.out.takeSides();
    const sideOutputs: Record<string, unknown[]> = {};
    if (sides !== undefined) for (const [tag, batch] of sides) sideOutputs[tag] = batch.values;
    return { output, sideOutputs };
  }

  /** The operator's whole snapshot (keyed state, timers, operator state), in canonical form. */
  async snapshot(checkpointId: number, withKeyed: boolean): Promise<OperatorSnapshot> {
    await this.op.flushState();
    if (!withKeyed) return this.op.snapshotWithoutKeyed(checkpointId);
    return (await this.op.snapshotState(checkpointId, Date.now())).snapshot;
  }

  /** Tells the function (a `CheckpointListener`) that the batch's state committed. */
  notifyCommitted(checkpointId: number): Promise<void> {
    return this.op.notifyCheckpointComplete(checkpointId);
  }

  /** Closes the function and releases the backend. */
  close(): Promise<void> {
    return this.op.close();
  }

  /** Closes after a failure: what the failed batch left buffered is dropped, not written. */
  discard(): Promise<void> {
    this.op.dropUncommitted();
    return this.op.close();
  }
}
