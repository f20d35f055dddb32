import { describe, expect, it } from 'vitest';
import {
  KeyedProcessFunction,
  StateError,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  type Collector,
  type KeyedProcessContext,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { pacedSource } from '../helpers/sources.ts';

/** Writes state from a continuation that outlives the record (un-awaited, in a setTimeout). */
class LateWriter extends KeyedProcessFunction<string, string, string> {
  s!: ValueState<string>;
  constructor(private readonly awaitIt: boolean) {
    super();
  }
  override open(ctx: RuntimeContext) {
    this.s = ctx.getState(new ValueStateDescriptor<string>('s'));
  }
  processElement(v: string, _ctx: KeyedProcessContext<string>, out: Collector<string>) {
    if (v === 'k0') {
      setTimeout(() => {
        const write = this.s.update('late');
        // Even a caller that handles the rejection cannot hide the misuse from the task.
        if (this.awaitIt) write.catch(() => {});
      }, 0);
    }
    out.collect(v);
  }
}

const run = (awaitIt: boolean) =>
  StreamExecutionEnvironment.getExecutionEnvironment()
    .setParallelism(1)
    .fromSource(
      pacedSource(30, (i) => `k${i % 3}`, 1),
      undefined,
      'keys',
    )
    .keyBy((k) => k)
    .process(new LateWriter(awaitIt))
    .executeAndCollect('late-writer')
    .then(
      () => undefined,
      (e: unknown) => e,
    );

describe('state access is bound to the record or timer that started it', () => {
  it('an un-awaited write after its record ended fails the job with NO_KEY_CONTEXT (no unhandled rejection, no silent success)', async () => {
    const error = await run(false);
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).code).toBe('NO_KEY_CONTEXT');
    expect((error as Error).message).toContain('state:s');
    expect((error as Error).message).toMatch(/outlives|after/);
  });

  it('the job fails even when user code catches the rejection of the misplaced write', async () => {
    const error = await run(true);
    expect((error as StateError | undefined)?.code).toBe('NO_KEY_CONTEXT');
  });

  it('an un-awaited state call made during the record still applies to that record key', async () => {
    const out = await StreamExecutionEnvironment.getExecutionEnvironment()
      .setParallelism(1)
      .fromSource(
        pacedSource(6, (i) => `k${i % 2}`, 1),
        undefined,
        'keys',
      )
      .keyBy((k) => k)
      .process({
        s: undefined as ValueState<number> | undefined,
        open(ctx: RuntimeContext) {
          this.s = ctx.getState(new ValueStateDescriptor<number>('n'));
        },
        async processElement(k: string, _ctx: KeyedProcessContext<string>, o: Collector<string>) {
          const n = (await this.s!.value()) ?? 0;
          // Issued during the record, not awaited: it settles after the record returned, and still counts for this key.
          void this.s!.update(n + 1);
          o.collect(`${k}:${n}`);
        },
      })
      .executeAndCollect('early-calls');
    expect(out).toEqual(['k0:0', 'k1:0', 'k0:1', 'k1:1', 'k0:2', 'k1:2']);
  });
});
