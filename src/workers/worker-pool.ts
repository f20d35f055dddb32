/**
 * The workers of a {@link WorkerExecutor}, kept between attempts and jobs: starting a
 * worker means loading eddy and the job module in a new thread (hundreds of ms), so a
 * restart after a failure reuses every worker that survived it (after a `reset`) and
 * only replaces the dead ones. Idle workers do not keep a Node process alive.
 */
import { EddyError } from '../api/errors.ts';
import type { SpawnedWorker, WorkerPlatform } from './worker-protocol.ts';

/** What an attempt using a worker hears from it. */
export interface WorkerRoute {
  message(data: unknown): void;
  /** The worker threw out of its event loop or exited: it is gone. */
  crashed(error: EddyError): void;
}

/** Errors that mean "a worker died", as opposed to an error the job reported. */
const crashes = new WeakSet<EddyError>();

/** True when `error` reports a worker that died (thrown out, exited, terminated from outside). */
export function isWorkerCrash(error: unknown): boolean {
  return error instanceof EddyError && crashes.has(error);
}

/** A worker thread of the pool. */
export class PooledWorker {
  dead = false;
  /** The attempt the worker serves now; messages of none are dropped. */
  route: WorkerRoute | undefined;

  constructor(
    readonly handle: SpawnedWorker,
    /** Sequence number, for messages (`worker #3`). */
    readonly id: number,
  ) {
    handle.listen({
      message: (data) => this.route?.message(data),
      error: (e) => this.died(`threw: ${e instanceof Error ? e.message : String(e)}`),
      exit: (reason) => this.died(`exited (${reason})`),
    });
  }

  /** Stops the thread (a worker that does not come back from a reset). */
  async terminate(): Promise<void> {
    this.dead = true;
    await this.handle.terminate().catch(() => {});
  }

  private died(why: string): void {
    if (this.dead) return;
    this.dead = true;
    const error = new EddyError('JOB_FAILED', `worker #${this.id} ${why}`, { component: 'executor:workers' });
    crashes.add(error);
    this.route?.crashed(error);
  }
}

/** Spawns workers on demand and keeps the idle ones. */
export class WorkerPool {
  private readonly idle: PooledWorker[] = [];
  private readonly all = new Set<PooledWorker>();
  private spawned = 0;

  constructor(
    readonly platform: WorkerPlatform,
    /** Idle workers to keep started beyond those in use, so a dead one is replaced without waiting for a thread to load. */
    private readonly spares = 0,
  ) {}

  /** `count` live workers: idle ones first, new ones for the rest; then the spares are topped up. */
  acquire(count: number): PooledWorker[] {
    const out: PooledWorker[] = [];
    while (out.length < count) {
      const reused = this.idle.shift();
      if (reused?.dead) {
        // An idle worker that died: forget it, as release() does.
        this.all.delete(reused);
        continue;
      }
      const worker = reused ?? this.spawn();
      worker.handle.ref?.();
      out.push(worker);
    }
    for (let i = this.idle.filter((w) => !w.dead).length; i < this.spares; i++) {
      const spare = this.spawn();
      spare.handle.unref?.();
      this.idle.push(spare);
    }
    return out;
  }

  /** Takes a worker back after its attempt was reset; dead ones are forgotten. */
  release(worker: PooledWorker): void {
    worker.route = undefined;
    if (worker.dead) {
      this.all.delete(worker);
      return;
    }
    worker.handle.unref?.();
    this.idle.push(worker);
  }

  /** Terminates every worker of the pool. */
  async shutdown(): Promise<void> {
    const workers = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private spawn(): PooledWorker {
    const worker = new PooledWorker(this.platform.spawn(this.spawned), ++this.spawned);
    this.all.add(worker);
    return worker;
  }
}
