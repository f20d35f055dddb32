/**
 * What every operator shares: the state of its subtask (keyed backend, timers, operator
 * state), the lifecycle of its user function, and the per-record loop that sets the
 * current key and names the operator and key in every error a user function throws.
 */
import { EddyError, StateError, UserFunctionError } from '../../api/errors.ts';
import type { CheckpointedFunction, CheckpointListener, RuntimeContext, TimeDomain, TimerService } from '../../api/functions.ts';
import { MAX_WATERMARK } from '../../api/watermarks.ts';
import type { Key } from '../../format/key-bytes.ts';
import type { KeyedStateBackend } from '../../state/backend.ts';
import { KeyedStateStore } from '../../state/keyed-state-store.ts';
import { DefaultOperatorStateStore } from '../../state/operator-state.ts';
import { InternalTimerService, type OperatorTimers, type Timer } from '../timers.ts';
import type {
  OperatorContext,
  OperatorRestore,
  OperatorSnapshot,
  OutputBuffer,
  PendingSnapshot,
  QueryableState,
  RecordBatch,
  SnapshotOptions,
  StreamOperator,
} from './operator.ts';
import { StreamingRuntimeContext } from './runtime-context.ts';

/** Where {@link AbstractStreamOperator.forEachRecord} is in a batch. */
interface RecordCursor {
  readonly batch: RecordBatch;
  readonly out: OutputBuffer;
  readonly invoke: (value: unknown, out: OutputBuffer) => unknown;
  readonly backend: KeyedStateBackend | undefined;
  /** The record being processed (or next, once it completed). */
  i: number;
  /** What the batch waits for (see {@link RecordWait}), if a Promise. */
  pending: PromiseLike<unknown> | undefined;
}

/**
 * What a record has to wait for before the batch goes on (the Promise is the cursor's
 * `pending`): the prefetch of the batch's keys before it, its TTL cleanup, its result, or
 * mail to run after it.
 */
type RecordWait = 'prefetch' | 'cleanup' | 'result' | 'mail';

/** A thenable check that is cheaper than awaiting every result. */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as PromiseLike<unknown>).then === 'function';
}

function hasMethod<K extends string>(o: unknown, name: K): o is Record<K, (...args: unknown[]) => unknown> {
  return typeof o === 'object' && o !== null && typeof (o as Record<string, unknown>)[name] === 'function';
}

/** Base of every operator; `F` is the user function object (or undefined). */
export abstract class AbstractStreamOperator<F = unknown> implements StreamOperator {
  protected ctx!: OperatorContext;
  protected backend: KeyedStateBackend | undefined;
  protected timers: OperatorTimers | undefined;
  protected operatorState!: DefaultOperatorStateStore;
  protected runtimeContext!: RuntimeContext;
  /** Key group of the current key (the backend only keeps the key). */
  protected currentKeyGroup = -1;
  /** The keyed states (keyed operators only); its per-record hook runs TTL cleanup. */
  protected keyedStore: KeyedStateStore | undefined;

  constructor(protected readonly fn: F) {}

  async initializeState(ctx: OperatorContext, restore?: OperatorRestore): Promise<void> {
    this.ctx = ctx;
    let keyedStore: KeyedStateStore | undefined;
    if (ctx.keyed) {
      this.backend = await ctx.stateBackend.createKeyedStateBackend({
        jobId: ctx.jobId,
        operatorId: ctx.operatorId,
        operatorName: ctx.displayName,
        subtaskIndex: ctx.subtaskIndex,
        parallelism: ctx.parallelism,
        maxParallelism: ctx.maxParallelism,
        keyGroupRange: ctx.keyGroupRange,
      });
      if (restore && restore.keyed.length > 0) await this.backend.restore(restore.keyed);
      keyedStore = this.keyedStore = new KeyedStateStore(this.backend, ctx.displayName, ctx.clock);
      this.timers = new InternalTimerService(ctx.keyGroupRange);
      for (const t of restore?.timers ?? []) this.timers.restore(t);
      const next = this.timers.nextProcessingTime();
      if (next !== undefined) ctx.scheduleProcessingTime(next);
    }
    this.operatorState = new DefaultOperatorStateStore(ctx.displayName, restore?.operatorState);
    this.runtimeContext = new StreamingRuntimeContext(ctx, keyedStore);
    const fn = this.fn;
    if (hasMethod(fn, 'setRuntimeContext')) fn.setRuntimeContext(this.runtimeContext);
    if (hasMethod(fn, 'initializeState')) {
      const restored = restore !== undefined;
      await this.callUser('initializeState', () =>
        (fn as unknown as CheckpointedFunction).initializeState({
          isRestored: () => restored,
          getOperatorStateStore: () => this.operatorState,
          getKeyedStateStore: () => (keyedStore ? this.runtimeContext : undefined),
        }),
      );
    }
  }

  async open(): Promise<void> {
    const fn = this.fn;
    if (hasMethod(fn, 'open')) await this.callUser('open', () => fn.open(this.runtimeContext));
  }

  abstract processBatch(batch: RecordBatch, out: OutputBuffer): void | Promise<void>;

  async processWatermark(watermark: number, out: OutputBuffer): Promise<void> {
    if (this.timers) {
      this.timers.watermark = watermark;
      await this.fireTimers('EVENT_TIME', watermark, out);
    }
    out.emitWatermark(watermark);
  }

  processIdleness(idle: boolean, out: OutputBuffer): void {
    out.emitIdleness(idle);
  }

  async onProcessingTime(now: number, out: OutputBuffer): Promise<void> {
    if (!this.timers) return;
    await this.fireTimers('PROCESSING_TIME', now, out);
    const next = this.timers.nextProcessingTime();
    if (next !== undefined) this.ctx.scheduleProcessingTime(next);
  }

  finish(_out: OutputBuffer): void | Promise<void> {
    this.throwMisuse();
  }

  async close(): Promise<void> {
    const fn = this.fn;
    try {
      if (hasMethod(fn, 'close')) await this.callUser('close', () => fn.close());
    } finally {
      await this.backend?.dispose();
    }
    this.throwMisuse();
  }

  /**
   * Fails the task when its keyed state was used outside any record or timer: checked
   * after every batch, timer round and at the end, since the access itself may come from
   * a callback no caller awaits.
   */
  protected throwMisuse(): void {
    const misuse = this.keyedStore?.misuse;
    if (misuse !== undefined) throw misuse;
  }

  async snapshotState(checkpointId: number, timestamp: number, options: SnapshotOptions = {}): Promise<PendingSnapshot> {
    const fn = this.fn;
    if (hasMethod(fn, 'snapshotState')) {
      await this.callUser('snapshotState', () =>
        (fn as unknown as CheckpointedFunction).snapshotState({ getCheckpointId: () => checkpointId, getCheckpointTimestamp: () => timestamp }),
      );
    }
    if (options.hooksOnly === true) return { snapshot: Promise.resolve({}) };
    // Capture everything synchronously (no await between), then let the keyed encoding finish.
    const operatorState = this.operatorState.snapshot();
    const timers = this.timers?.capture(checkpointId, options.incremental === true);
    const keyed = this.backend?.snapshot({ checkpointId, incremental: options.incremental === true });
    const extra = this.snapshotExtra(checkpointId);
    return {
      snapshot: (async () => {
        const k = keyed ? await keyed : undefined;
        // A part is a delta as a whole (the coordinator chains it on its keyed state's
        // base), so timers are a delta only over the very checkpoint the keyed delta is.
        const delta = timers?.baseCheckpointId !== undefined && k?.incremental?.baseCheckpointId === timers.baseCheckpointId;
        const t = timers === undefined ? {} : delta ? { timerDelta: await timers.delta() } : { timers: await timers.full() };
        return { ...extra, operatorState, ...t, keyed: k };
      })(),
    };
  }

  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    // The backend may now write deltas over this checkpoint.
    this.backend?.notifyCheckpointComplete?.(checkpointId);
    this.timers?.notifyCheckpointComplete(checkpointId);
    const fn = this.fn;
    if (hasMethod(fn, 'notifyCheckpointComplete')) {
      await this.callUser('notifyCheckpointComplete', () => (fn as unknown as CheckpointListener).notifyCheckpointComplete(checkpointId));
    }
  }

  async notifyCheckpointAborted(checkpointId: number): Promise<void> {
    const fn = this.fn;
    if (hasMethod(fn, 'notifyCheckpointAborted')) {
      await this.callUser('notifyCheckpointAborted', () => (fn as unknown as Required<CheckpointListener>).notifyCheckpointAborted(checkpointId));
    }
  }

  queryableState(): QueryableState | undefined {
    const { backend, timers, ctx } = this;
    return backend === undefined || timers === undefined ? undefined : { backend, timers, now: () => ctx.clock.now() };
  }

  /** Operator-specific parts of a snapshot, captured with the rest (sources: their splits). */
  protected snapshotExtra(_checkpointId: number): Partial<OperatorSnapshot> {
    return {};
  }

  /** Sets the key that state and timers refer to. */
  protected setCurrentKey(key: Key, keyGroup: number): void {
    this.backend!.setCurrentKey(key, keyGroup);
    this.currentKeyGroup = keyGroup;
  }

  /**
   * Runs `invoke` for every record of the batch, with the record's key set on keyed
   * operators and its timestamp on `out`; waits only for results that are Promises.
   *
   * Returns nothing when every record completed at once (the usual case with synchronous
   * user functions and state): no Promise, no closure and no microtask turn per batch.
   * From the first record that has to wait it returns the Promise of the rest.
   */
  protected forEachRecord(
    batch: RecordBatch,
    out: OutputBuffer,
    what: string,
    invoke: (value: unknown, out: OutputBuffer) => unknown,
    /** False for the broadcast input of a keyed operator: its records have no key. */
    withKeys = true,
  ): void | Promise<void> {
    const backend = withKeys ? this.backend : undefined;
    if (backend !== undefined && batch.keys === undefined) {
      return Promise.reject(
        new StateError('NO_KEY_CONTEXT', 'a keyed operator received records without keys', { component: 'runtime', operator: this.ctx.displayName }),
      );
    }
    const prefetch = backend?.prefetch && batch.keys ? backend.prefetch(batch.keys, batch.keyGroups!) : undefined;
    const cursor: RecordCursor = { batch, out, invoke, backend, i: 0, pending: prefetch ?? undefined };
    if (prefetch !== undefined) return this.continueRecords(cursor, what, 'prefetch');
    try {
      const wait = this.runRecords(cursor);
      return wait === undefined ? undefined : this.continueRecords(cursor, what, wait);
    } catch (e) {
      backend?.clearCurrentKey();
      return Promise.reject(this.userError(e, what, batch.keys?.[cursor.i]));
    }
  }

  /**
   * Runs records from `c.i` on for as long as each completes at once; at the first that
   * has to wait, returns what for (its TTL cleanup, its result, or mail to run after it)
   * with `c.i` on that record. Undefined once the batch is done.
   */
  private runRecords(c: RecordCursor): RecordWait | undefined {
    const { values, timestamps, keys, keyGroups } = c.batch;
    const { out, invoke, backend } = c;
    const store = this.keyedStore;
    const ctx = this.ctx;
    let i = c.i;
    try {
      for (; i < values.length; i++) {
        if (backend !== undefined) {
          const keyGroup = keyGroups![i];
          backend.setCurrentKey(keys![i], keyGroup);
          this.currentKeyGroup = keyGroup;
          // TTL: a new time sample, and cleanup asked to run per record (cleanupIncrementally(n, true)).
          const cleanup = store?.onRecord();
          if (cleanup !== undefined) {
            c.pending = cleanup;
            return 'cleanup';
          }
        }
        out.timestamp = timestamps === undefined ? NaN : timestamps[i];
        const r = invoke(values[i], out);
        if (isThenable(r)) {
          c.pending = r;
          return 'result';
        }
        if (ctx.hasMail()) return 'mail';
      }
    } finally {
      c.i = i;
    }
    backend?.clearCurrentKey();
    if (store?.misuse !== undefined) throw store.misuse;
    return undefined;
  }

  /**
   * The rest of a batch once record `c.i` has to wait for `first`: continues from `then`
   * callbacks rather than in an async function (resuming an async function per record
   * allocated and cost noticeably more; an async user function already costs every record
   * a few microtask turns).
   */
  private continueRecords(c: RecordCursor, what: string, first: RecordWait): Promise<void> {
    const { values, timestamps, keys } = c.batch;
    const { out, invoke, backend } = c;
    const ctx = this.ctx;
    return new Promise<void>((resolve, reject) => {
      const fail = (e: unknown): void => {
        backend?.clearCurrentKey();
        reject(this.userError(e, what, keys?.[c.i]));
      };
      const resume = (): void => {
        let wait: RecordWait | undefined;
        try {
          wait = this.runRecords(c);
        } catch (e) {
          fail(e);
          return;
        }
        if (wait === undefined) resolve();
        else waitFor(wait);
      };
      const next = (): void => {
        c.i++;
        resume();
      };
      // Lets mail in (checkpoints, processing time) between record c.i and the next one.
      const runMail = (): void => {
        backend?.clearCurrentKey();
        ctx.runMail().then(next, fail);
      };
      const settled = (): void => (ctx.hasMail() ? runMail() : next());
      // The rest of record c.i once its TTL cleanup has finished.
      const invokeCurrent = (): void => {
        try {
          out.timestamp = timestamps === undefined ? NaN : timestamps[c.i];
          const r = invoke(values[c.i], out);
          if (isThenable(r)) r.then(settled, fail);
          else settled();
        } catch (e) {
          fail(e);
        }
      };
      const waitFor = (w: RecordWait): void => {
        const pending = c.pending;
        c.pending = undefined;
        if (w === 'prefetch') pending!.then(resume, reject);
        else if (w === 'cleanup') pending!.then(invokeCurrent, fail);
        else if (w === 'result') pending!.then(settled, fail);
        else runMail();
      };
      waitFor(first);
    });
  }

  /** Fires the due timers of a domain, each with its key set, via {@link onTimer}. */
  protected async fireTimers(domain: TimeDomain, time: number, out: OutputBuffer): Promise<void> {
    const timers = this.timers!;
    const backend = this.backend!;
    // Synchronous state access in onTimer needs the timer's key resident, as a record's is.
    const prefetch = this.keyedStore?.syncInUse === true && backend.syncAccess === 'resident' ? backend.prefetch : undefined;
    let timer: Timer | undefined;
    while ((timer = timers.pollDue(domain, time)) !== undefined) {
      if (prefetch !== undefined) await prefetch.call(backend, [timer.key], [timer.keyGroup], true);
      this.setCurrentKey(timer.key, timer.keyGroup);
      out.timestamp = domain === 'EVENT_TIME' ? timer.timestamp : NaN;
      try {
        // For TTL a timer is a record of its own: it samples the time anew, and may clean up.
        const cleanup = this.keyedStore?.onRecord();
        if (cleanup !== undefined) await cleanup;
        // A synchronous onTimer costs no microtask turn: thousands of timers often fire at one watermark.
        const r = this.onTimer(timer, out);
        if (isThenable(r)) await r;
      } catch (e) {
        throw this.userError(e, 'onTimer', timer.key);
      } finally {
        this.backend!.clearCurrentKey();
      }
    }
    this.throwMisuse();
  }

  /**
   * The timer service of a keyed operator's user function (Flink's `SimpleTimerService`):
   * timers of the current key in namespace `''`, processing-time ones scheduled on the mailbox.
   */
  protected keyedTimerService(): TimerService {
    return {
      currentProcessingTime: () => this.ctx.clock.now(),
      currentWatermark: () => this.timers!.watermark,
      registerEventTimeTimer: (t) => void this.registerUserTimer('EVENT_TIME', t),
      registerProcessingTimeTimer: (t) => {
        if (this.registerUserTimer('PROCESSING_TIME', t)) this.ctx.scheduleProcessingTime(t);
      },
      deleteEventTimeTimer: (t) => this.timers!.delete('EVENT_TIME', this.timerKey(), this.currentKeyGroup, t),
      deleteProcessingTimeTimer: (t) => this.timers!.delete('PROCESSING_TIME', this.timerKey(), this.currentKeyGroup, t),
    };
  }

  /** The timer service of a non-keyed operator's user function: times can be read, timers are refused (as in Flink). */
  protected refusingTimerService(watermark: () => number): TimerService {
    const refuse = (): never => {
      throw new StateError('NO_KEY_CONTEXT', 'timers can only be used on a keyed stream: call keyBy() before process()', {
        component: 'timers',
        operator: this.ctx.displayName,
      });
    };
    return {
      currentProcessingTime: () => this.ctx.clock.now(),
      currentWatermark: watermark,
      registerEventTimeTimer: refuse,
      registerProcessingTimeTimer: refuse,
      deleteEventTimeTimer: refuse,
      deleteProcessingTimeTimer: refuse,
    };
  }

  /** The current key for a timer call; outside a record or timer there is none. */
  protected timerKey(): Key {
    const key = this.backend!.getCurrentKey();
    if (key === undefined) {
      throw new StateError('NO_KEY_CONTEXT', 'timers can only be registered or deleted while a record or timer is processed (not in open() or close())', {
        component: 'timers',
        operator: this.ctx.displayName,
      });
    }
    return key;
  }

  /** Registers a user timer of the current key (namespace `''`); true when it was new. */
  protected registerUserTimer(domain: TimeDomain, time: number): boolean {
    // Timers are longs in Flink: a timestamp past the final watermark (MAX_WATERMARK,
    // Number.MAX_SAFE_INTEGER) could never fire, not even at the end of the input.
    if (typeof time !== 'number' || !Number.isFinite(time) || Math.abs(time) > MAX_WATERMARK) {
      throw new StateError(
        'INVALID_ARGUMENT',
        `a ${domain === 'EVENT_TIME' ? 'event' : 'processing'}-time timer needs a finite timestamp in ms of at most Number.MAX_SAFE_INTEGER (MAX_WATERMARK, which fires at the end of input), got ${String(time)}`,
        { component: 'timers', operator: this.ctx.displayName, key: this.backend!.getCurrentKey() },
      );
    }
    return this.timers!.register(domain, this.timerKey(), this.currentKeyGroup, time);
  }

  /** Called for every due timer; operators with user timers override it. */
  protected onTimer(_timer: Timer, _out: OutputBuffer): unknown {
    return undefined;
  }

  /** Calls a user lifecycle method, naming the operator when it throws. */
  protected async callUser(what: string, call: () => unknown): Promise<void> {
    try {
      await call();
    } catch (e) {
      throw this.userError(e, what, undefined);
    }
  }

  /** Wraps what a user function threw so that it names the operator and key; eddy's own errors pass through. */
  protected userError(e: unknown, what: string, key: Key | undefined): Error {
    if (e instanceof EddyError) return e;
    const message = e instanceof Error ? e.message : String(e);
    return new UserFunctionError(`${what} threw: ${message}`, { operator: this.ctx.displayName, key }, e);
  }
}
