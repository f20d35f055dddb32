/**
 * `TwoPhaseCommitSink`: exactly-once output to an external system, as Flink's
 * `TwoPhaseCommitSinkFunction`. Records go into the current transaction; when a
 * checkpoint is taken the transaction is pre-committed and a new one begins; once the
 * checkpoint completes, its transactions are committed. After a failure, transactions
 * recorded in the restored checkpoint are committed again (so `commit` must be
 * idempotent) and the one that was open is aborted.
 *
 * Snapshots and completions run one at a time, in the order they are called: a
 * finished task is checkpointed and notified outside its mailbox, so a periodic checkpoint,
 * the final one and their completions can overlap; two overlapping snapshots would
 * otherwise pre-commit one transaction twice and leave the next one behind, and two
 * overlapping completions would drop a pending transaction uncommitted.
 */
import { ListStateDescriptor } from './descriptors.ts';
import type {
  Awaitable,
  CheckpointedFunction,
  CheckpointListener,
  FunctionInitializationContext,
  FunctionSnapshotContext,
  RichFunction,
  RuntimeContext,
  SinkContext,
} from './functions.ts';
import type { ListState } from './state.ts';

type StoredTransaction<TXN> = { kind: 'pending'; checkpointId: number; txn: TXN } | { kind: 'open'; txn: TXN };

/** Base class of transactional sinks; `TXN` must be structured data (it is checkpointed). */
export abstract class TwoPhaseCommitSink<IN, TXN> implements CheckpointedFunction, CheckpointListener, RichFunction {
  private state!: ListState<StoredTransaction<TXN>>;
  private pending: Array<{ checkpointId: number; txn: TXN }> = [];
  private current: TXN | undefined;
  /** The checkpoint call running now; the next one starts when it settles. */
  private turn: Promise<unknown> | undefined;

  /** Starts a transaction that records are written into. */
  abstract beginTransaction(): Awaitable<TXN>;
  /** Writes one record into the transaction. */
  abstract invoke(transaction: TXN, value: IN, ctx: SinkContext): Awaitable<void>;
  /** Makes the transaction ready to commit (flush); called when a checkpoint is taken. */
  abstract preCommit(transaction: TXN): Awaitable<void>;
  /** Makes the transaction's records visible; must be idempotent. */
  abstract commit(transaction: TXN): Awaitable<void>;
  /** Discards the transaction. */
  abstract abort(transaction: TXN): Awaitable<void>;

  /** Commits a pre-committed transaction found in restored state; defaults to `commit`. */
  recoverAndCommit(transaction: TXN): Awaitable<void> {
    return this.commit(transaction);
  }
  /** Aborts a transaction that was open when the restored checkpoint was taken; defaults to `abort`. */
  recoverAndAbort(transaction: TXN): Awaitable<void> {
    return this.abort(transaction);
  }

  open?(ctx: RuntimeContext): Awaitable<void>;

  async initializeState(ctx: FunctionInitializationContext): Promise<void> {
    this.state = ctx.getOperatorStateStore().getListState(new ListStateDescriptor<StoredTransaction<TXN>>('two-phase-commit-transactions'));
    if (ctx.isRestored()) {
      for (const stored of await this.state.get()) {
        if (stored.kind === 'pending') await this.recoverAndCommit(stored.txn);
        else await this.recoverAndAbort(stored.txn);
      }
    }
    this.pending = [];
    this.current = await this.beginTransaction();
    await this.store();
  }

  snapshotState(ctx: FunctionSnapshotContext): Promise<void> {
    return this.inTurn(() => this.preCommitCurrent(ctx));
  }

  private async preCommitCurrent(ctx: FunctionSnapshotContext): Promise<void> {
    const txn = this.current!;
    await this.preCommit(txn);
    this.pending.push({ checkpointId: ctx.getCheckpointId(), txn });
    this.current = await this.beginTransaction();
    await this.store();
  }

  notifyCheckpointComplete(checkpointId: number): Promise<void> {
    return this.inTurn(() => this.commitUpTo(checkpointId));
  }

  private async commitUpTo(checkpointId: number): Promise<void> {
    while (this.pending.length > 0 && this.pending[0].checkpointId <= checkpointId) {
      await this.commit(this.pending[0].txn);
      this.pending.shift();
    }
  }

  /** @internal Writes a record into the current transaction (called by the sink operator). */
  write(value: IN, ctx: SinkContext): Awaitable<void> {
    return this.invoke(this.current!, value, ctx);
  }

  /** Aborts the open transaction at once: a close must not wait behind a checkpoint call that may never settle. */
  async close(): Promise<void> {
    if (this.current !== undefined) await this.abort(this.current);
    this.current = undefined;
  }

  /** Runs `call` once every checkpoint call before it settled (see the class comment). */
  private inTurn(call: () => Promise<void>): Promise<void> {
    const run = (this.turn ?? Promise.resolve()).then(call);
    this.turn = run.catch(() => undefined);
    return run;
  }

  private store(): Promise<void> {
    const stored: StoredTransaction<TXN>[] = this.pending.map((p) => ({ kind: 'pending', checkpointId: p.checkpointId, txn: p.txn }));
    stored.push({ kind: 'open', txn: this.current! });
    return this.state.update(stored);
  }
}
