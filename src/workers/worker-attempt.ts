/**
 * The main thread's side of one attempt of a job in workers: the conversation with each
 * worker (deploy, run, calls and their replies, events), its failure, and the end of the
 * attempt (operators closed, workers reset and returned to the pool). Used by
 * {@link WorkerExecutor}.
 */
import { EddyError } from '../api/errors.ts';
import type { CoordinatedTask } from '../engine/task.ts';
import { setLongTimeout } from '../engine/long-timer.ts';
import type { PooledWorker, WorkerPool } from './worker-pool.ts';
import { fromWireError, type FromWorker, type MessagePortLike, type ToWorker, type TransferableLike } from './worker-protocol.ts';

/** The main thread's stand-in for a task running in a worker. */
export class RemoteTask implements CoordinatedTask {
  constructor(
    readonly name: string,
    readonly isSource: boolean,
    private readonly address: string,
    private readonly attempt: Attempt,
    private readonly worker: number,
  ) {}

  triggerCheckpoint(checkpointId: number, timestamp: number, incremental: boolean): void {
    this.attempt.post(this.worker, { t: 'trigger', task: this.address, id: checkpointId, timestamp, incremental });
  }

  notifyCheckpointComplete(checkpointId: number): Promise<void> {
    // As in one thread: a failing attempt never delivers it (the call settles with the failure); the restart restores and commits instead.
    return this.attempt.call(this.worker, { op: 'notify', task: this.address, id: checkpointId }).catch(() => {});
  }

  notifyCheckpointAborted(checkpointId: number): void {
    void this.attempt.call(this.worker, { op: 'notify-aborted', task: this.address, id: checkpointId }).catch(() => {});
  }
}

type CallOp = Omit<Extract<ToWorker, { t: 'call' }>, 't' | 'req'>;

/** How long a worker may take to unwind an attempt before it is terminated instead. */
const RESET_TIMEOUT_MS = 5_000;

/** The workers of one attempt and the state of their conversation. */
export class Attempt {
  private failure: EddyError | undefined;
  private ended = false;
  private nextReq = 0;
  private readonly calls = new Map<number, { resolve(value: unknown): void; reject(e: unknown): void }>();
  private deployed = 0;
  private finished = 0;
  private onDeployed!: () => void;
  private onFinished!: () => void;
  private onFailure!: (e: EddyError) => void;
  private readonly deployedAll = new Promise<void>((resolve) => (this.onDeployed = resolve));
  private readonly finishedAll = new Promise<void>((resolve) => (this.onFinished = resolve));
  /** Rejects with the attempt's first failure. */
  private readonly failing = new Promise<never>((_, reject) => (this.onFailure = reject));
  /** Resolves once the attempt failed. */
  readonly failed: Promise<void> = this.failing.catch(() => {});
  /** Events the executor handles (acks, commits, finished tasks). */
  onEvent: (worker: number, message: FromWorker) => void = () => {};

  constructor(
    private readonly pool: WorkerPool,
    private readonly workers: readonly PooledWorker[],
    /** How long a worker may take to unwind before it is terminated (and later replaced). */
    private readonly resetTimeoutMs = RESET_TIMEOUT_MS,
  ) {
    this.failing.catch(() => {});
    workers.forEach((w, i) => {
      w.route = { message: (data) => this.receive(i, data as FromWorker), crashed: (e) => this.fail(e) };
    });
  }

  /** Connects every pair of workers with a channel, deploys, and waits until all are deployed. */
  async start(deployMessage: (worker: number, peers: Array<{ worker: number; port: MessagePortLike }>) => ToWorker): Promise<void> {
    const n = this.workers.length;
    const peers = Array.from({ length: n }, (): Array<{ worker: number; port: MessagePortLike }> => []);
    for (let a = 0; a < n; a++) {
      for (let b = a + 1; b < n; b++) {
        const { port1, port2 } = this.pool.platform.createChannel();
        peers[a].push({ worker: b, port: port1 });
        peers[b].push({ worker: a, port: port2 });
      }
    }
    for (let w = 0; w < n; w++) {
      if (this.workers[w].dead)
        this.fail(new EddyError('JOB_FAILED', `worker #${this.workers[w].id} died before the attempt began`, { component: 'executor:workers' }));
      this.post(
        w,
        deployMessage(w, peers[w]),
        peers[w].map((p) => p.port as unknown as TransferableLike),
      );
    }
    await Promise.race([this.deployedAll, this.failing]);
  }

  post(worker: number, message: ToWorker, transfer?: TransferableLike[]): void {
    if (this.failure || this.ended || this.workers[worker].dead) return;
    this.workers[worker].handle.postMessage(message, transfer);
  }

  /** Asks a worker to do something and resolves once it did (rejects with its error, or the attempt's failure). */
  call(worker: number, op: CallOp): Promise<void> {
    return this.ask(worker, op).then(() => {});
  }

  /** Like {@link call}, resolving to what the worker answered (metrics, a state query). */
  ask(worker: number, op: CallOp): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    return Promise.race([this.request(worker, op), this.failing]);
  }

  /** Starts every worker's tasks; resolves when all finished, rejects with the first failure. */
  run(): Promise<void> {
    for (let w = 0; w < this.workers.length; w++) this.post(w, { t: 'run' });
    return Promise.race([this.finishedAll, this.failing]);
  }

  /** Fails the attempt; `close` then resets the workers (or terminates those that do not come back). */
  fail(error: unknown): void {
    if (this.failure || this.ended) return;
    this.failure =
      error instanceof EddyError
        ? error
        : new EddyError('JOB_FAILED', error instanceof Error ? error.message : String(error), { component: 'executor:workers' }, { cause: error });
    this.onFailure(this.failure);
    // Tasks blocked on a dead peer would wait forever: unwind everyone now.
    void this.close();
  }

  private closing: Promise<unknown> | undefined;

  /** Ends the attempt: closes the operators after a successful run, resets every worker and returns it to the pool. */
  close(): Promise<unknown> {
    return (this.closing ??= this.doClose());
  }

  private async doClose(): Promise<unknown> {
    let first: unknown;
    if (!this.failure) {
      const results = await Promise.allSettled(this.workers.map((_, w) => this.call(w, { op: 'close' })));
      first = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
    }
    await Promise.all(
      this.workers.map(async (worker, w) => {
        if (!worker.dead) {
          let cancel: (() => void) | undefined;
          const timeout = new Promise<'timeout'>((resolve) => (cancel = setLongTimeout(() => resolve('timeout'), this.resetTimeoutMs)));
          const outcome = await Promise.race([
            this.request(w, { op: 'reset' }).then(
              () => 'ok',
              () => 'error',
            ),
            timeout,
          ]);
          cancel?.();
          if (outcome !== 'ok') await worker.terminate();
        }
        this.pool.release(worker);
      }),
    );
    this.ended = true;
    return first;
  }

  private request(worker: number, op: CallOp): Promise<unknown> {
    if (this.workers[worker].dead)
      return Promise.reject(new EddyError('JOB_FAILED', `worker #${this.workers[worker].id} is dead`, { component: 'executor:workers' }));
    const req = this.nextReq++;
    const done = new Promise<unknown>((resolve, reject) => this.calls.set(req, { resolve, reject }));
    this.workers[worker].handle.postMessage({ t: 'call', req, ...op } satisfies ToWorker);
    return done;
  }

  private receive(worker: number, m: FromWorker): void {
    if (m.t === 'reply') {
      const call = this.calls.get(m.req);
      this.calls.delete(m.req);
      if (m.error) call?.reject(fromWireError(m.error, worker));
      else call?.resolve(m.value);
      return;
    }
    if (this.failure || this.ended) return;
    switch (m.t) {
      case 'deployed':
        if (++this.deployed === this.workers.length) this.onDeployed();
        return;
      case 'finished':
        if (++this.finished === this.workers.length) this.onFinished();
        return;
      case 'failed':
        this.fail(fromWireError(m.error, worker));
        return;
      default:
        this.onEvent(worker, m);
    }
  }
}
