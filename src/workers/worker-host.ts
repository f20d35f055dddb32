/**
 * The inside of a worker of the {@link WorkerExecutor}: imports the job's module, builds
 * the graph again, checks it against the main thread's fingerprint, and deploys only
 * this worker's tasks with the unchanged local machinery (tasks, gates, operators).
 * Channels to tasks of other workers go through {@link PeerLink}s. Checkpoint parts are
 * encoded here and sent to the main thread, whose coordinator writes them (so every
 * checkpoint storage works, also one that lives only in the main thread's memory).
 */
import { StreamExecutionEnvironment } from '../datastream/environment.ts';
import { ConfigurationError } from '../api/errors.ts';
import { isJobDefinition, type JobDefinition, type JobResult } from '../datastream/job-definition.ts';
import { partSourceOf } from '../engine/checkpoint-coordinator.ts';
import type { JobOrigin } from '../engine/graph.ts';
import { deserializeValue } from '../format/value-codec.ts';
import type { OperatorRestore, OperatorSnapshot } from '../engine/operators/operator.ts';
import { deploy, type Deployment } from '../engine/executor.ts';
import { planJob, taskAddress, type Placement } from '../engine/plan.ts';
import { PeerLink } from './remote-channel.ts';
import type { StreamTask, CheckpointHooks } from '../engine/task.ts';
import { yieldToHost } from '../engine/yield.ts';
import {
  graphFingerprint,
  toWireError,
  workerOfSubtask,
  type DeployMessage,
  type FromWorker,
  type MessagePortLike,
  type ToWorker,
  type TransferableLike,
  type WirePart,
} from './worker-protocol.ts';

/** The worker's own endpoint to the main thread (`self` in a Web Worker, `parentPort` in Node). */
export type HostEndpoint = Pick<MessagePortLike, 'postMessage' | 'onmessage'>;

/** One attempt's share of a job in this worker. */
interface Share {
  readonly tasks: Map<string, StreamTask>;
  readonly addresses: Map<StreamTask, string>;
  readonly links: PeerLink[];
  deployment?: Deployment;
  /** This worker's index in the attempt. */
  worker?: number;
  running?: Promise<void>;
  closed: boolean;
}

/** Options of {@link runWorkerHost}. */
export interface WorkerHostOptions {
  // `any`: a job of any arguments (JobDefinition is invariant in them).
  /**
   * Jobs bundled into this worker's own entry, found by export name without importing
   * their module (a bundler gives the page's copy of a module another URL than a worker's).
   */
  readonly jobs?: readonly JobDefinition<any, JobResult>[];
  /**
   * One turn of this thread's event loop that lets messages which arrived before it in
   * first (see `InputYield` in engine/yield.ts): the runtime's cheapest (a kept channel in
   * browsers, `setImmediate` in Node). Default: a message over a new `MessageChannel`.
   */
  readonly yieldToHost?: () => Promise<void>;
}

/**
 * Serves attempts of jobs on `endpoint`, one at a time: deploy, run, checkpoint calls,
 * close; `reset` ends an attempt (failed or finished) so the worker can serve the next.
 */
export function runWorkerHost(endpoint: HostEndpoint, options: WorkerHostOptions = {}): void {
  let epoch = 0;
  let share: Share = newShare();
  /** A sender bound to the current attempt: a late message of an ended attempt is dropped, not mistaken for the next one's. */
  const poster = (forEpoch: number) => (message: FromWorker, transfer?: TransferableLike[]) => {
    if (forEpoch === epoch) endpoint.postMessage(message, transfer);
  };
  let post = poster(epoch);
  /** Fails the current attempt's share (reported in its epoch, so a reset share's late failure is dropped). */
  const failer = (target: Share, send: typeof post) => (e: unknown) => {
    send({ t: 'failed', error: toWireError(e) });
    target.deployment?.fail(e);
  };
  const fail = (e: unknown) => failer(share, post)(e);

  const handle = async (message: ToWorker): Promise<void> => {
    switch (message.t) {
      case 'deploy': {
        share.worker = message.worker;
        share.deployment = await deployShare(message, share);
        post({ t: 'deployed' });
        return;
      }
      case 'run':
        // The peer links stay open after the run: what this worker sent last may still be in flight.
        share.running = share.deployment!.run().then(() => post({ t: 'finished' }), failer(share, post));
        return;
      case 'trigger':
        share.tasks.get(message.task)!.triggerCheckpoint(message.id, message.timestamp, message.incremental);
        return;
      case 'call': {
        // The reply of a reset is the first message of the next epoch; others belong to their attempt.
        const reply = message.op === 'reset' ? (m: FromWorker) => endpoint.postMessage(m) : post;
        // Not awaited: a notification waits for its task's turn, which must not hold up other messages.
        void call(message).then(({ error, value }) =>
          reply({ t: 'reply', req: message.req, error: error === undefined ? undefined : toWireError(error), value }),
        );
        return;
      }
    }
  };

  async function call(message: Extract<ToWorker, { t: 'call' }>): Promise<{ error?: unknown; value?: unknown }> {
    try {
      if (message.op === 'metrics' || message.op === 'query') return { value: await inspect(message) };
      if (message.op === 'notify') await share.tasks.get(message.task!)!.notifyCheckpointComplete(message.id!);
      else if (message.op === 'notify-aborted') share.tasks.get(message.task!)!.notifyCheckpointAborted(message.id!);
      else if (message.op === 'final-snapshot') await finalSnapshot(message.id!, message.hooksOnly === true);
      else if (message.op === 'final-commit') for (const task of share.tasks.values()) await task.finalCommit(message.id!);
      else if (message.op === 'close') return { error: await closeShare(share) };
      else await reset();
    } catch (e) {
      return { error: e };
    }
    return {};
  }

  /** Metrics of this worker's subtasks, or a state query to one of them, marked with this worker's index. */
  async function inspect(message: Extract<ToWorker, { t: 'call' }>): Promise<unknown> {
    const { deployment, worker } = share;
    if (deployment === undefined) return message.op === 'metrics' ? [] : undefined;
    if (message.op === 'metrics') return ((await deployment.sampleMetrics?.()) ?? []).map((s) => ({ ...s, worker }));
    const view = await deployment.queryState?.(message.operatorId!, message.key);
    return view === undefined ? undefined : { ...view, worker };
  }

  /**
   * Every task's final full snapshot, sent to the coordinator as acknowledgements (before
   * the call's reply); with `hooksOnly`, only the functions' snapshot hooks run.
   */
  async function finalSnapshot(id: number, hooksOnly: boolean): Promise<void> {
    for (const [address, task] of share.tasks) {
      const snapshots = await task.finalSnapshot(id, { hooksOnly });
      if (hooksOnly) continue;
      const parts = wireParts(task, snapshots);
      post(
        { t: 'ack', task: address, id, parts },
        parts.map((p) => p.bytes.buffer as ArrayBuffer),
      );
    }
  }

  async function closeShare(s: Share): Promise<unknown> {
    if (s.closed || !s.deployment) return undefined;
    s.closed = true;
    return s.deployment.close();
  }

  /** Ends the attempt: its tasks are failed and unwound, its operators closed, its links dropped. */
  async function reset(): Promise<void> {
    const old = share;
    epoch++;
    post = poster(epoch);
    share = newShare();
    old.deployment?.fail(new Error('[eddy] [executor:workers] the attempt was reset'));
    for (const link of old.links) link?.close();
    await old.running?.catch(() => {});
    await closeShare(old).catch(() => {});
  }

  async function deployShare(msg: DeployMessage, target: Share): Promise<Deployment> {
    const { tasks, addresses, links } = target;
    const send = post;
    const definition = await loadJob(msg.origin, options.jobs ?? []);
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setMaxParallelism(msg.maxParallelism).setParallelism(msg.defaultParallelism);
    if (msg.autoWatermarkInterval !== undefined) env.getConfig().setAutoWatermarkInterval(msg.autoWatermarkInterval);
    const result = definition.build(env, msg.origin.args);
    if (msg.collectId !== undefined) {
      if (!result || typeof (result as { collectInto?: unknown }).collectInto !== 'function') {
        throw new ConfigurationError(`job ${msg.origin.exportName} is run with executeAndCollect(), so its job function must return the collected stream`, {
          component: 'executor:workers',
        });
      }
      result.collectInto({
        id: msg.collectId,
        immediate: msg.collectImmediate === true,
        commit: (txn, records) => send({ t: 'collect', txn, records: records as unknown[] }),
      });
    }
    const graph = env.takeGraph(msg.jobName);
    checkFingerprint(msg.fingerprint, graphFingerprint(graph, planJob(graph)), msg.worker);

    for (const peer of msg.peers) {
      links[peer.worker] = new PeerLink(peer.port, msg.credits, (address) => tasks.get(address)?.gate, failer(target, send));
    }
    const placement: Placement = {
      isLocal: (_head, i) => workerOfSubtask(i, msg.workers) === msg.worker,
      remote: (head, i) => links[workerOfSubtask(i, msg.workers)]!.sink(taskAddress(head, i)),
      bind: (address, task) => {
        tasks.set(address, task);
        addresses.set(task, address);
      },
      tuning: {
        sourceBatchSize: msg.sourceBatchSize,
        // Input loops let this worker's messages (records, returned credits) in every few ms.
        inputYield: { intervalMs: msg.inputYieldIntervalMs, yieldToHost: options.yieldToHost ?? yieldToHost },
      },
    };
    const restores = new Map(msg.restore.map((r) => [`${r.operatorId}/${r.subtaskIndex}`, r.bytes]));
    return deploy(
      graph,
      {
        jobId: msg.jobId,
        stateBackend: env.getStateBackend(),
        clock: env.getClock(),
        restore: (operatorId, i) => {
          const bytes = restores.get(`${operatorId}/${i}`);
          return bytes === undefined ? undefined : (deserializeValue(bytes) as OperatorRestore);
        },
        checkpointHooks: msg.aligned === undefined ? undefined : forwardingHooks(msg.aligned, addresses, send),
      },
      placement,
    );
  }

  /** Checkpoint hooks that send each task's encoded parts (transferred, not copied) to the coordinator. */
  function forwardingHooks(
    aligned: boolean,
    addresses: ReadonlyMap<StreamTask, string>,
    send: (m: FromWorker, transfer?: TransferableLike[]) => void,
  ): CheckpointHooks {
    return {
      aligned,
      acknowledge(task, id, snapshots, syncMs) {
        const address = addresses.get(task)!;
        snapshots.then(
          (list) => {
            const parts = wireParts(task, list);
            send(
              { t: 'ack', task: address, id, parts, syncMs },
              parts.map((p) => p.bytes.buffer as ArrayBuffer),
            );
          },
          (e) => send({ t: 'ack-failed', task: address, id, error: toWireError(e) }),
        );
      },
      taskFinished(task) {
        send({ t: 'task-finished', task: addresses.get(task as StreamTask)! });
      },
    };
  }

  // Messages are handled in order, each after the previous one's synchronous part: nothing overtakes the deploy.
  let queue = Promise.resolve();
  endpoint.onmessage = (event) => {
    queue = queue.then(() => handle(event.data as ToWorker)).catch(fail);
  };
}

/** A task's snapshots as encoded parts, one per chain member. */
function wireParts(task: StreamTask, snapshots: readonly OperatorSnapshot[]): WirePart[] {
  return snapshots.map((s, i) => {
    const part = partSourceOf(task, i, s);
    return { operatorId: part.operatorId, subtaskIndex: part.subtaskIndex, incremental: part.incremental, bytes: part.bytes() };
  });
}

function newShare(): Share {
  return { tasks: new Map(), addresses: new Map(), links: [], closed: false };
}

/** Throws an INVALID_CONFIG error naming the first node where the worker's graph differs. */
function checkFingerprint(expected: readonly string[], actual: readonly string[], worker: number): void {
  for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
    if (expected[i] !== actual[i]) {
      throw new ConfigurationError(
        `the job graph built in worker ${worker} differs from the main thread's: main has ${expected[i] ?? '(nothing)'}, the worker has ${actual[i] ?? '(nothing)'}. The job function must build the same graph everywhere (no randomness or thread-dependent branches)`,
        { component: 'executor:workers' },
      );
    }
  }
}

/** A page's globals: touching one while importing the job's module means the bundler merged it into a page chunk. */
const PAGE_GLOBAL = /\b(document|window|localStorage|sessionStorage|alert)\b/;
const BUNDLED_HINT =
  'give webWorkers() a worker entry of your own that imports the job and calls serveWebWorker({ jobs: [...] }) (README: "Web Workers with a bundler")';

/**
 * Job modules this worker imported, by URL. A module is evaluated once anyway, but every
 * `import()` of it walks its whole graph again: in Chromium one task per module (~150
 * for a job importing eddy), a few ms of every deploy.
 */
const importedJobModules = new Map<string, Record<string, unknown>>();

/** The job definition a deploy names: one bundled into this worker's entry, else an export of the module at its URL. */
async function loadJob(origin: JobOrigin, bundled: WorkerHostOptions['jobs'] & {}): Promise<JobDefinition<unknown, JobResult>> {
  const named = bundled.filter((job) => job.exportName === origin.exportName);
  if (named.length > 1)
    throw new ConfigurationError(`this worker's entry bundles ${named.length} jobs exported as "${origin.exportName}": export names must be unique`, {
      component: 'executor:workers',
    });
  if (named.length === 1) return named[0]!;
  let mod = importedJobModules.get(origin.moduleUrl);
  try {
    if (mod === undefined) {
      mod = (await import(/* @vite-ignore */ origin.moduleUrl)) as Record<string, unknown>;
      importedJobModules.set(origin.moduleUrl, mod);
    }
  } catch (e) {
    if (!(e instanceof ReferenceError && PAGE_GLOBAL.test(e.message))) throw e;
    throw new ConfigurationError(
      `the module of job "${origin.exportName}" (${origin.moduleUrl}) is a page chunk: importing it in a worker ran the page's code (${e.message}). A bundler merged the module that defines the job into the page's code; ${BUNDLED_HINT}`,
      { component: 'executor:workers' },
    );
  }
  const definition = mod[origin.exportName];
  if (!isJobDefinition(definition)) {
    throw new ConfigurationError(
      `${origin.moduleUrl} has no export "${origin.exportName}" made by defineJob(): workers rebuild the job from it (if a bundler built this module, the job may have been merged into another chunk: ${BUNDLED_HINT})`,
      { component: 'executor:workers' },
    );
  }
  return definition;
}
