/**
 * `StreamExecutionEnvironment`: where a job is configured (parallelism, state backend,
 * clock), its sources are created, and it is executed.
 */
import { ExecutionConfig } from './execution-config.ts';
import {
  CheckpointConfig,
  CheckpointingMode,
  ExternalizedCheckpointRetention,
  RestartStrategies,
  type RestartStrategy,
  DEFAULT_RESTART_STRATEGY,
  validateRestartStrategy,
} from './checkpointing.ts';
import { SystemClock, type Clock } from '../api/clock.ts';
import { DataStream, type StreamGraphBuilder } from './datastream.ts';
import { KeyedStream } from './keyed-stream.ts';
import type { Key } from '../format/key-bytes.ts';
import { ConfigurationError } from '../api/errors.ts';
import type { GeneratorOptions, Source } from '../api/sources.ts';
import type { WatermarkStrategy } from '../api/watermarks.ts';
import type { GraphNode, JobGraph, JobOrigin } from '../engine/graph.ts';
import type { Executor } from '../engine/executor.ts';
import type { SavepointRestoreSettings } from '../engine/restore-match.ts';
import { CollectionSource } from '../engine/sources/collection.ts';
import { GeneratorSource } from '../engine/sources/generator.ts';
import { JobRun } from '../engine/job-runner.ts';
import { AsyncIterableSource } from '../engine/sources/async-iterable.ts';
import { checkDuration } from '../engine/long-timer.ts';
import { checkPath } from '../format/checkpoint-storage.ts';
import { DEFAULT_TASK_CANCELLATION_TIMEOUT_MS } from '../engine/executor.ts';
import { JobClient, type JobExecutionResult } from './job-client.ts';
import type { StateBackend } from '../state/backend.ts';
import { HashMapStateBackend } from '../backends/memory.ts';
import { murmur3_32 } from '../format/murmur3.ts';
import { DEFAULT_MAX_PARALLELISM, UPPER_BOUND_MAX_PARALLELISM } from '../format/key-groups.ts';

export { DEFAULT_MAX_PARALLELISM, UPPER_BOUND_MAX_PARALLELISM };

export type { JobExecutionResult };

/** A name that is its own job id: lowercase words joined by single `.`, `_` or `-`. */
const SIMPLE_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/**
 * A job id from its name: stable, so a restarted program finds its checkpoints (and locks
 * them), distinct for distinct names, and safe as a path segment, OPFS name and S3 key.
 * A simple name (see {@link SIMPLE_NAME}, at most 100 characters) is its own id, so the
 * checkpoints of such jobs keep their place. Any other name becomes a readable slug, `--`
 * and 64 bits of a hash of the exact name; a simple name never contains `--`, so the two
 * forms cannot meet, and two other names meet only if their hashes collide.
 */
function jobIdOf(jobName: string): string {
  if (jobName.length <= 100 && SIMPLE_NAME.test(jobName)) return jobName;
  const slug = jobName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  const bytes = new TextEncoder().encode(jobName);
  const hash = [murmur3_32(bytes, 0x9747b28c), murmur3_32(bytes, 0x5bd1e995)].map((h) => (h >>> 0).toString(16).padStart(8, '0')).join('');
  return `${slug.length > 0 ? slug : 'job'}--${hash}`;
}

/** The entry point of every job. */
export class StreamExecutionEnvironment implements StreamGraphBuilder {
  private parallelism = 1;
  private maxParallelism = DEFAULT_MAX_PARALLELISM;
  private stateBackend: StateBackend = new HashMapStateBackend();
  private clock: Clock = new SystemClock();
  private nodes: GraphNode[] = [];
  private readonly checkpointConfig = new CheckpointConfig();
  private readonly config = new ExecutionConfig();
  private restartStrategy: RestartStrategy | undefined;
  private savepointPath: string | undefined;
  private savepointSettings: SavepointRestoreSettings = {};
  private resumeSettings: SavepointRestoreSettings | undefined;
  private executor: Executor | undefined;
  private origin: JobOrigin | undefined;
  private cancellationTimeoutMs: number | undefined;

  /** A new environment (one per job); the default parallelism is 1. */
  static getExecutionEnvironment(): StreamExecutionEnvironment {
    return new StreamExecutionEnvironment();
  }

  /** Default parallelism of every operator (each may override it). */
  setParallelism(parallelism: number): this {
    if (!Number.isInteger(parallelism) || parallelism < 1) {
      throw new ConfigurationError(`parallelism must be a positive integer, got ${parallelism}`, { component: 'environment' });
    }
    if (parallelism > this.maxParallelism) {
      throw new ConfigurationError(`parallelism ${parallelism} is above the max parallelism ${this.maxParallelism}; raise it with setMaxParallelism() first`, {
        component: 'environment',
      });
    }
    this.parallelism = parallelism;
    return this;
  }

  getParallelism(): number {
    return this.parallelism;
  }

  /** The number of key groups, the upper limit of rescaling; default 128. Fixed once a job has state. */
  setMaxParallelism(maxParallelism: number): this {
    if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > UPPER_BOUND_MAX_PARALLELISM) {
      throw new ConfigurationError(`max parallelism must be an integer from 1 to ${UPPER_BOUND_MAX_PARALLELISM}, got ${maxParallelism}`, {
        component: 'environment',
      });
    }
    if (maxParallelism < this.parallelism) {
      throw new ConfigurationError(`max parallelism ${maxParallelism} is below the parallelism ${this.parallelism}`, { component: 'environment' });
    }
    this.maxParallelism = maxParallelism;
    return this;
  }

  getMaxParallelism(): number {
    return this.maxParallelism;
  }

  /** Where keyed state lives; default `HashMapStateBackend`. */
  setStateBackend(backend: StateBackend): this {
    if (!backend || typeof backend.createKeyedStateBackend !== 'function') {
      throw new ConfigurationError('setStateBackend() needs a StateBackend (e.g. new HashMapStateBackend())', { component: 'environment' });
    }
    this.stateBackend = backend;
    return this;
  }

  getStateBackend(): StateBackend {
    return this.stateBackend;
  }

  /** The processing-time clock of timers and TTL; default the system clock. */
  setClock(clock: Clock): this {
    if (!clock || typeof clock.now !== 'function') throw new ConfigurationError('setClock() needs an object with now()', { component: 'environment' });
    this.clock = clock;
    return this;
  }

  getClock(): Clock {
    return this.clock;
  }

  /**
   * Who runs the job: the local executor (default: every subtask in this thread) or a
   * `WorkerExecutor` (subtasks spread over Web Workers / worker_threads). Jobs run in
   * workers must be built by a `defineJob` job, which the workers import by URL.
   */
  setExecutor(executor: Executor): this {
    if (!executor || typeof executor.deploy !== 'function')
      throw new ConfigurationError('setExecutor() needs an executor (new LocalExecutor() or new WorkerExecutor(...))', { component: 'environment' });
    this.executor = executor;
    return this;
  }

  /** The executor set with {@link setExecutor}, if any. */
  getExecutor(): Executor | undefined {
    return this.executor;
  }

  /** @internal Records that the graph is being built by a `defineJob` job (see `JobDefinition.build`). */
  setJobOrigin(origin: JobOrigin): this {
    this.origin = origin;
    return this;
  }

  /**
   * Takes a checkpoint every `intervalMs` (Flink's `enableCheckpointing`); exactly-once
   * (aligned barriers) unless `AT_LEAST_ONCE` is given.
   */
  enableCheckpointing(intervalMs: number, mode: CheckpointingMode = CheckpointingMode.EXACTLY_ONCE): this {
    this.checkpointConfig.setCheckpointInterval(intervalMs).setCheckpointingMode(mode);
    return this;
  }

  /** Whether `enableCheckpointing` was called with an interval. */
  isCheckpointingEnabled(): boolean {
    return this.checkpointConfig.isCheckpointingEnabled();
  }

  /** Job-wide settings such as the auto-watermark interval (Flink's `env.getConfig()`). */
  getConfig(): ExecutionConfig {
    return this.config;
  }

  /** Storage, timeouts, tolerance, retention and incremental checkpoints. */
  getCheckpointConfig(): CheckpointConfig {
    return this.checkpointConfig;
  }

  /**
   * How long the tasks of a failed or cancelled attempt may take to stop before they
   * are abandoned (and, with a `WorkerExecutor`, their worker terminated and replaced):
   * a user function that never returns must not keep the job from settling. Default
   * 5 s (Flink's `ExecutionConfig.setTaskCancellationTimeout`, whose default is 180 s).
   */
  setTaskCancellationTimeout(ms: number): this {
    this.cancellationTimeoutMs = checkDuration('environment', 'the task cancellation timeout', ms);
    return this;
  }

  /** The task cancellation timeout in ms (see {@link setTaskCancellationTimeout}). */
  getTaskCancellationTimeout(): number {
    return this.cancellationTimeoutMs ?? DEFAULT_TASK_CANCELLATION_TIMEOUT_MS;
  }

  /**
   * What happens after a failure. Default, as in Flink: with checkpointing enabled,
   * unlimited restarts after 1 s (`fixedDelayRestart(Infinity, 1000)`); without, none.
   */
  setRestartStrategy(strategy: RestartStrategy): this {
    this.restartStrategy = validateRestartStrategy(strategy);
    return this;
  }

  /**
   * The restart strategy a job of this environment gets: the one set, else (as in Flink
   * 1.19+) exponential delay when checkpointing is enabled and no restart otherwise.
   */
  getRestartStrategy(): RestartStrategy {
    return this.restartStrategy ?? (this.checkpointConfig.isCheckpointingEnabled() ? DEFAULT_RESTART_STRATEGY : RestartStrategies.noRestart());
  }

  /**
   * Starts the next job from a savepoint or retained checkpoint directory in the
   * configured checkpoint storage (what `triggerSavepoint()` resolved to, or a `chk-<n>`
   * directory). Operators are matched by `uid()` (or by position when they have none).
   * State that no operator takes — a removed operator, a changed uid, or (in a savepoint
   * of another job) an operator matched only by position — fails the start with
   * `SNAPSHOT_INCOMPATIBLE` unless `settings.allowNonRestoredState` is true (Flink's
   * `--allowNonRestoredState`), which starts without that state.
   */
  fromSavepoint(path: string, settings: SavepointRestoreSettings = {}): this {
    if (typeof path !== 'string' || path.length === 0)
      throw new ConfigurationError('fromSavepoint() needs the path of a savepoint or checkpoint directory', { component: 'environment' });
    if (typeof settings !== 'object' || settings === null || !['undefined', 'boolean'].includes(typeof settings.allowNonRestoredState)) {
      throw new ConfigurationError('fromSavepoint() settings must be an object like { allowNonRestoredState: true }', { component: 'environment' });
    }
    const normalized = path.replace(/\/_metadata$/, '').replace(/\/+$/, '');
    if (/^(\/|[A-Za-z]:[\\/]|file:)/.test(normalized)) {
      throw new ConfigurationError(
        `fromSavepoint("${path}") got a file system path; it takes the path inside the checkpoint storage, as stopWithSavepoint()/triggerSavepoint() return it (e.g. "my-job/savepoint-3"), and reads it from env.getCheckpointConfig().setCheckpointStorage(...)`,
        { component: 'environment' },
      );
    }
    const bad = checkPath(normalized);
    if (bad !== undefined) throw new ConfigurationError(`fromSavepoint(): ${bad}`, { component: 'environment' });
    this.savepointPath = normalized;
    this.savepointSettings = { allowNonRestoredState: settings.allowNonRestoredState === true };
    return this;
  }

  /**
   * Resumes the job, on start, from the newest completed checkpoint that an earlier run of
   * the same job (same name, so same job id) left in the configured checkpoint storage:
   * after a process restart or a page reload the job continues where it stopped (as the
   * Flink Kubernetes operator's `last-state` upgrade mode). Without such a checkpoint the
   * job starts from the `fromSavepoint()` path if one is set (like the operator's
   * `initialSavepointPath`), else from scratch. Needs checkpointing. Without this call, a
   * job whose storage holds checkpoints of an earlier run starts from scratch and warns
   * once, naming the newest. A corrupt newest checkpoint is skipped only where that cannot
   * repeat committed output; else the start fails with `SNAPSHOT_CORRUPT`.
   */
  fromLatestCheckpoint(settings: SavepointRestoreSettings = {}): this {
    if (typeof settings !== 'object' || settings === null || !['undefined', 'boolean'].includes(typeof settings.allowNonRestoredState)) {
      throw new ConfigurationError('fromLatestCheckpoint() settings must be an object like { allowNonRestoredState: true }', { component: 'environment' });
    }
    this.resumeSettings = { allowNonRestoredState: settings.allowNonRestoredState === true };
    return this;
  }

  /**
   * A stream of an async iterable's values. It cannot replay, so a job that reads it is
   * not exactly-once after a failure (the job says so once when checkpointing is on).
   */
  fromAsyncIterable<T>(iterable: AsyncIterable<T> | Iterable<T>, sourceName = 'Async Iterable Source'): DataStream<T> {
    return this.fromSource(new AsyncIterableSource(iterable), undefined, sourceName);
  }

  /**
   * A bounded stream of the collection's elements, in order (a non-parallel source).
   *
   * An array is read in place, not copied: the stream holds its elements up to its length
   * at this call (elements pushed later are not read). Do not change the array while the
   * job runs: after a failure the job reads it again from its checkpointed position. Any
   * other iterable (a Set, a generator) is read once, here, into an array of its own.
   */
  fromCollection<T>(collection: Iterable<T>): DataStream<T> {
    if (collection == null || typeof (collection as Iterable<T>)[Symbol.iterator] !== 'function') {
      throw new ConfigurationError('fromCollection() needs an iterable', { component: 'environment' });
    }
    // Only a plain array: one with its own iterator is read through it, as any iterable, and
    // a subclass would make its batches with its own constructor (Symbol.species).
    const inPlace =
      Array.isArray(collection) && Object.getPrototypeOf(collection) === Array.prototype && collection[Symbol.iterator] === Array.prototype[Symbol.iterator];
    const elements = inPlace ? (collection as readonly T[]) : Array.from(collection);
    return this.fromSource(new CollectionSource(elements), undefined, 'Collection Source');
  }

  /** A bounded stream of the given elements. */
  fromElements<T>(...elements: T[]): DataStream<T> {
    return this.fromSource(new CollectionSource(elements), undefined, 'Elements Source');
  }

  /** `count` records made by `generate(index)`, split over parallel subtasks, optionally rate-limited. */
  fromGenerator<T>(generate: (index: number) => T, options: GeneratorOptions): DataStream<T> {
    if (typeof generate !== 'function') throw new ConfigurationError('fromGenerator() needs a function (index) => record', { component: 'environment' });
    if (!options || !Number.isInteger(options.count) || options.count < 0) {
      throw new ConfigurationError(`fromGenerator() needs { count } as a non-negative integer, got ${String(options?.count)}`, { component: 'environment' });
    }
    if (options.ratePerSecond !== undefined && !(options.ratePerSecond > 0)) {
      throw new ConfigurationError(`ratePerSecond must be positive, got ${options.ratePerSecond}`, { component: 'environment' });
    }
    return this.fromSource(new GeneratorSource(generate, options), undefined, 'Generator Source');
  }

  /** A stream from any {@link Source}; the strategy assigns timestamps and watermarks. */
  fromSource<T>(source: Source<T>, watermarkStrategy: WatermarkStrategy<T> | undefined, sourceName: string): DataStream<T> {
    if (!source || typeof source.createReader !== 'function')
      throw new ConfigurationError('fromSource() needs a Source with createReader(ctx)', { component: 'environment' });
    const node = this.addNode({
      name: sourceName,
      inputs: [],
      keyed: false,
      source: { source: source as Source<unknown>, watermarkStrategy: watermarkStrategy as WatermarkStrategy<unknown> | undefined },
    });
    return new DataStream<T>(this, [node]);
  }

  /** @internal The `KeyedStream` of `DataStream.keyBy`. */
  keyedStream<T, K extends Key>(sources: readonly GraphNode[], keySelector: (value: T) => K): KeyedStream<T, K> {
    return new KeyedStream<T, K>(this, sources, keySelector);
  }

  /** @internal */
  addNode(spec: Omit<GraphNode, 'id'>): GraphNode {
    const node: GraphNode = { ...spec, id: this.nodes.length };
    this.nodes.push(node);
    return node;
  }

  /**
   * Runs every stream built on this environment until its bounded inputs are exhausted.
   * Rejects with the first error that the restart strategy does not absorb (a user
   * function's error names the operator and key). The built graph is consumed: a second
   * `execute()` needs new streams.
   */
  async execute(jobName = 'eddy job'): Promise<JobExecutionResult> {
    return (await this.executeAsync(jobName)).result;
  }

  /** @internal The graph built so far, which the environment then forgets (execute, or a worker rebuilding a job). */
  takeGraph(jobName: string): JobGraph {
    const nodes = this.nodes;
    if (nodes.length === 0) throw new ConfigurationError('no operators defined: add sources and sinks before execute()', { component: 'environment' });
    this.nodes = [];
    const graph: JobGraph = {
      jobName,
      nodes,
      defaultParallelism: this.parallelism,
      maxParallelism: this.maxParallelism,
      autoWatermarkInterval: this.config.getAutoWatermarkInterval(),
      origin: this.origin,
    };
    this.origin = undefined;
    return graph;
  }

  /** Starts the job and returns at once with a {@link JobClient} (cancel, savepoints, status, result). */
  async executeAsync(jobName = 'eddy job'): Promise<JobClient> {
    const graph = this.takeGraph(jobName);
    const jobId = jobIdOf(jobName);
    const cfg = this.checkpointConfig;
    const checkpointing = cfg.isCheckpointingEnabled();
    if (this.resumeSettings && !checkpointing) {
      throw new ConfigurationError(
        'fromLatestCheckpoint() needs checkpointing: call env.enableCheckpointing(interval) (and setCheckpointStorage() with a durable storage) first',
        { component: 'environment' },
      );
    }
    const restart = this.getRestartStrategy();
    const run = new JobRun(graph, {
      jobId,
      stateBackend: this.stateBackend,
      clock: this.clock,
      restart,
      executor: this.executor,
      warn: (m) => console.warn(m),
      cancellationTimeoutMs: this.cancellationTimeoutMs,
      resume: this.resumeSettings && { settings: this.resumeSettings },
      initialState: this.savepointPath ? { storage: cfg.getCheckpointStorage(), path: this.savepointPath, settings: this.savepointSettings } : undefined,
      checkpointing: checkpointing
        ? {
            storage: cfg.getCheckpointStorage(),
            intervalMs: cfg.getCheckpointInterval(),
            aligned: cfg.getCheckpointingMode() === CheckpointingMode.EXACTLY_ONCE,
            minPauseMs: cfg.getMinPauseBetweenCheckpoints(),
            timeoutMs: cfg.getCheckpointTimeout(),
            tolerableFailures: cfg.getTolerableCheckpointFailureNumber(),
            maxRetained: cfg.getMaxRetainedCheckpoints(),
            incremental: cfg.isIncrementalCheckpointsEnabled(),
            discardOnCancel: cfg.getExternalizedCheckpointRetention() !== ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION,
          }
        : undefined,
    });
    return new JobClient(jobId, jobName, run, Date.now());
  }
}
