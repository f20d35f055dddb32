/**
 * How a keyed operator runs the records of a batch (AbstractStreamOperator.forEachRecord):
 * a batch whose records all complete at once is processed without a Promise; one that has
 * to wait (an async result, mail between records) goes on in order from that record; a
 * failure is a rejection naming the record's key, with no key left set.
 */
import { describe, expect, it } from 'vitest';
import { ValueStateDescriptor } from '../../src/api/descriptors.ts';
import { KeyedProcessFunction, type Collector, type KeyedProcessContext, type RuntimeContext } from '../../src/api/functions.ts';
import type { SyncValueState } from '../../src/api/state.ts';
import { KeyedProcessOperator } from '../../src/engine/operators/process.ts';
import { keyGroupForKey } from '../../src/format/key-groups.ts';
import { OperatorHarness } from '../helpers/harness.ts';

type Ev = { k: string; n: number };

/** Emits "key:count" per record; answers with a Promise for records whose n is odd when `asyncOdd`. */
class Counter extends KeyedProcessFunction<string, Ev, string> {
  count!: SyncValueState<number>;
  constructor(
    private readonly asyncOdd = false,
    private readonly failOn?: number,
  ) {
    super();
  }
  override open(ctx: RuntimeContext): void {
    this.count = ctx.getSyncState(new ValueStateDescriptor<number>('count'));
  }
  processElement(v: Ev, ctx: KeyedProcessContext<string>, out: Collector<string>): void | Promise<void> {
    if (v.n === this.failOn) throw new Error(`bad record ${v.n}`);
    const emit = () => {
      const c = (this.count.value() ?? 0) + 1;
      this.count.update(c);
      out.collect(`${ctx.getCurrentKey()}:${c}:${v.n}`);
    };
    if (this.asyncOdd && v.n % 2 === 1) return Promise.resolve().then(emit);
    emit();
  }
}

const events: Ev[] = [
  { k: 'a', n: 0 },
  { k: 'b', n: 1 },
  { k: 'a', n: 2 },
  { k: 'a', n: 3 },
  { k: 'b', n: 4 },
];

function batchOf(values: Ev[]) {
  const keys = values.map((e) => e.k);
  return { values, timestamps: undefined, keys, keyGroups: keys.map((k) => keyGroupForKey(k, 128)) };
}

const expected = ['a:1:0', 'b:1:1', 'a:2:2', 'a:3:3', 'b:2:4'];

/** The operator, with the key its state backend has set visible to the test. */
class ProbedOperator extends KeyedProcessOperator<string, Ev, string> {
  currentKey(): unknown {
    return this.backend?.getCurrentKey();
  }
}

describe('forEachRecord', () => {
  it('processes a batch of synchronous records without a Promise', async () => {
    const h = await OperatorHarness.open(new KeyedProcessOperator(new Counter()));
    const r = h.op.processBatch(batchOf(events), h.out);
    expect(r).toBeUndefined();
    expect(h.out.take().values).toEqual(expected);
  });

  it('goes on in order from the first record that answers with a Promise', async () => {
    const h = await OperatorHarness.open(new KeyedProcessOperator(new Counter(true)));
    const r = h.op.processBatch(batchOf(events), h.out);
    expect(r).toBeInstanceOf(Promise);
    await r;
    expect(h.out.take().values).toEqual(expected);
  });

  it('runs mail between two records with no key set, then the rest of the batch', async () => {
    const op = new ProbedOperator(new Counter());
    let mails = 1;
    const atMail: unknown[] = [];
    let harness: OperatorHarness | undefined;
    const h = await OperatorHarness.open(op, {
      mailbox: {
        // Mail arrives while record 1 is processed: it runs after record 1, before record 2.
        hasMail: () => mails > 0 && harness?.out.size === 2,
        runMail: async () => {
          mails--;
          atMail.push(harness!.out.size, op.currentKey());
        },
      },
    });
    harness = h;
    const r = h.op.processBatch(batchOf(events), h.out);
    expect(r).toBeInstanceOf(Promise);
    await r;
    expect(mails).toBe(0);
    expect(atMail).toEqual([2, undefined]);
    expect(h.out.take().values).toEqual(expected);
  });

  it('rejects (does not throw) when a record fails, naming its key, and leaves no key set', async () => {
    const op = new ProbedOperator(new Counter(false, 2));
    const h = await OperatorHarness.open(op);
    let r: unknown;
    expect(() => {
      r = h.op.processBatch(batchOf(events), h.out);
    }).not.toThrow();
    await expect(r).rejects.toThrow(/bad record 2/);
    await expect(r).rejects.toMatchObject({ context: { key: 'a' } });
    expect(op.currentKey()).toBeUndefined();
    // The records before the failing one were processed.
    expect(h.out.take().values).toEqual(['a:1:0', 'b:1:1']);
  });
});
