import { describe, expect, it } from 'vitest';
import {
  HashMapStateBackend,
  RestartStrategies,
  RichMapFunction,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  MapStateDescriptor,
  keyGroupForKey,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { mergeKeyedChain } from '../../src/format/checkpoint-chain.ts';
import { decodeManifest } from '../../src/format/checkpoint-format.ts';
import { listCompletedCheckpoints } from '../../src/engine/checkpoint-restore.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import { readKeyGroup, type KeyedStateSnapshot } from '../../src/format/snapshot-format.ts';
import { MemoryCheckpointStorage } from '../../src/storages/memory.ts';
import { pacedSource } from '../helpers/sources.ts';
import { SqliteStateBackend } from '../../src/backends/sqlite/index.ts';
import { IDBKeyRange as FakeKeyRange, IDBFactory as FakeFactory } from 'fake-indexeddb';
import { IndexedDbStateBackend } from '../../src/backends/indexeddb/index.ts';
import type { StateBackend } from '../../src/state/backend.ts';
import { keyedOptions } from '../helpers/keyed-options.ts';

function backend() {
  const kb = new HashMapStateBackend().createKeyedStateBackend(keyedOptions('j', { operatorId: 'o', operatorName: 'O' }));
  const store = new KeyedStateStore(kb, 'O');
  return { kb, store, key: (k: string) => kb.setCurrentKey(k, keyGroupForKey(k, 128)) };
}

/** Every entry of a snapshot as sorted JSON lines, to compare contents regardless of order. */
function contents(s: KeyedStateSnapshot): string[] {
  const lines: string[] = [];
  for (const [, bytes] of s.keyGroups)
    for (const e of readKeyGroup(bytes, s.states))
      lines.push(JSON.stringify({ ...e, state: s.states[e.stateIndex].name, stateIndex: undefined }, (_, v) => (v instanceof Map ? [...v] : v)));
  return lines.sort();
}

describe('incremental snapshots of the in-memory backend', () => {
  it('after a completed checkpoint, a delta holds only what changed; base + delta equals a full snapshot', async () => {
    const { kb, store, key } = backend();
    const count = store.getState(new ValueStateDescriptor<number>('count'));
    const tags = store.getMapState(new MapStateDescriptor<string, number>('tags'));
    for (let i = 0; i < 2000; i++) {
      key(`k${i}`);
      await count.update(i);
      if (i % 10 === 0) await tags.put('t', i);
    }
    const base = await kb.snapshot({ checkpointId: 1, incremental: true });
    expect(base.incremental).toBeUndefined();
    kb.notifyCheckpointComplete!(1);
    for (let i = 0; i < 20; i++) {
      key(`k${i}`);
      await count.update(-i);
    }
    key('k30');
    await count.clear();
    await tags.clear();
    key('new');
    await count.update(7);
    const delta = await kb.snapshot({ checkpointId: 2, incremental: true });
    expect(delta.incremental?.baseCheckpointId).toBe(1);
    const deltaEntries = contents(delta).length;
    expect(deltaEntries).toBe(21);
    expect([...delta.incremental!.removed.values()].reduce((n, b) => n + b.length, 0)).toBeGreaterThan(0);
    const full = await kb.snapshot({ checkpointId: 3 });
    expect(contents(mergeKeyedChain([base, delta]))).toEqual(contents(full));
  });

  it('without a completed checkpoint, or when not asked, snapshots stay full', async () => {
    const { kb, store, key } = backend();
    const count = store.getState(new ValueStateDescriptor<number>('count'));
    key('a');
    await count.update(1);
    expect((await kb.snapshot({ checkpointId: 1, incremental: true })).incremental).toBeUndefined();
    await count.update(2);
    expect((await kb.snapshot({ checkpointId: 2, incremental: true })).incremental).toBeUndefined();
    kb.notifyCheckpointComplete!(2);
    await count.update(3);
    expect((await kb.snapshot({ checkpointId: 3 })).incremental).toBeUndefined();
    expect((await kb.snapshot({ checkpointId: 4, incremental: true })).incremental).toBeDefined();
  });
});

/** Fails once at record `at`; a class instance, so every per-subtask copy of the function shares it. */
class Trap {
  constructor(
    readonly at: number,
    public sprung: boolean,
  ) {}
}

class Count extends RichMapFunction<number, string> {
  private c!: ValueState<number>;
  constructor(private readonly trap: Trap) {
    super();
  }
  override open(ctx: RuntimeContext) {
    this.c = ctx.getState(new ValueStateDescriptor<number>('c'));
  }
  async map(v: number) {
    if (v === this.trap.at && !this.trap.sprung) {
      this.trap.sprung = true;
      throw new Error('injected');
    }
    const n = ((await this.c.value()) ?? 0) + 1;
    await this.c.update(n);
    return `${v % 50}:${n}`;
  }
}

async function run(storage: MemoryCheckpointStorage, trap: Trap, backend?: () => StateBackend) {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
  if (backend !== undefined) env.setStateBackend(backend());
  env.enableCheckpointing(2).setRestartStrategy(RestartStrategies.fixedDelayRestart(2, 0));
  env.getCheckpointConfig().setCheckpointStorage(storage).setMaxRetainedCheckpoints(3).enableIncrementalCheckpoints(true);
  const warn = console.warn;
  console.warn = () => {};
  try {
    return (
      (await env
        .fromSource(
          pacedSource(900, (i) => i, 3),
          undefined,
          'n',
        )
        .keyBy((i) => i % 50)
        .map(new Count(trap))
        .uid('count')
        .executeAndCollect('incremental-job')) as string[]
    ).sort();
  } finally {
    console.warn = warn;
  }
}

describe('incremental checkpoints in a job', () => {
  const backends: Array<[string, (() => StateBackend) | undefined]> = [
    ['the default (hashmap) backend', undefined],
    ['SqliteStateBackend', () => new SqliteStateBackend({ vfs: 'memory' })],
    ['IndexedDbStateBackend (fake-indexeddb)', () => new IndexedDbStateBackend({ indexedDB: new FakeFactory(), IDBKeyRange: FakeKeyRange, writeBehind: 64 })],
  ];
  it.each(backends)('chains deltas in the manifest and restores exactly-once from them, on %s', async (_name, backend) => {
    const expected = await run(new MemoryCheckpointStorage(), new Trap(-1, true), backend);
    for (const at of [250, 500, 800]) {
      const storage = new MemoryCheckpointStorage();
      const trap = new Trap(at, false);
      expect(await run(storage, trap, backend)).toEqual(expected);
      expect(trap.sprung).toBe(true);
      const dirs = await listCompletedCheckpoints(storage, 'incremental-job');
      const manifests = await Promise.all(dirs.map(async (d) => decodeManifest((await storage.get(`${d}/_metadata`))!, d)));
      const longest = Math.max(
        ...manifests.flatMap((m) => m.operators.filter((o) => o.operatorId === 'count').flatMap((o) => o.parts.map((c) => c?.length ?? 0))),
      );
      expect(longest).toBeGreaterThan(1);
      // Every part a retained manifest references still exists.
      for (const m of manifests)
        for (const o of m.operators) for (const c of o.parts) for (const h of c ?? []) expect(await storage.get(h.path), h.path).toBeDefined();
    }
  });
});
