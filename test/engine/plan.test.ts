/**
 * The planner on hand-built job graphs: which nodes chain into their input's task, where
 * an exchange is needed, how parallelism is resolved and refused, and the tasks and
 * channels `deploy` builds from a plan.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/api/clock.ts';
import { ConfigurationError } from '../../src/api/errors.ts';
import type { Source } from '../../src/api/sources.ts';
import { HashMapStateBackend } from '../../src/backends/memory.ts';
import type { GraphEdge, GraphNode, JobGraph, Partitioning } from '../../src/engine/graph.ts';
import type { StreamOperator } from '../../src/engine/operators/operator.ts';
import { deploy } from '../../src/engine/executor.ts';
import { nonReplayableSources, operatorLayout, planJob, resolveParallelism } from '../../src/engine/plan.ts';
import type { StreamTask } from '../../src/engine/task.ts';

const FORWARD: Partitioning = { type: 'forward' };
const REBALANCE: Partitioning = { type: 'rebalance' };
const HASH: Partitioning = { type: 'hash', keySelector: (v) => String(v) };

/** An operator that is never run: the planner and deploy only build and initialise it. */
const idle = (): StreamOperator => ({
  initializeState: async () => {},
  open: async () => {},
  processBatch: () => {},
  processWatermark: () => {},
  processIdleness: () => {},
  onProcessingTime: () => {},
  finish: () => {},
  close: async () => {},
  snapshotState: async () => ({ snapshot: Promise.resolve({}) }),
  notifyCheckpointComplete: async () => {},
});

/** The `source` field of a source node (never read: only its declared limits matter here). */
const source = (o: { maxParallelism?: number; replayable?: boolean } = {}) => ({
  source: { source: { boundedness: 'bounded', createReader: () => ({}), ...o } as unknown as Source<unknown> },
});

/** Builds a graph from node specs; node ids are their positions. */
function graph(nodes: Array<Partial<GraphNode> & { name: string }>, defaultParallelism = 2, maxParallelism = 128): JobGraph {
  return {
    jobName: 'plan-test',
    defaultParallelism,
    maxParallelism,
    nodes: nodes.map((n, id) => ({ id, keyed: false, inputs: [], createOperator: n.source ? undefined : idle, ...n })),
  };
}
const from = (id: number, partitioning: Partitioning = FORWARD): GraphEdge[] => [{ from: id, partitioning }];
const plannedOf = (g: JobGraph) =>
  [...planJob(g).nodes.values()].map((p) => ({ name: p.node.name, parallelism: p.parallelism, chainedTo: p.chainedTo, head: p.head }));

describe('planJob: chaining', () => {
  it('chains forward edges at equal parallelism into the head task, transitively', () => {
    const g = graph([{ name: 'Source' }, { name: 'Map', inputs: from(0) }, { name: 'Filter', inputs: from(1) }]);
    expect(plannedOf(g)).toEqual([
      { name: 'Source', parallelism: 2, chainedTo: undefined, head: 0 },
      { name: 'Map', parallelism: 2, chainedTo: 0, head: 0 },
      { name: 'Filter', parallelism: 2, chainedTo: 1, head: 0 },
    ]);
  });

  it('a keyBy (hash) edge is an exchange: never chained, even at equal parallelism; nor is a rebalance edge', () => {
    const g = graph([
      { name: 'Source' },
      { name: 'Keyed', inputs: from(0, HASH), keyed: true },
      { name: 'Rebalanced', inputs: from(1, REBALANCE) },
      { name: 'Sink', inputs: from(2) },
    ]);
    expect(plannedOf(g).map((p) => [p.name, p.chainedTo, p.head])).toEqual([
      ['Source', undefined, 0],
      ['Keyed', undefined, 1],
      ['Rebalanced', undefined, 2],
      ['Sink', 2, 2],
    ]);
  });

  it('a forward edge across a parallelism change is not chained', () => {
    const g = graph([
      { name: 'Source', parallelism: 1 },
      { name: 'Wide', inputs: from(0), parallelism: 3 },
      { name: 'AlsoWide', inputs: from(1), parallelism: 3 },
    ]);
    expect(plannedOf(g).map((p) => [p.name, p.parallelism, p.head])).toEqual([
      ['Source', 1, 0],
      ['Wide', 3, 1],
      ['AlsoWide', 3, 1],
    ]);
  });

  it('a node with two inputs (a union) starts its own task', () => {
    const g = graph([{ name: 'A' }, { name: 'B' }, { name: 'Union', inputs: [...from(0), ...from(1)] }]);
    expect(plannedOf(g)[2]).toEqual({ name: 'Union', parallelism: 2, chainedTo: undefined, head: 2 });
  });
});

describe('planJob: parallelism', () => {
  it("a node without its own parallelism gets the default, capped by its source's maxParallelism", () => {
    const g = graph(
      [
        { name: 'Single', ...source({ maxParallelism: 1 }) },
        { name: 'Parallel', ...source() },
        { name: 'Map', inputs: from(0) },
        { name: 'Set', inputs: from(1), parallelism: 5 },
      ],
      4,
    );
    expect(plannedOf(g).map((p) => [p.name, p.parallelism])).toEqual([
      ['Single', 1],
      ['Parallel', 4],
      ['Map', 4],
      ['Set', 5],
    ]);
  });

  it('refuses a parallelism that is not a positive integer, above the max parallelism, or above what the source supports, naming the operator', () => {
    const cases: Array<[Partial<GraphNode>, string]> = [
      [{ parallelism: 0 }, 'parallelism must be a positive integer, got 0'],
      [{ parallelism: 1.5 }, 'parallelism must be a positive integer, got 1.5'],
      [{ parallelism: 9 }, 'parallelism 9 is above the max parallelism 8'],
      [{ parallelism: 2, ...source({ maxParallelism: 1 }) }, 'this source supports a parallelism of at most 1, got 2'],
    ];
    for (const [spec, message] of cases) {
      const g = graph([{ name: 'Fine' }, { name: 'Misconfigured', inputs: from(0), ...spec }], 2, 8);
      let thrown: unknown;
      try {
        planJob(g);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, message).toBeInstanceOf(ConfigurationError);
      expect((thrown as ConfigurationError).code).toBe('INVALID_CONFIG');
      expect((thrown as Error).message).toContain('[operator:Misconfigured]');
      expect((thrown as Error).message).toContain(message);
    }
    const atMax = graph([{ name: 'Ok', parallelism: 8 }], 2, 8);
    expect(resolveParallelism(atMax, atMax.nodes[0]!), 'the max parallelism itself is allowed').toBe(8);
  });
});

describe('planJob: operator ids and sources', () => {
  it("the layout maps each operator's uid (or its node-<id> when it has none) to its parallelism", () => {
    const g = graph([
      { name: 'Source', uid: 'events' },
      { name: 'Map', inputs: from(0) },
      { name: 'Counter', uid: 'counter', inputs: from(1, HASH), parallelism: 3 },
    ]);
    expect([...operatorLayout(planJob(g))]).toEqual([
      ['events', 2],
      ['node-1', 2],
      ['counter', 3],
    ]);
  });

  it('names the sources that cannot replay from a checkpoint', () => {
    const g = graph([
      { name: 'Kafka-like', ...source({ replayable: true }) },
      { name: 'Socket', ...source() },
      { name: 'Map', inputs: from(0) },
    ]);
    expect(nonReplayableSources(g)).toEqual(['Socket']);
  });

  it('two operators with the same uid are refused, naming both (they would share one state entry in checkpoints)', () => {
    const g = graph([
      { name: 'Source', uid: 'events' },
      { name: 'Counter', uid: 'count', inputs: from(0, HASH) },
      { name: 'Totals', uid: 'count', inputs: from(1, HASH) },
    ]);
    expect(() => planJob(g)).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(/Totals.*uid "count" is also given to operator "Counter"/) }),
    );
  });
});

describe('deploy: tasks and channels from the plan', () => {
  const deployed = async (g: JobGraph) => {
    const d = await deploy(g, { jobId: 'plan-test', stateBackend: new HashMapStateBackend(), clock: new ManualClock(0) });
    return (d.tasks as StreamTask[]).map((t) => ({
      name: t.name,
      members: t.members.map((m) => `${m.operatorId}/${m.subtaskIndex}`),
      channels: t.gate.channelCount,
    }));
  };

  it('builds one task per chain head and subtask; chained operators are members of their head task', async () => {
    const g = graph([{ name: 'Source' }, { name: 'Map', inputs: from(0) }, { name: 'Keyed', inputs: from(1, HASH), keyed: true }]);
    expect(await deployed(g)).toEqual([
      { name: 'Source (1/2)', members: ['node-0/0', 'node-1/0'], channels: 0 },
      { name: 'Source (2/2)', members: ['node-0/1', 'node-1/1'], channels: 0 },
      { name: 'Keyed (1/2)', members: ['node-2/0'], channels: 2 },
      { name: 'Keyed (2/2)', members: ['node-2/1'], channels: 2 },
    ]);
  });

  it('a consumer gets one channel per upstream subtask of an exchange, and one per forward edge', async () => {
    const g = graph([
      { name: 'One', parallelism: 1 },
      { name: 'Three', parallelism: 3 },
      { name: 'Union', inputs: [...from(0), ...from(1, HASH)], parallelism: 3 },
    ]);
    const tasks = await deployed(g);
    expect(
      tasks.filter((t) => t.name.startsWith('Union')).map((t) => t.channels),
      'forward across a parallelism change is an exchange: 1 + 3',
    ).toEqual([4, 4, 4]);
    const forward = graph([
      { name: 'A', parallelism: 2 },
      { name: 'B', parallelism: 2 },
      { name: 'Union', inputs: [...from(0), ...from(1)], parallelism: 2 },
    ]);
    expect((await deployed(forward)).filter((t) => t.name.startsWith('Union')).map((t) => t.channels)).toEqual([2, 2]);
  });
});
