/**
 * The sending side of a non-chained edge on its own: a NetworkOutput over fake channel
 * sinks that record what each consumer subtask receives.
 */
import { describe, expect, it } from 'vitest';
import { InvalidKeyError, UserFunctionError } from '../../src/api/errors.ts';
import type { Partitioning } from '../../src/engine/graph.ts';
import { keyGroupForKey, keyGroupRangeForSubtask } from '../../src/format/key-groups.ts';
import type { Key } from '../../src/format/key-bytes.ts';
import type { RecordBatch } from '../../src/engine/operators/operator.ts';
import type { StreamElement } from '../../src/engine/input-gate.ts';
import { NetworkOutput, type ChannelSink } from '../../src/engine/network-output.ts';

const MAX_P = 128;

/** `n` consumer subtasks, each a sink recording (channel, element); this producer writes to channel 5 of each. */
function consumers(n: number) {
  const received: Array<Array<{ channel: number; element: StreamElement }>> = Array.from({ length: n }, () => []);
  const targets = received.map((log) => ({
    gate: { put: async (channel: number, element: StreamElement) => void log.push({ channel, element }) } satisfies ChannelSink,
    channel: 5,
  }));
  return { received, targets };
}

const output = (partitioning: Partitioning, n: number, producerIndex = 0) => {
  const c = consumers(n);
  return { ...c, out: new NetworkOutput(partitioning, c.targets, MAX_P, 'Consumer (*/n)', producerIndex) };
};
const batch = (values: unknown[], timestamps?: number[]): RecordBatch => ({ values, timestamps });
const recordsOf = (log: ReadonlyArray<{ element: StreamElement }>) => log.flatMap(({ element }) => (element.kind === 'records' ? [element.batch] : []));

describe('NetworkOutput', () => {
  it('a single target (forward) gets each batch as it is', async () => {
    const { out, received } = output({ type: 'forward' }, 1);
    const b = batch([1, 2, 3]);
    await out.emitRecords(b);
    expect(received[0]).toEqual([{ channel: 5, element: { kind: 'records', batch: b } }]);
  });

  it('rebalance deals records round-robin, starting at the producer index and continuing across batches, with their timestamps', async () => {
    const { out, received } = output({ type: 'rebalance' }, 3, 1);
    await out.emitRecords(batch(['a', 'b', 'c', 'd'], [1, 2, 3, 4]));
    await out.emitRecords(batch(['e', 'f']));
    expect(received.map((log) => recordsOf(log).map((b) => [b.values, b.timestamps]))).toEqual([
      [
        [['c'], [3]],
        [['f'], undefined],
      ],
      [
        [
          ['a', 'd'],
          [1, 4],
        ],
      ],
      [
        [['b'], [2]],
        [['e'], undefined],
      ],
    ]);
  });

  it('hash sends every record to the subtask owning its key group, with its key and key group', async () => {
    const n = 3;
    const { out, received } = output({ type: 'hash', keySelector: (v) => (v as { k: Key }).k }, n);
    const keys: Key[] = ['a', 'b', 'c', 'd', 'é', 7, 2n, ['x', 1], 'a'];
    await out.emitRecords(
      batch(
        keys.map((k, i) => ({ k, i })),
        keys.map((_, i) => 100 + i),
      ),
    );
    const seen: number[] = [];
    received.forEach((log, subtask) => {
      const range = keyGroupRangeForSubtask(MAX_P, n, subtask);
      for (const b of recordsOf(log)) {
        b.values.forEach((v, j) => {
          const { k, i } = v as { k: Key; i: number };
          expect(b.keys![j]).toEqual(k);
          expect(b.keyGroups![j]).toBe(keyGroupForKey(k, MAX_P));
          expect(range.contains(b.keyGroups![j]!), `key ${String(k)} on subtask ${subtask}`).toBe(true);
          expect(b.timestamps![j]).toBe(100 + i);
          seen.push(i);
        });
      }
    });
    expect(seen.sort((a, b) => a - b)).toEqual(keys.map((_, i) => i));
  });

  it('watermarks, barriers and the end go to every consumer, in the order emitted', async () => {
    const { out, received } = output({ type: 'rebalance' }, 2);
    await out.emitWatermark(10);
    await out.emitBarrier(3, 99, true);
    await out.end();
    for (const log of received) {
      expect(log.map((r) => r.element)).toEqual([
        { kind: 'watermark', timestamp: 10 },
        { kind: 'barrier', checkpointId: 3, timestamp: 99, incremental: true },
        { kind: 'end' },
      ]);
    }
  });

  it('a throwing key selector fails with USER_FUNCTION_FAILED naming the consumer; an invalid key with INVALID_KEY; nothing is sent', async () => {
    const throwing = output(
      {
        type: 'hash',
        keySelector: () => {
          throw new Error('no key here');
        },
      },
      2,
    );
    const e = await throwing.out.emitRecords(batch([1])).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UserFunctionError);
    expect((e as Error).message).toContain('[operator:Consumer (*/n)]');
    expect((e as Error).message).toContain('no key here');
    const invalid = output({ type: 'hash', keySelector: () => ({}) as unknown as Key }, 2);
    const f = await invalid.out.emitRecords(batch([1])).catch((x: unknown) => x);
    expect(f).toBeInstanceOf(InvalidKeyError);
    expect((f as InvalidKeyError).code).toBe('INVALID_KEY');
    expect((f as Error).message).toContain('[operator:Consumer (*/n)]');
    expect([...throwing.received, ...invalid.received].flat()).toEqual([]);
  });
});
