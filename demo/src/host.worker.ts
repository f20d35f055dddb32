/**
 * The host worker: runs the demo's job with a `WorkerExecutor` over Web Workers, off the
 * page's main thread, and answers the page over comlink. It owns the job client, the
 * eddy workers (so that "kill a worker" is a real `terminate()`), the generator's
 * controls, and what the page shows about recoveries.
 */
import { expose } from 'comlink';
import {
  deleteIndexedDbSink,
  ExternalizedCheckpointRetention,
  OpfsCheckpointStorage,
  RestartStrategies,
  StreamExecutionEnvironment,
  WorkerExecutor,
  type JobClient,
  type SpawnedWorker,
  type WorkerPlatform,
} from 'eddy';
import { webWorkers } from 'eddy/runtimes/web-workers';
import type { Verdict } from './invariant.ts';
import { demoJob, stateDatabaseName } from './job.ts';
import { OutputReader, outputDatabaseName } from './output.ts';
import { COUNT_UID, generatedBy, PER_CARD_PER_SECOND, PROFILE_UID, SPLITS, type BackendName } from './scenario.ts';
import { channelName, type ChannelMessage } from './source.ts';
import { shapeKeyState, type ShownCard } from './inspect.ts';
import { NO_TELEMETRY, Telemetry, type TelemetrySnapshot } from './telemetry.ts';

/** The page's settings of a job. */
export interface DemoConfig {
  readonly backend: BackendName;
  readonly parallelism: number;
  readonly checkpointIntervalMs: number;
  readonly incremental: boolean;
  readonly checkpointing: boolean;
  readonly rate: number;
  readonly paused: boolean;
}

/** How a job starts: from nothing, from the newest checkpoint of an earlier page, or from a savepoint. */
export type StartMode =
  | { readonly kind: 'fresh'; readonly previousJob?: string }
  | {
      readonly kind: 'resume';
      readonly positions: readonly number[];
      readonly savepoint?: string;
      /** When the page was reloaded, or when this tab took the demo over from another one (then the page shows the recovery). */
      readonly reloadedAt?: number;
      readonly takenOverAt?: number;
    };

/** One fault and how the job came back from it. */
export interface Recovery {
  readonly cause: 'kill' | 'reload' | 'rescale' | 'takeover';
  readonly at: number;
  /** What the fault was about (the worker killed, the new parallelism). */
  readonly detail: string;
  fromCheckpoint?: number;
  fromSavepoint?: string;
  /** Checkpoints completed when the fault happened (0: the job had to start over). */
  completedBefore?: number;
  /** From the fault until the job ran again. */
  durationMs?: number;
  /** The restore itself (reading the checkpoint into the backends), when the metrics API says. */
  restoreMs?: number;
  /** The job could not come back (checkpointing off). */
  lost?: boolean;
  done: boolean;
  /** The job went through RESTARTING after the fault (a kill is over once it runs again). */
  restarting?: boolean;
}

/** What the page polls. */
export interface HostSnapshot {
  readonly jobName?: string;
  readonly config?: DemoConfig;
  readonly status: string;
  readonly restarts: number;
  readonly lastFailure?: string;
  /** Highest position each split reached: transaction counts the world has seen. */
  readonly positions: readonly number[];
  readonly generated: number;
  readonly workers: number;
  readonly telemetry: TelemetrySnapshot;
  readonly recoveries: readonly Recovery[];
  readonly savepoint?: string;
  /** The invariant on the committed output, judged here so the page only shows it. */
  readonly verdict?: Verdict;
  /** Failures since the job last completed a checkpoint (a failure that keeps coming back, such as a backend that cannot load, grows it). */
  readonly failuresInARow: number;
}

const CHECKPOINTS_DIR = 'eddy-demo-checkpoints';

/** The window operator's accumulator is `[transactions, newest generation time]`: the inspector shows the count against the 10 a window must reach. */
const describeWindow = (state: string, value: unknown): string | undefined =>
  state === '_window/contents' && Array.isArray(value) ? `${value[0]} of ${PER_CARD_PER_SECOND} transactions so far` : undefined;

/** Records the eddy workers it spawns, so that one can be terminated from outside. */
function trackedPlatform(alive: Set<SpawnedWorker>): WorkerPlatform {
  const base = webWorkers({ worker: () => new Worker(new URL('./eddy-worker.ts', import.meta.url), { type: 'module' }) });
  return {
    name: 'demo-web-workers',
    createChannel: () => base.createChannel(),
    spawn(index) {
      const handle = base.spawn(index);
      alive.add(handle);
      return {
        ...handle,
        listen: (handlers) =>
          handle.listen({
            ...handlers,
            exit: (reason) => {
              alive.delete(handle);
              handlers.exit(reason);
            },
          }),
        terminate: () => {
          alive.delete(handle);
          return handle.terminate();
        },
      };
    },
  };
}

async function removeOpfsEntries(match: (name: string) => boolean): Promise<void> {
  const root = (await navigator.storage.getDirectory()) as FileSystemDirectoryHandle & { keys(): AsyncIterable<string> };
  for await (const name of root.keys()) if (match(name)) await root.removeEntry(name, { recursive: true }).catch(() => undefined);
}

class DemoHost {
  private client: JobClient | undefined;
  private executor: WorkerExecutor | undefined;
  private telemetry: Telemetry | undefined;
  private channel: BroadcastChannel | undefined;
  private controlTimer: ReturnType<typeof setInterval> | undefined;
  private readonly alive = new Set<SpawnedWorker>();
  private jobName: string | undefined;
  private config: DemoConfig | undefined;
  private positions: number[] = new Array(SPLITS).fill(0);
  private recoveries: Recovery[] = [];
  private savepoint: string | undefined;
  private output: OutputReader | undefined;
  private booted = false;
  private failuresInARow = 0;
  /** Checkpoints completed when the newest failure happened: one more means the job made progress since. */
  private completedAtFailure = 0;
  private completed = 0;

  /** Starts `jobName` (cancelling a running job first). Resolves once the job was submitted. */
  async start(jobName: string, config: DemoConfig, mode: StartMode): Promise<void> {
    await this.stop();
    if (!this.booted) {
      this.booted = true;
      // SQLite pools of workers of an earlier page: nobody holds them any more.
      await removeOpfsEntries((n) => n.startsWith('.eddy-demo-sqlite-'));
    }
    if (mode.kind === 'fresh') {
      this.positions = new Array(SPLITS).fill(0);
      this.recoveries = [];
      this.savepoint = undefined;
      await removeOpfsEntries((n) => n === CHECKPOINTS_DIR);
      if (mode.previousJob) {
        await deleteDatabase(stateDatabaseName(mode.previousJob));
        // The old job's sink is closed (stop() above), so nothing holds its output open.
        await deleteIndexedDbSink(outputDatabaseName(mode.previousJob));
      }
    } else {
      this.positions = mode.positions.map((p, i) => Math.max(p, this.positions[i] ?? 0));
      this.savepoint = mode.savepoint;
    }
    // A rescale continues the same job (and output): keep what was judged already.
    if (this.output?.jobName !== jobName) this.output = new OutputReader(jobName);
    this.jobName = jobName;
    this.config = config;
    this.failuresInARow = 0;
    this.completed = this.completedAtFailure = 0;
    this.listen(jobName);

    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(config.parallelism);
    this.executor = new WorkerExecutor({ workers: config.parallelism, platform: trackedPlatform(this.alive) });
    env.setExecutor(this.executor);
    if (config.checkpointing) {
      env
        .enableCheckpointing(config.checkpointIntervalMs)
        .getCheckpointConfig()
        .setCheckpointStorage(new OpfsCheckpointStorage({ directory: CHECKPOINTS_DIR, lock: 'wait' }))
        .setMaxRetainedCheckpoints(2)
        // Kept when the job is cancelled because another tab took the demo over: that tab resumes from them (a new job clears them itself).
        .setExternalizedCheckpointRetention(ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION)
        .enableIncrementalCheckpoints(config.incremental);
      // Back in 100 ms after a fault the page caused; a failure that keeps coming back (a backend this browser cannot run) is retried ever more slowly, up to every 5 s, instead of ten times a second.
      env.setRestartStrategy(RestartStrategies.exponentialDelayRestart(100, 5_000, 2, 10_000, 0.1));
      if (mode.kind === 'resume') {
        // A reload continues from the newest checkpoint; with none yet, from the savepoint the job was last rescaled with.
        env.fromLatestCheckpoint();
        if (mode.savepoint) env.fromSavepoint(mode.savepoint);
        if (mode.reloadedAt !== undefined) this.track({ cause: 'reload', at: mode.reloadedAt, detail: 'page reloaded', done: false });
        else if (mode.takenOverAt !== undefined) this.track({ cause: 'takeover', at: mode.takenOverAt, detail: 'taken over from another tab', done: false });
      }
    }
    demoJob.build(env, { jobName, backend: config.backend, rate: config.rate, paused: config.paused });
    this.client = await env.executeAsync(jobName);
    this.telemetry = new Telemetry(this.client, {
      // A restore settles the faults waiting for it at once (the page's poll may come later).
      restored: () => void this.snapshot(),
      status: (status) => {
        if (status === 'RESTARTING' || status === 'FAILED') {
          this.failuresInARow++;
          this.completedAtFailure = this.completed;
        }
        if (status === 'RESTARTING') for (const r of this.recoveries) if (!r.done && r.cause === 'kill') r.restarting = true;
      },
    });
    this.client.result.catch(() => undefined);
  }

  /** Changes the generator's rate (transactions/s over all splits) and pause. */
  control(rate: number, paused: boolean): void {
    if (!this.config) return;
    this.config = { ...this.config, rate, paused };
    this.broadcast();
  }

  /** Terminates one eddy worker (the `n`-th alive one, wrapping). */
  async kill(n = 0): Promise<string> {
    const workers = [...this.alive];
    if (workers.length === 0 || !this.client) throw new Error('no job is running');
    const victim = workers[n % workers.length]!;
    const detail = `worker ${(n % workers.length) + 1} of ${workers.length} terminated`;
    const completedBefore = (await this.client.getCheckpointStats()).counts.completed;
    this.track({ cause: 'kill', at: Date.now(), detail, completedBefore, done: false });
    await victim.terminate();
    return `terminated worker ${(n % workers.length) + 1}`;
  }

  /** Stops the job with a savepoint and starts it again from there at `parallelism`. */
  async rescale(parallelism: number): Promise<string> {
    if (!this.client || !this.config || !this.jobName) throw new Error('no job is running');
    const at = Date.now();
    const path = await this.client.stopWithSavepoint();
    const from = this.config.parallelism;
    await this.start(this.jobName, { ...this.config, parallelism }, { kind: 'resume', positions: this.positions, savepoint: path });
    this.track({ cause: 'rescale', at, detail: `parallelism ${from} → ${parallelism}`, fromSavepoint: path, done: false });
    return path;
  }

  /** Cancels the running job, if any. */
  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.telemetry?.close();
    this.telemetry = undefined;
    if (client && !['FINISHED', 'FAILED', 'CANCELED'].includes(client.getJobStatus())) await client.cancel().catch(() => undefined);
    await this.executor?.shutdown();
    this.executor = undefined;
    clearInterval(this.controlTimer);
    this.channel?.close();
    this.channel = undefined;
  }

  async snapshot(): Promise<HostSnapshot> {
    const client = this.client;
    // Status first: a restore is reported before the job runs again, so a RUNNING read here has its restore in the statistics.
    const status = client?.getJobStatus() ?? 'NONE';
    const telemetry = (await this.telemetry?.snapshot().catch(() => undefined)) ?? NO_TELEMETRY;
    this.completed = Math.max(this.completed, telemetry.completed);
    if (this.completed > this.completedAtFailure) this.failuresInARow = 0;
    for (const r of this.recoveries) if (!r.done) this.settle(r, status, telemetry);
    const failure = client?.getLastFailure();
    const generated = generatedBy(this.positions);
    const output = this.output;
    // The output of a job replaced meanwhile is gone: that job is no longer on the page.
    const verdict = await output?.read(generated).catch((e) => {
      if (output === this.output) throw e;
    });
    return {
      jobName: this.jobName,
      config: this.config,
      status,
      restarts: client?.getNumRestarts() ?? 0,
      lastFailure: failure ? String((failure.error as Error)?.message ?? failure.error) : undefined,
      positions: [...this.positions],
      generated,
      workers: this.alive.size,
      telemetry,
      recoveries: this.recoveries.slice(-8),
      savepoint: this.savepoint,
      verdict: verdict ?? undefined,
      failuresInARow: this.failuresInARow,
    };
  }

  /**
   * The live state of one card: its profile, and its windows in flight in the window
   * operator (each with its count so far), shaped for the inspector here, not on the page's thread.
   */
  async queryState(card: string): Promise<ShownCard> {
    const telemetry = this.telemetry;
    if (telemetry === undefined) return {};
    const [profile, windows] = await Promise.all([telemetry.queryState(PROFILE_UID, card), telemetry.queryState(COUNT_UID, card)]);
    return {
      ...(profile === undefined ? {} : { profile: shapeKeyState(profile) }),
      ...(windows === undefined ? {} : { windows: shapeKeyState(windows, describeWindow) }),
    };
  }

  private track(r: Recovery): void {
    this.recoveries.push(r);
  }

  /** Decides whether the job came back from fault `r`: restored from a checkpoint or savepoint after it, and running. */
  private settle(r: Recovery, status: string, t: TelemetrySnapshot): void {
    if (status === 'FAILED' || status === 'CANCELED') {
      r.lost = true;
      r.done = true;
      return;
    }
    if (status !== 'RUNNING') return;
    const restored = t.latestRestored;
    if (!restored || restored.restoreTimestamp < r.at) {
      // A fault before the first checkpoint: the job started over (there was nothing committed to lose).
      // A restore is reported before the job runs again, and the status was read before the statistics.
      if (((r.cause === 'reload' || r.cause === 'takeover') && t.completed > 0) || r.restarting) {
        r.durationMs = Date.now() - r.at;
        r.done = true;
      }
      return;
    }
    if (restored.isSavepoint) r.fromSavepoint = restored.externalPath ?? r.fromSavepoint;
    else r.fromCheckpoint = restored.checkpointId;
    r.restoreMs = restored.durationMs;
    r.durationMs = Math.max(0, restored.restoreTimestamp + restored.durationMs - r.at);
    r.done = true;
  }

  private listen(jobName: string): void {
    this.channel = new BroadcastChannel(channelName(jobName));
    this.channel.onmessage = (e: MessageEvent<ChannelMessage>) => {
      const m = e.data;
      if (m.t === 'progress') this.positions[m.split] = Math.max(this.positions[m.split] ?? 0, m.next);
    };
    // New workers (after a kill) learn the rate within a quarter second.
    this.controlTimer = setInterval(() => this.broadcast(), 250);
  }

  private broadcast(): void {
    if (!this.config) return;
    this.channel?.postMessage({ t: 'control', rate: this.config.rate, paused: this.config.paused } satisfies ChannelMessage);
  }
}

function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve) => {
    const r = indexedDB.deleteDatabase(name);
    r.onsuccess = r.onerror = r.onblocked = () => resolve();
  });
}

/** The host's API, as the page sees it through comlink. */
export type DemoHostApi = DemoHost;

expose(new DemoHost());
