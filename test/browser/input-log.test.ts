/**
 * The IndexedDB and OPFS input logs in real Chromium: the store conformance suite unchanged (its
 * second-writer case is refused by a real Web Lock), a second DurableLog of the same log
 * refused with STORAGE_LOCKED, and a keyed job reading the log exactly once across
 * injected failures while it is appended to.
 */
import { describe, expect, it, vi } from 'vitest';
import { InputLogError } from '../../src/api/errors.ts';
import type { SourceReader } from '../../src/api/sources.ts';
import { DurableLog } from '../../src/engine/input-log/durable-log.ts';
import { MemoryCheckpointStorage, RestartStrategies, RichMapFunction, StreamExecutionEnvironment } from '../../src/index.ts';
import { IndexedDbInputLogStore } from '../../src/storages/indexeddb-input-log.ts';
import { OpfsInputLogStore } from '../../src/storages/opfs-input-log.ts';
import { inputLogStoreSuite } from '../conformance/input-log-store.suite.ts';
import { expectedRunningCounts, RunningCount } from '../helpers/running-count.ts';

vi.setConfig({ testTimeout: 120_000 });

inputLogStoreSuite('indexeddb (chromium)', (name) => new IndexedDbInputLogStore(name));
inputLogStoreSuite('opfs (chromium)', (name) => new OpfsInputLogStore(name));

const thrown = new Set<number>();
class FailAt extends RichMapFunction<number, number> {
  map(v: number): number {
    if ((v === 90 || v === 333) && !thrown.has(v)) {
      thrown.add(v);
      throw new Error(`injected failure at ${v}`);
    }
    return v;
  }
}

describe('DurableLog on IndexedDB (chromium)', () => {
  const name = `browser-log-${Date.now().toString(36)}`;

  it('refuses a second writer of the same log (another tab would get the same) with STORAGE_LOCKED', async () => {
    const first = await DurableLog.open(new IndexedDbInputLogStore(name), { name: 'clicks' });
    const e = await DurableLog.open(new IndexedDbInputLogStore(name), { name: 'clicks' }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(InputLogError);
    expect((e as InputLogError).code).toBe('STORAGE_LOCKED');
    expect((e as InputLogError).message).toContain('[input-log:clicks]');
    await first.close();
  });

  it("with { lock: 'wait' } a second writer waits, and takes over once the first closes (a standby tab)", async () => {
    const first = await DurableLog.open<string>(new IndexedDbInputLogStore(`${name}-standby`));
    await first.append('from the first tab');
    let tookOver = false;
    const second = DurableLog.open<string>(new IndexedDbInputLogStore(`${name}-standby`, { lock: 'wait' })).then((log) => {
      tookOver = true;
      return log;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(tookOver).toBe(false);
    await first.close();
    const log = await second;
    expect(log.nextOffset).toBe(1);
    expect(await log.append('from the second tab')).toBe(1);
    await log.close();
  });

  it('a job reads every appended event exactly once across injected failures', async () => {
    const N = 500;
    const log = await DurableLog.open<number>(new IndexedDbInputLogStore(`${name}-job`));
    const producing = (async () => {
      for (let i = 0; i < N; i += 25) {
        await log.appendAll(Array.from({ length: 25 }, (_, k) => i + k));
      }
    })();
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
    env.enableCheckpointing(10).setRestartStrategy(RestartStrategies.fixedDelayRestart(4, 0));
    env.getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
    const out = (await env
      .fromSource(log.source({ stopAtOffset: N }), undefined, 'log')
      .uid('log')
      .map(new FailAt())
      .uid('fail')
      .keyBy((v) => v % 7)
      .map(new RunningCount(7))
      .uid('count')
      .executeAndCollect('idb-log')) as string[];
    await producing;
    expect(thrown.size).toBe(2);
    expect(out.sort()).toEqual(expectedRunningCounts(N, 7));
    expect(log.firstOffset).toBeGreaterThan(0); // truncated behind a completed checkpoint
    await log.close();
    // Reopened (as after a reload): what is retained is exactly what no checkpoint covered.
    const again = await DurableLog.open<number>(new IndexedDbInputLogStore(`${name}-job`));
    expect([again.firstOffset, again.nextOffset]).toEqual([log.firstOffset, N]);
    await again.close();
  });
});

describe('OpfsInputLogStore after a tab went away mid-append (chromium)', () => {
  it('drops an empty last round (its file created, createWritable() never closed) instead of counting its entries', async () => {
    const name = `opfs-torn-${Date.now().toString(36)}`;
    const first = await DurableLog.open<number>(new OpfsInputLogStore(name));
    await first.appendAll([10, 11]);
    await first.close();
    // What getFileHandle({ create: true }) leaves when the page unloads before close(): an empty round of 3.
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(`eddy-input-log-${name}`);
    await dir.getFileHandle(`b-${String(2).padStart(16, '0')}-3`, { create: true });
    const log = await DurableLog.open<number>(new OpfsInputLogStore(name));
    expect(log.nextOffset).toBe(2);
    expect(await log.append(12)).toBe(2);
    const reader = (await log.source({ stopAtOffset: 3 }).createReader({ subtaskIndex: 0, parallelism: 1 })) as SourceReader<number>;
    const read: number[] = [];
    for (let b = await reader.poll(10); b !== null; b = await reader.poll(10)) read.push(...b);
    expect(read).toEqual([10, 11, 12]);
    await log.close();
  });
});
