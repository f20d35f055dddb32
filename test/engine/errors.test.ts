import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  EddyError,
  InvalidKeyError,
  KeyedProcessFunction,
  ListStateDescriptor,
  RichMapFunction,
  StateTtlConfig,
  StreamExecutionEnvironment,
  UserFunctionError,
  ValueStateDescriptor,
  type Collector,
  type KeyedProcessContext,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { HashMapStateBackend } from '../../src/backends/memory.ts';
import type { KeyedStateBackend, KeyedStateBackendOptions } from '../../src/state/backend.ts';

const env = (p = 1) => StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(p);

async function failure(run: Promise<unknown>): Promise<EddyError> {
  const e = await run.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(EddyError);
  return e as EddyError;
}

describe('bad input gets a typed error that names the operator, the state and the problem', () => {
  it.each([
    ['undefined', undefined, 'undefined'],
    ['null', null, 'null'],
    ['NaN', NaN, 'NaN'],
    ['an object', { id: 1 }, 'object'],
    ['a function', () => 1, 'function'],
    ['a symbol', Symbol('k'), 'symbol'],
  ])('a key selector returning %s fails the job', async (_, key, word) => {
    const e = await failure(
      env(2)
        .fromElements(1, 2, 3)
        .keyBy(() => key as never)
        .map((x) => x)
        .name('Doubler')
        .executeAndCollect(),
    );
    expect(e).toBeInstanceOf(InvalidKeyError);
    expect(e.code).toBe('INVALID_KEY');
    expect(e.message).toContain('Doubler');
    expect(e.message).toContain(word);
  });

  it('a state name reused with another kind is STATE_KIND_MISMATCH', async () => {
    const e = await failure(
      env()
        .fromElements(1)
        .keyBy(() => 'k')
        .map(
          new (class extends RichMapFunction<number, number> {
            override open(ctx: RuntimeContext) {
              ctx.getState(new ValueStateDescriptor<number>('shared'));
              ctx.getListState(new ListStateDescriptor<number>('shared'));
            }
            map(x: number) {
              return x;
            }
          })(),
        )
        .name('Reuser')
        .executeAndCollect(),
    );
    expect(e.code).toBe('STATE_KIND_MISMATCH');
    expect(e.message).toContain('[operator:Reuser (1/1)]');
    expect(e.message).toContain('[state:shared]');
  });

  it('reading keyed state in open() is NO_KEY_CONTEXT', async () => {
    const e = await failure(
      env()
        .fromElements(1)
        .keyBy(() => 'k')
        .map(
          new (class extends RichMapFunction<number, number> {
            override async open(ctx: RuntimeContext) {
              await ctx.getState(new ValueStateDescriptor<number>('early')).value();
            }
            map(x: number) {
              return x;
            }
          })(),
        )
        .executeAndCollect(),
    );
    expect(e.code).toBe('NO_KEY_CONTEXT');
    expect(e.message).toContain('[state:early]');
  });

  it('keyed state in a function on a non-keyed stream is NO_KEY_CONTEXT', async () => {
    const e = await failure(
      env()
        .fromElements(1)
        .map(
          new (class extends RichMapFunction<number, number> {
            override open(ctx: RuntimeContext) {
              ctx.getState(new ValueStateDescriptor<number>('nokey'));
            }
            map(x: number) {
              return x;
            }
          })(),
        )
        .name('Plain')
        .executeAndCollect(),
    );
    expect(e.code).toBe('NO_KEY_CONTEXT');
    expect(e.message).toContain('keyBy()');
    expect(e.message).toContain('Plain');
  });

  it('timers on a non-keyed stream are refused', async () => {
    const e = await failure(
      env()
        .fromElements(1)
        .process({
          processElement(_v: number, ctx: import('../../src/index.ts').ProcessContext) {
            ctx.timerService().registerEventTimeTimer(10);
          },
        })
        .executeAndCollect(),
    );
    expect(e.code).toBe('NO_KEY_CONTEXT');
    expect(e.message).toContain('timers');
  });

  it('a value that cannot be serialised is UNSERIALIZABLE_VALUE and names state and key', async () => {
    class Bad extends KeyedProcessFunction<string, number, number> {
      private s!: ValueState<unknown>;
      override open(ctx: RuntimeContext) {
        this.s = ctx.getState(new ValueStateDescriptor<unknown>('holder'));
      }
      async processElement(_v: number, _ctx: KeyedProcessContext<string>, _out: Collector<number>) {
        await this.s.update({ callback: () => 1 });
      }
    }
    const e = await failure(
      env()
        .fromElements(1)
        .keyBy(() => 'acct-7')
        .process(new Bad())
        .executeAndCollect(),
    );
    expect(e.code).toBe('UNSERIALIZABLE_VALUE');
    expect(e.message).toContain('[state:holder]');
    expect(e.message).toContain('acct-7');
    expect(e.message).toContain('function');
  });

  it('invalid parallelism is a ConfigurationError', () => {
    expect(() => env().setParallelism(0)).toThrow(ConfigurationError);
    expect(() => env().setParallelism(1.5)).toThrow(ConfigurationError);
    expect(() => env().setMaxParallelism(4).setParallelism(5)).toThrow(/above the max parallelism 4/);
    expect(() => env(8).setMaxParallelism(4)).toThrow(/below the parallelism 8/);
    expect(() => env().setMaxParallelism(0)).toThrow(ConfigurationError);
    expect(() =>
      env()
        .fromElements(1)
        .map((x) => x)
        .setParallelism(0),
    ).toThrow(ConfigurationError);
  });

  it('an operator parallelism above the max parallelism fails at execute', async () => {
    const e = env().setMaxParallelism(2);
    const stream = e
      .fromElements(1)
      .map((x) => x)
      .setParallelism(3)
      .name('Wide');
    const err = await failure(stream.executeAndCollect());
    expect(err).toBeInstanceOf(ConfigurationError);
    expect(err.message).toContain('Wide');
  });

  it('an error thrown by a user function surfaces with the operator name and the record key', async () => {
    const boom = new Error('boom on purpose');
    const e = await failure(
      env(3)
        .fromGenerator((i) => ({ id: `user-${i}` }), { count: 50 })
        .keyBy((r) => r.id)
        .map((r) => {
          if (r.id === 'user-42') throw boom;
          return r;
        })
        .name('Validator')
        .executeAndCollect(),
    );
    expect(e).toBeInstanceOf(UserFunctionError);
    expect(e.code).toBe('USER_FUNCTION_FAILED');
    expect(e.message).toMatch(/\[operator:Validator \(\d\/3\)\]/);
    expect(e.message).toContain('[key:"user-42"]');
    expect(e.message).toContain('boom on purpose');
    expect(e.cause).toBe(boom);
  });

  it.each([
    [
      'throws',
      (): never => {
        throw new Error('bad record');
      },
    ],
    ['rejects', (): Promise<never> => Promise.reject(new Error('bad record'))],
  ])('a function that %s after a per-record TTL cleanup step still names the operator and key', async (_how, breakDown) => {
    // cleanupIncrementally(…, true) on a backend whose cleanup answers asynchronously makes
    // every record wait for a cleanup step first.
    class AsyncCleanup extends HashMapStateBackend {
      override createKeyedStateBackend(options: KeyedStateBackendOptions): KeyedStateBackend {
        const backend = super.createKeyedStateBackend(options);
        const prune = backend.pruneEntries!.bind(backend);
        backend.pruneEntries = (...args) => Promise.resolve(prune(...args));
        return backend;
      }
    }
    const ttl = StateTtlConfig.newBuilder(60_000).cleanupIncrementally(5, true).build();
    class Checked extends RichMapFunction<string, string> {
      seen!: ValueState<number>;
      override open(ctx: RuntimeContext): void {
        this.seen = ctx.getState(new ValueStateDescriptor<number>('seen').enableTimeToLive(ttl));
      }
      // The first record of a subtask: its cleanup step has not gone idle yet.
      first = true;
      map(k: string): Promise<string> {
        if (this.first) {
          broken.push(k);
          return breakDown();
        }
        return this.seen.update(1).then(() => k);
      }
    }
    const broken: string[] = [];
    const backend = new AsyncCleanup();
    const e = await failure(
      env(2)
        .setStateBackend(backend)
        .fromGenerator((i) => `k${i}`, { count: 20 })
        .keyBy((k) => k)
        .map(new Checked())
        .name('Checked')
        .executeAndCollect(),
    );
    expect(e).toBeInstanceOf(UserFunctionError);
    expect(e.message).toMatch(/\[operator:Checked \(\d\/2\)\]/);
    expect(broken.map((k) => `[key:"${k}"]`)).toContain(e.message.match(/\[key:"k\d+"\]/)?.[0]);
    expect(e.message).toContain('bad record');
  });

  it('an error in an async onTimer names the operator and the timer key', async () => {
    class Late extends KeyedProcessFunction<number, number, number> {
      processElement(_v: number, ctx: KeyedProcessContext<number>) {
        ctx.timerService().registerEventTimeTimer(5);
      }
      override async onTimer() {
        throw new TypeError('timer failed');
      }
    }
    const e = await failure(
      env()
        .fromElements(7)
        .keyBy((v) => v)
        .process(new Late())
        .executeAndCollect(),
    );
    expect(e.message).toContain('onTimer threw: timer failed');
    expect(e.message).toContain('[key:7]');
    expect(e.message).toContain('Late');
  });

  it('descriptors reject empty names and missing functions', async () => {
    const { ReducingStateDescriptor, AggregatingStateDescriptor } = await import('../../src/index.ts');
    expect(() => new ValueStateDescriptor('')).toThrow(EddyError);
    expect(() => new ReducingStateDescriptor('r', undefined as never)).toThrow(/reduce function/);
    expect(() => new AggregatingStateDescriptor('a', {} as never)).toThrow(/createAccumulator/);
  });

  it('passing a descriptor of the wrong kind to getState is refused', async () => {
    const e = await failure(
      env()
        .fromElements(1)
        .keyBy(() => 'k')
        .map(
          new (class extends RichMapFunction<number, number> {
            override open(ctx: RuntimeContext) {
              ctx.getState(new ListStateDescriptor<number>('list') as never);
            }
            map(x: number) {
              return x;
            }
          })(),
        )
        .executeAndCollect(),
    );
    expect(e.message).toContain('getState() takes a descriptor of value state');
  });
});
