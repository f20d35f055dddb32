import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { InputGate, type GateItem, type StreamElement } from '../../src/engine/input-gate.ts';

const records = (n: number): StreamElement => ({ kind: 'records', batch: { values: [n], timestamps: undefined } });
const valueInside = (item: GateItem): unknown => ('element' in item && item.element.kind === 'records' ? item.element.batch.values[0] : undefined);

// A full collection on demand, for the reachability test (test-only: the library never does this).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('InputGate', () => {
  it('hands out elements in order across many refills (its queue compacts as it goes)', async () => {
    const gate = new InputGate(1, 4096);
    let next = 0;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 1500; i++) await gate.put(0, records(round * 1500 + i));
      for (let i = 0; i < 1000 + round * 100; i++) expect(valueInside(await gate.take())).toBe(next++);
    }
    while (next < 5 * 1500) expect(valueInside(await gate.take())).toBe(next++);
  });

  it('does not keep a batch reachable once it was taken', async () => {
    const gate = new InputGate(1, 8);
    // Built in a helper so that no frame of this test holds the batch.
    const put = (): WeakRef<object> => {
      const values = [{ payload: new Array(1000).fill(1) }];
      void gate.put(0, { kind: 'records', batch: { values, timestamps: undefined } });
      return new WeakRef(values);
    };
    const ref = put();
    // Keep the queue non-empty so that the taken slot is not dropped by a reset of the whole queue.
    await gate.put(0, records(2));
    const taken = (): Promise<void> => gate.take().then(() => undefined);
    await taken();
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    expect(ref.deref()).toBeUndefined();
    expect(valueInside(await gate.take())).toBe(2);
  });
});
