/**
 * The catalogue of bad inputs (issue 14): every row is one misuse of the public API, the
 * error code it must get, a piece of text the message must contain (the component,
 * operator or setting it names), and, where state or checkpoints exist, a check that
 * nothing was lost. Run by bad-inputs.test.ts.
 */
import {
  EventTargetSource,
  ExternalizedCheckpointRetention,
  IndexedDbSink,
  ReadableStreamSource,
  WebSocketSource,
  WritableStreamSink,
} from '../../src/index.ts';
import { FileSystemCheckpointStorage } from '../../src/storages/fs.ts';
import {
  AggregatingStateDescriptor,
  defineJob,
  KeyedCoProcessFunction,
  KeyedProcessFunction,
  ListStateDescriptor,
  MapStateDescriptor,
  MemoryCheckpointStorage,
  ProcessFunction,
  ReducingStateDescriptor,
  RestartStrategies,
  RichMapFunction,
  StateTtlConfig,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  WatermarkStrategy,
  WorkerExecutor,
  type Collector,
  type KeyedProcessContext,
  type RestartStrategy,
  type RuntimeContext,
  type Source,
  type StateTtlConfig as TtlConfig,
  type ValueState,
} from '../../src/index.ts';
import { loadCheckpoint } from '../../src/engine/checkpoint-restore.ts';
import { pacedSource } from '../helpers/sources.ts';

/** One row of the catalogue. */
export interface BadInput {
  readonly name: string;
  /** Does the bad thing; must throw or reject. */
  readonly run: () => unknown;
  readonly code: string;
  /** Text the message must contain: the component, operator, state or setting it names. */
  readonly names: string | RegExp;
  /** Checks afterwards that nothing was lost (state, checkpoints, savepoints). */
  readonly nothingLost?: () => Promise<void>;
}

const env = (p = 1) => StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(p);
const any = (v: unknown): never => v as never;

function keyedJob(key: unknown, name = 'KeyUser') {
  return env(2)
    .fromElements(1, 2, 3)
    .keyBy(() => key as never)
    .map((x) => x)
    .name(name)
    .executeAndCollect();
}

function sourceJob(source: Source<unknown>) {
  return env()
    .fromSource(source, undefined, 'BadSource')
    .map((x) => x)
    .executeAndCollect();
}

function timerJob(register: (ctx: KeyedProcessContext<string>) => void) {
  return env()
    .fromElements('a')
    .keyBy((x) => x)
    .process(
      new (class extends KeyedProcessFunction<string, string, string> {
        processElement(x: string, ctx: KeyedProcessContext<string>, o: Collector<string>) {
          register(ctx);
          o.collect(x);
        }
      })(),
    )
    .name('Timers')
    .executeAndCollect();
}

function watermarkJob(wm: number) {
  const strategy = WatermarkStrategy.forGenerator<number>(() => ({ onEvent: () => {}, onPeriodicEmit: (o) => o.emitWatermark(wm) })).withTimestampAssigner(
    (x) => x,
  );
  return env().fromElements(1, 2).assignTimestampsAndWatermarks(strategy).name('Stamps').executeAndCollect();
}

// --- A storage with two completed checkpoints and a savepoint, shared by the savepoint rows.

interface Fixture {
  storage: MemoryCheckpointStorage;
  checkpoints: string[];
  savepoint: string;
  files: Map<string, Uint8Array>;
}
let fixture: Promise<Fixture> | undefined;

/** Runs a counting job with checkpoints, then takes a savepoint; every row that corrupts something works on a copy. */
export function checkpointFixture(): Promise<Fixture> {
  return (fixture ??= (async () => {
    const storage = new MemoryCheckpointStorage();
    const e = env().setRestartStrategy(RestartStrategies.noRestart());
    // Retained through the cancel, so that the rows below can damage them.
    e.enableCheckpointing(5)
      .getCheckpointConfig()
      .setCheckpointStorage(storage)
      .setMaxRetainedCheckpoints(5)
      .setExternalizedCheckpointRetention(ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
    e.fromSource(
      pacedSource(100_000, (i) => i % 7, 5),
      undefined,
      'numbers',
    )
      .uid('numbers')
      .keyBy((x) => x)
      .map(new Counter())
      .uid('counter')
      .addSink({ invoke: () => {} });
    const client = await e.executeAsync('fixture');
    let listed: string[] = [];
    while (listed.length < 2) {
      await new Promise((r) => setTimeout(r, 10));
      listed = [
        ...new Set(
          (await storage.list('fixture/')).filter((p) => p.endsWith('/_metadata') && p.includes('/chk-')).map((p) => p.slice(0, -'/_metadata'.length)),
        ),
      ];
    }
    // A savepoint, then a cancel (which keeps the checkpoints under this retention; a stop
    // with a savepoint would delete them, as in Flink).
    const savepoint = await client.triggerSavepoint();
    await client.cancel();
    const files = new Map<string, Uint8Array>();
    for (const p of await storage.list('fixture/')) files.set(p, (await storage.get(p))!.slice());
    const checkpoints = [
      ...new Set([...files.keys()].filter((p) => p.endsWith('/_metadata') && p.includes('/chk-')).map((p) => p.slice(0, -'/_metadata'.length))),
    ];
    return { storage, checkpoints, savepoint, files };
  })());
}

/** A copy of the fixture's storage, with `change` applied to its files. */
async function copyWith(change: (files: Map<string, Uint8Array>, f: Fixture) => void): Promise<{ storage: MemoryCheckpointStorage; f: Fixture }> {
  const f = await checkpointFixture();
  const files = new Map([...f.files].map(([p, b]) => [p, b.slice()]));
  change(files, f);
  const storage = new MemoryCheckpointStorage();
  for (const [p, b] of files) await storage.put(p, b);
  return { storage, f };
}

/** Nothing lost: the savepoint and every retained checkpoint of the fixture still restore, byte for byte as written. */
async function fixtureIntact(): Promise<void> {
  const f = await checkpointFixture();
  for (const dir of [f.savepoint, ...f.checkpoints]) await loadCheckpoint(f.storage, dir);
  for (const [p, b] of f.files) {
    const now = await f.storage.get(p);
    if (now === undefined || now.length !== b.length || now.some((x, i) => x !== b[i])) throw new Error(`${p} changed`);
  }
}

class Counter extends RichMapFunction<number, number> {
  private count!: ValueState<number>;
  override open(ctx: RuntimeContext) {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
  }
  map(x: number): number {
    const c = (this.count.value() as unknown as number | undefined) ?? 0;
    this.count.update(c + 1);
    return x;
  }
}

/** Runs a job from `path` in `storage` (the restore is what must fail). */
function restoreFrom(storage: MemoryCheckpointStorage | undefined, path: string) {
  const e = env().setRestartStrategy(RestartStrategies.noRestart()).fromSavepoint(path);
  if (storage) e.enableCheckpointing(1000).getCheckpointConfig().setCheckpointStorage(storage);
  e.fromSource(
    pacedSource(10, (i) => i % 7, 5),
    undefined,
    'numbers',
  )
    .uid('numbers')
    .keyBy((x) => x)
    .map(new Counter())
    .uid('counter')
    .addSink({ invoke: () => {} });
  return e.execute('restore');
}

const flip = (files: Map<string, Uint8Array>, path: string, at: (b: Uint8Array) => number, mask: number) => {
  const b = files.get(path)!;
  b[at(b)] ^= mask;
};

const restart = (s: unknown) => () => env().setRestartStrategy(s as RestartStrategy);
const ttl = (f: () => TtlConfig | unknown) => f;
const cfg = () => env().getCheckpointConfig();
const gen = (i: number) => i;
const abandonedStorage = new MemoryCheckpointStorage();

export const BAD_INPUTS: BadInput[] = [
  // Descriptors
  {
    name: 'two operators with the same uid',
    run: () => {
      const e = env();
      e.fromElements(1, 2)
        .uid('same')
        .map((x) => x)
        .uid('same')
        .addSink({ invoke() {} });
      return e.execute('duplicate-uid');
    },
    code: 'INVALID_CONFIG',
    names: 'uid "same" is also given to operator',
  },
  { name: 'a ValueStateDescriptor with an empty name', run: () => new ValueStateDescriptor(''), code: 'INVALID_ARGUMENT', names: '[descriptor]' },
  { name: 'a ValueStateDescriptor with no name', run: () => new ValueStateDescriptor(any(undefined)), code: 'INVALID_ARGUMENT', names: '[descriptor]' },
  { name: 'a ListStateDescriptor with a numeric name', run: () => new ListStateDescriptor(any(42)), code: 'INVALID_ARGUMENT', names: '[descriptor]' },
  { name: 'a MapStateDescriptor with an empty name', run: () => new MapStateDescriptor(''), code: 'INVALID_ARGUMENT', names: '[descriptor]' },
  {
    name: 'a ReducingStateDescriptor without a reduce function',
    run: () => new ReducingStateDescriptor<number>('sum', any(undefined)),
    code: 'INVALID_ARGUMENT',
    names: '[state:sum]',
  },
  {
    name: 'an AggregatingStateDescriptor with an empty object',
    run: () => new AggregatingStateDescriptor('agg', any({})),
    code: 'INVALID_ARGUMENT',
    names: '[state:agg]',
  },
  {
    name: 'enableTimeToLive(null)',
    run: () => new ValueStateDescriptor('v').enableTimeToLive(any(null)),
    code: 'INVALID_ARGUMENT',
    names: 'enableTimeToLive() needs a StateTtlConfig',
  },
  {
    name: 'enableTimeToLive with a plain string',
    run: () => new ValueStateDescriptor('v').enableTimeToLive(any('1h')),
    code: 'INVALID_ARGUMENT',
    names: 'enableTimeToLive() needs a StateTtlConfig',
  },

  // TTL configuration
  { name: 'a TTL of 0 ms', run: ttl(() => StateTtlConfig.newBuilder(0)), code: 'INVALID_CONFIG', names: '[ttl]' },
  { name: 'a negative TTL', run: ttl(() => StateTtlConfig.newBuilder(-5)), code: 'INVALID_CONFIG', names: '[ttl]' },
  { name: 'a TTL of NaN', run: ttl(() => StateTtlConfig.newBuilder(NaN)), code: 'INVALID_CONFIG', names: '[ttl]' },
  { name: 'a TTL of Infinity', run: ttl(() => StateTtlConfig.newBuilder(Infinity)), code: 'INVALID_CONFIG', names: '[ttl]' },
  { name: 'setTtl(-1) on a builder', run: ttl(() => StateTtlConfig.newBuilder(10).setTtl(-1)), code: 'INVALID_CONFIG', names: '[ttl]' },
  { name: 'an unknown update type', run: ttl(() => StateTtlConfig.newBuilder(10).setUpdateType(any('Sometimes'))), code: 'INVALID_CONFIG', names: '[ttl]' },
  {
    name: 'an unknown state visibility',
    run: ttl(() => StateTtlConfig.newBuilder(10).setStateVisibility(any('Maybe'))),
    code: 'INVALID_CONFIG',
    names: '[ttl]',
  },
  {
    name: 'cleanupIncrementally(0, false)',
    run: ttl(() => StateTtlConfig.newBuilder(10).cleanupIncrementally(0, false)),
    code: 'INVALID_CONFIG',
    names: '[ttl]',
  },
  {
    name: "cleanupIncrementally(5, 'yes')",
    run: ttl(() => StateTtlConfig.newBuilder(10).cleanupIncrementally(5, any('yes'))),
    code: 'INVALID_CONFIG',
    names: '[ttl]',
  },

  // Keys
  { name: 'a key selector returning undefined', run: () => keyedJob(undefined), code: 'INVALID_KEY', names: 'KeyUser' },
  { name: 'a key selector returning null', run: () => keyedJob(null), code: 'INVALID_KEY', names: 'KeyUser' },
  { name: 'a key selector returning NaN', run: () => keyedJob(NaN), code: 'INVALID_KEY', names: 'KeyUser' },
  { name: 'a key selector returning an object', run: () => keyedJob({ id: 1 }), code: 'INVALID_KEY', names: 'KeyUser' },
  { name: 'a key selector returning a function', run: () => keyedJob(() => 1), code: 'INVALID_KEY', names: 'KeyUser' },
  { name: 'a key selector returning a symbol', run: () => keyedJob(Symbol('k')), code: 'INVALID_KEY', names: 'KeyUser' },
  { name: 'a key selector returning an array holding an object', run: () => keyedJob(['a', {}]), code: 'INVALID_KEY', names: 'KeyUser' },

  // Environment
  { name: 'setParallelism(0)', run: () => env().setParallelism(0), code: 'INVALID_CONFIG', names: '[environment]' },
  { name: 'setParallelism(1.5)', run: () => env().setParallelism(1.5), code: 'INVALID_CONFIG', names: '[environment]' },
  { name: 'setParallelism(NaN)', run: () => env().setParallelism(NaN), code: 'INVALID_CONFIG', names: '[environment]' },
  { name: 'setParallelism above the max parallelism', run: () => env().setParallelism(200), code: 'INVALID_CONFIG', names: 'setMaxParallelism' },
  { name: 'setMaxParallelism(0)', run: () => env().setMaxParallelism(0), code: 'INVALID_CONFIG', names: '[environment]' },
  { name: 'setMaxParallelism above 32768', run: () => env().setMaxParallelism(40_000), code: 'INVALID_CONFIG', names: '[environment]' },
  { name: 'setMaxParallelism below the parallelism', run: () => env(4).setMaxParallelism(2), code: 'INVALID_CONFIG', names: '[environment]' },
  { name: 'setStateBackend with a plain object', run: () => env().setStateBackend(any({})), code: 'INVALID_CONFIG', names: '[environment]' },
  { name: 'setClock without now()', run: () => env().setClock(any({})), code: 'INVALID_CONFIG', names: '[environment]' },
  { name: 'setExecutor without deploy()', run: () => env().setExecutor(any({})), code: 'INVALID_CONFIG', names: '[environment]' },
  { name: 'setTaskCancellationTimeout(0)', run: () => env().setTaskCancellationTimeout(0), code: 'INVALID_CONFIG', names: 'task cancellation timeout' },
  { name: 'setTaskCancellationTimeout(NaN)', run: () => env().setTaskCancellationTimeout(NaN), code: 'INVALID_CONFIG', names: 'task cancellation timeout' },
  { name: 'fromCollection(null)', run: () => env().fromCollection(any(null)), code: 'INVALID_CONFIG', names: '[environment]' },
  { name: 'fromGenerator with a non-function', run: () => env().fromGenerator(any('x'), { count: 1 }), code: 'INVALID_CONFIG', names: '[environment]' },
  { name: 'fromGenerator with a negative count', run: () => env().fromGenerator(gen, { count: -1 }), code: 'INVALID_CONFIG', names: '[environment]' },
  {
    name: 'fromGenerator with ratePerSecond 0',
    run: () => env().fromGenerator(gen, { count: 1, ratePerSecond: 0 }),
    code: 'INVALID_CONFIG',
    names: '[environment]',
  },
  { name: 'fromSource without createReader', run: () => env().fromSource(any({}), undefined, 's'), code: 'INVALID_CONFIG', names: '[environment]' },
  { name: 'execute() with no operators', run: () => env().execute('empty'), code: 'INVALID_CONFIG', names: '[environment]' },
  { name: "fromSavepoint('')", run: () => env().fromSavepoint(''), code: 'INVALID_CONFIG', names: '[environment]' },
  {
    name: 'fromSavepoint(<absolute file system path>)',
    run: () => env().fromSavepoint('/tmp/checkpoints/my-job/savepoint-3'),
    code: 'INVALID_CONFIG',
    names: /file system path.*"my-job\/savepoint-3"/,
  },
  { name: 'fromSavepoint(<file: URL>)', run: () => env().fromSavepoint('file:///tmp/x/my-job/savepoint-3'), code: 'INVALID_CONFIG', names: 'file system path' },
  { name: 'fromSavepoint with an empty segment', run: () => env().fromSavepoint('my-job//savepoint-3'), code: 'INVALID_CONFIG', names: 'empty segment' },
  { name: 'fromSavepoint with a ".." segment', run: () => env().fromSavepoint('../other/savepoint-1'), code: 'INVALID_CONFIG', names: '".."' },

  // Checkpoint configuration
  { name: 'enableCheckpointing(0)', run: () => env().enableCheckpointing(0), code: 'INVALID_CONFIG', names: '[checkpoint-config] the checkpoint interval' },
  { name: 'enableCheckpointing(-5)', run: () => env().enableCheckpointing(-5), code: 'INVALID_CONFIG', names: '[checkpoint-config] the checkpoint interval' },
  { name: 'enableCheckpointing(NaN)', run: () => env().enableCheckpointing(NaN), code: 'INVALID_CONFIG', names: '[checkpoint-config] the checkpoint interval' },
  {
    name: 'enableCheckpointing(Infinity)',
    run: () => env().enableCheckpointing(Infinity),
    code: 'INVALID_CONFIG',
    names: '[checkpoint-config] the checkpoint interval',
  },
  { name: 'an unknown checkpointing mode', run: () => env().enableCheckpointing(10, any('SOMETIMES')), code: 'INVALID_CONFIG', names: '[checkpoint-config]' },
  { name: 'setCheckpointStorage with a plain object', run: () => cfg().setCheckpointStorage(any({})), code: 'INVALID_CONFIG', names: '[checkpoint-config]' },
  {
    name: 'setMinPauseBetweenCheckpoints(-1)',
    run: () => cfg().setMinPauseBetweenCheckpoints(-1),
    code: 'INVALID_CONFIG',
    names: 'minPauseBetweenCheckpoints',
  },
  { name: 'setCheckpointTimeout(0)', run: () => cfg().setCheckpointTimeout(0), code: 'INVALID_CONFIG', names: 'the checkpoint timeout' },
  { name: 'setCheckpointTimeout(NaN)', run: () => cfg().setCheckpointTimeout(NaN), code: 'INVALID_CONFIG', names: 'the checkpoint timeout' },
  {
    name: 'setTolerableCheckpointFailureNumber(-1)',
    run: () => cfg().setTolerableCheckpointFailureNumber(-1),
    code: 'INVALID_CONFIG',
    names: '[checkpoint-config]',
  },
  {
    name: 'setTolerableCheckpointFailureNumber(1.5)',
    run: () => cfg().setTolerableCheckpointFailureNumber(1.5),
    code: 'INVALID_CONFIG',
    names: '[checkpoint-config]',
  },
  { name: 'setMaxRetainedCheckpoints(0)', run: () => cfg().setMaxRetainedCheckpoints(0), code: 'INVALID_CONFIG', names: '[checkpoint-config]' },

  // Restart strategies
  {
    name: 'setRestartStrategy({ maxAttempts: NaN, delayMs: 0 })',
    run: restart({ maxAttempts: NaN, delayMs: 0 }),
    code: 'INVALID_CONFIG',
    names: '[restart-strategy]',
  },
  { name: 'setRestartStrategy(null)', run: restart(null), code: 'INVALID_CONFIG', names: '[restart-strategy]' },
  { name: 'setRestartStrategy with a negative delay', run: restart({ maxAttempts: 1, delayMs: -1 }), code: 'INVALID_CONFIG', names: '[restart-strategy]' },
  {
    name: 'fixedDelayRestart(2, NaN)',
    run: () => RestartStrategies.fixedDelayRestart(2, NaN),
    code: 'INVALID_CONFIG',
    names: '[restart-strategy] fixed-delay restart delay',
  },
  { name: 'fixedDelayRestart(-1, 0)', run: () => RestartStrategies.fixedDelayRestart(-1, 0), code: 'INVALID_CONFIG', names: '[restart-strategy]' },
  {
    name: 'exponentialDelayRestart with a multiplier below 1',
    run: () => RestartStrategies.exponentialDelayRestart(10, 100, 0.5, 1000, 0),
    code: 'INVALID_CONFIG',
    names: 'backoffMultiplier',
  },
  {
    name: 'exponentialDelayRestart with jitter above 1',
    run: () => RestartStrategies.exponentialDelayRestart(10, 100, 2, 1000, 1.5),
    code: 'INVALID_CONFIG',
    names: 'jitterFactor',
  },
  {
    name: 'exponentialDelayRestart with max backoff below initial',
    run: () => RestartStrategies.exponentialDelayRestart(100, 10, 2, 1000, 0),
    code: 'INVALID_CONFIG',
    names: 'maxBackoffMs',
  },
  { name: 'failureRateRestart(0, …)', run: () => RestartStrategies.failureRateRestart(0, 1000, 0), code: 'INVALID_CONFIG', names: 'failureRate' },

  // DataStream API
  { name: 'map(null)', run: () => env().fromElements(1).map(any(null)), code: 'INVALID_CONFIG', names: '[datastream]' },
  { name: 'filter(42)', run: () => env().fromElements(1).filter(any(42)), code: 'INVALID_CONFIG', names: '[datastream]' },
  { name: 'flatMap({})', run: () => env().fromElements(1).flatMap(any({})), code: 'INVALID_CONFIG', names: '[datastream]' },
  { name: "keyBy('field')", run: () => env().fromElements(1).keyBy(any('field')), code: 'INVALID_CONFIG', names: '[datastream]' },
  { name: 'sinkTo({})', run: () => env().fromElements(1).sinkTo(any({})), code: 'INVALID_CONFIG', names: '[datastream]' },
  {
    name: "an operator's setParallelism(0)",
    run: () =>
      env()
        .fromElements(1)
        .map((x) => x)
        .name('Op')
        .setParallelism(0),
    code: 'INVALID_CONFIG',
    names: '[operator:Op]',
  },

  // Watermarks and time
  { name: 'forBoundedOutOfOrderness(-1)', run: () => WatermarkStrategy.forBoundedOutOfOrderness(-1), code: 'INVALID_CONFIG', names: '[watermarks]' },
  {
    name: 'withTimestampAssigner with a non-function',
    run: () => WatermarkStrategy.forMonotonousTimestamps().withTimestampAssigner(any('ts')),
    code: 'INVALID_CONFIG',
    names: '[watermarks]',
  },
  { name: 'a watermark of NaN', run: () => watermarkJob(NaN), code: 'USER_FUNCTION_FAILED', names: '[watermarks] [operator:Stamps (1/1)]' },
  { name: 'a watermark of Infinity', run: () => watermarkJob(Infinity), code: 'USER_FUNCTION_FAILED', names: '[watermarks] [operator:Stamps (1/1)]' },
  { name: 'a watermark above MAX_WATERMARK', run: () => watermarkJob(Number.MAX_SAFE_INTEGER * 2), code: 'USER_FUNCTION_FAILED', names: '[watermarks]' },
  {
    name: 'an event-time timer at Infinity',
    run: () => timerJob((c) => c.timerService().registerEventTimeTimer(Infinity)),
    code: 'INVALID_ARGUMENT',
    names: '[timers] [operator:Timers (1/1)] [key:"a"]',
  },
  {
    name: 'an event-time timer above MAX_SAFE_INTEGER',
    run: () => timerJob((c) => c.timerService().registerEventTimeTimer(2 ** 60)),
    code: 'INVALID_ARGUMENT',
    names: '[timers]',
  },
  { name: 'an event-time timer at NaN', run: () => timerJob((c) => c.timerService().registerEventTimeTimer(NaN)), code: 'INVALID_ARGUMENT', names: '[timers]' },
  {
    name: 'a processing-time timer at Infinity',
    run: () => timerJob((c) => c.timerService().registerProcessingTimeTimer(Infinity)),
    code: 'INVALID_ARGUMENT',
    names: 'processing-time timer',
  },
  {
    name: 'a timer on a non-keyed stream',
    run: () =>
      env()
        .fromElements(1)
        .process(
          new (class extends ProcessFunction<number, number> {
            processElement(x: number, ctx: never) {
              (ctx as { timerService(): { registerEventTimeTimer(t: number): void } }).timerService().registerEventTimeTimer(5);
            }
          })(),
        )
        .executeAndCollect(),
    code: 'NO_KEY_CONTEXT',
    names: 'keyBy()',
  },

  // Sources and sinks
  {
    name: 'a source whose poll returns a string',
    run: () => sourceJob({ boundedness: 'bounded', createReader: () => ({ poll: () => any('abc') }) }),
    code: 'INVALID_ARGUMENT',
    names: '[source] [operator:BadSource (1/1)] poll() returned a string',
  },
  {
    name: 'a source whose poll resolves to an object',
    run: () => sourceJob({ boundedness: 'bounded', createReader: () => ({ poll: async () => any({ records: [] }) }) }),
    code: 'INVALID_ARGUMENT',
    names: 'poll() returned an object',
  },
  {
    name: 'a source whose createReader returns undefined',
    run: () => sourceJob({ boundedness: 'bounded', createReader: () => any(undefined) }),
    code: 'INVALID_ARGUMENT',
    names: 'createReader() returned undefined',
  },
  {
    name: 'a source whose poll throws',
    run: () =>
      sourceJob({
        boundedness: 'bounded',
        createReader: () => ({
          poll: () => {
            throw new Error('socket closed');
          },
        }),
      }),
    code: 'USER_FUNCTION_FAILED',
    names: /BadSource.*poll threw: socket closed/,
  },
  {
    name: 'a sink whose invoke throws',
    run: () => {
      const e = env();
      e.fromElements(1).addSink({
        invoke: () => {
          throw new Error('quota');
        },
      });
      return e.execute('sink');
    },
    code: 'USER_FUNCTION_FAILED',
    names: 'quota',
  },

  // State and functions
  {
    name: 'a state name reused with another kind',
    run: () =>
      env()
        .fromElements(1)
        .keyBy(() => 'k')
        .map(
          new (class extends RichMapFunction<number, number> {
            override open(ctx: RuntimeContext) {
              ctx.getState(new ValueStateDescriptor('s'));
              ctx.getListState(new ListStateDescriptor('s'));
            }
            map(x: number) {
              return x;
            }
          })(),
        )
        .executeAndCollect(),
    code: 'STATE_KIND_MISMATCH',
    names: '[state:s]',
  },
  {
    name: 'getRuntimeContext() before the job runs',
    run: () =>
      new (class Enricher extends RichMapFunction<number, number> {
        map(x: number) {
          return x;
        }
      })().getRuntimeContext(),
    code: 'INVALID_ARGUMENT',
    names: /getRuntimeContext\(\) of Enricher .* call it from open\(\) on/,
  },

  // Worker executor and job definitions
  {
    name: 'new WorkerExecutor({ workers: 0 })',
    run: () => new WorkerExecutor(any({ workers: 0, platform: { spawn() {} } })),
    code: 'INVALID_CONFIG',
    names: '[executor:workers]',
  },
  { name: 'new WorkerExecutor without a platform', run: () => new WorkerExecutor(any({ workers: 1 })), code: 'INVALID_CONFIG', names: '[executor:workers]' },
  {
    name: 'new WorkerExecutor with sourceBatchSize 0',
    run: () => new WorkerExecutor(any({ workers: 1, platform: { spawn() {} }, sourceBatchSize: 0 })),
    code: 'INVALID_CONFIG',
    names: "[executor:workers] WorkerExecutor's sourceBatchSize must be a positive integer, got 0",
  },
  {
    name: 'new WorkerExecutor with inputYieldIntervalMs -1',
    run: () => new WorkerExecutor(any({ workers: 1, platform: { spawn() {} }, inputYieldIntervalMs: -1 })),
    code: 'INVALID_CONFIG',
    names: "[executor:workers] WorkerExecutor's inputYieldIntervalMs must be a number of ms >= 0 (Infinity: never), got -1",
  },
  {
    name: 'a WorkerExecutor job not built by defineJob()',
    run: () => {
      const e = env().setExecutor(new WorkerExecutor(any({ workers: 1, platform: { spawn() {}, createChannel() {} } })));
      e.fromElements(1).addSink({ invoke() {} });
      return e.execute('plain');
    },
    code: 'INVALID_CONFIG',
    names: 'defineJob()',
  },
  { name: "defineJob('')", run: () => defineJob('', 'job', () => {}), code: 'INVALID_CONFIG', names: '[job]' },
  { name: 'defineJob without an export name', run: () => defineJob(import.meta.url, '', () => {}), code: 'INVALID_CONFIG', names: '[job]' },
  { name: 'defineJob without a function', run: () => defineJob(import.meta.url, 'job', any(5)), code: 'INVALID_CONFIG', names: '[job]' },

  // Storages
  { name: "new FileSystemCheckpointStorage('')", run: () => new FileSystemCheckpointStorage(''), code: 'INVALID_ARGUMENT', names: 'checkpoint directory' },
  {
    name: 'a second lock of the same job in a memory storage',
    run: async () => {
      const s = new MemoryCheckpointStorage();
      await s.lock('j');
      await s.lock('j');
    },
    code: 'STORAGE_LOCKED',
    names: 'already locked',
  },

  // Savepoints and checkpoints (each checks that the stored ones are untouched)
  {
    name: 'a savepoint with checkpointing disabled',
    run: async () => {
      const e = env();
      e.fromSource(pacedSource(1e6, gen, 1), undefined, 'n').addSink({ invoke() {} });
      const c = await e.executeAsync('no-cp');
      try {
        await c.triggerSavepoint();
      } finally {
        await c.cancel();
      }
    },
    code: 'CHECKPOINT_FAILED',
    names: 'enableCheckpointing',
  },
  {
    name: 'fromSavepoint with no storage configured',
    run: async () => restoreFrom(undefined, (await checkpointFixture()).savepoint),
    code: 'SNAPSHOT_CORRUPT',
    names: /\[storage:memory\] no checkpoint at fixture\/savepoint-\d+ in the memory checkpoint storage.*setCheckpointStorage/,
    nothingLost: fixtureIntact,
  },
  {
    name: 'fromSavepoint of a path that does not exist',
    run: async () => restoreFrom((await copyWith(() => {})).storage, 'fixture/savepoint-999'),
    code: 'SNAPSHOT_CORRUPT',
    names: 'no checkpoint at fixture/savepoint-999',
    nothingLost: fixtureIntact,
  },
  {
    name: "a savepoint whose manifest's version byte was flipped",
    run: async () => {
      const { storage, f } = await copyWith((files, fx) => flip(files, `${fx.savepoint}/_metadata`, () => 4, 0x40));
      return restoreFrom(storage, f.savepoint);
    },
    code: 'SNAPSHOT_CORRUPT',
    names: /format version byte is 65.*the file is corrupt/,
    nothingLost: fixtureIntact,
  },
  {
    name: 'a savepoint part with a flipped payload bit',
    run: async () => {
      const { storage, f } = await copyWith((files, fx) => {
        const part = [...files.keys()].find((p) => p.startsWith(`${fx.savepoint}/`) && !p.endsWith('_metadata'))!;
        flip(files, part, (b) => b.length - 8, 0x01);
      });
      return restoreFrom(storage, f.savepoint);
    },
    code: 'SNAPSHOT_CORRUPT',
    names: '[checkpoint]',
    nothingLost: fixtureIntact,
  },
  {
    name: 'a truncated checkpoint manifest',
    run: async () => {
      const { storage, f } = await copyWith((files, fx) =>
        files.set(`${fx.checkpoints[0]}/_metadata`, files.get(`${fx.checkpoints[0]}/_metadata`)!.subarray(0, 9)),
      );
      return restoreFrom(storage, f.checkpoints[0]);
    },
    code: 'SNAPSHOT_CORRUPT',
    names: 'truncated',
    nothingLost: fixtureIntact,
  },
  {
    name: 'a checkpoint whose part is missing',
    run: async () => {
      const { storage, f } = await copyWith((files, fx) => {
        const part = [...files.keys()].find((p) => p.startsWith(`${fx.checkpoints[0]}/`) && !p.endsWith('_metadata'))!;
        files.delete(part);
      });
      return restoreFrom(storage, f.checkpoints[0]);
    },
    code: 'SNAPSHOT_CORRUPT',
    names: 'is listed in',
    nothingLost: fixtureIntact,
  },
  {
    name: 'a restore with another max parallelism',
    run: async () => {
      const { storage, f } = await copyWith(() => {});
      const e = env().setMaxParallelism(64).setRestartStrategy(RestartStrategies.noRestart()).fromSavepoint(f.savepoint, { allowNonRestoredState: true });
      e.enableCheckpointing(1000).getCheckpointConfig().setCheckpointStorage(storage);
      e.fromElements(1).addSink({ invoke() {} });
      return e.execute('mp');
    },
    code: 'SNAPSHOT_INCOMPATIBLE',
    names: 'max parallelism 128',
    nothingLost: fixtureIntact,
  },
  {
    name: 'a savepoint abandoned because the job failed names the failure',
    run: async () => {
      let entered!: () => void;
      const inMap = new Promise<void>((r) => (entered = r));
      let fail!: (e: Error) => void;
      const failing = new Promise<never>((_, reject) => (fail = reject));
      failing.catch(() => {});
      const e = env().setRestartStrategy(RestartStrategies.noRestart());
      e.enableCheckpointing(3_600_000).getCheckpointConfig().setCheckpointStorage(abandonedStorage);
      e.fromSource(pacedSource(1e6, gen, 1), undefined, 'n')
        .keyBy((x) => x % 2)
        .map(async (x) => (entered(), await failing, x))
        .name('Fails')
        .addSink({ invoke() {} });
      const client = await e.executeAsync('abandoned');
      await inMap;
      const savepoint = client.triggerSavepoint();
      await new Promise((r) => setTimeout(r, 50));
      fail(new Error('boom in Fails'));
      await client.result.catch(() => {});
      return savepoint;
    },
    code: 'CHECKPOINT_FAILED',
    names: /savepoint \d+ was abandoned: the job attempt failed: .*boom in Fails/,
    // No half-written savepoint is left that a restore could take for a complete one.
    nothingLost: async () => {
      const manifests = (await abandonedStorage.list('abandoned/')).filter((p) => p.endsWith('/_metadata'));
      if (manifests.length > 0) throw new Error(`left behind: ${manifests.join(', ')}`);
    },
  },
  // Hangs (items 5 and 6): the job settles, with the error of what stopped it.
  {
    name: 'cancel() of a fully chained job whose source is idle',
    run: async () => {
      const e = env();
      e.fromSource({ boundedness: 'unbounded', createReader: () => ({ poll: () => [] }) }, undefined, 'Idle')
        .map((x) => x)
        .addSink({ invoke() {} });
      const client = await e.executeAsync('idle-cancel');
      await new Promise((r) => setTimeout(r, 20));
      await client.cancel();
      return client.result;
    },
    code: 'JOB_CANCELLED',
    names: '[job] job idle-cancel was cancelled',
  },
  {
    name: 'a map that never returns, under a checkpoint timeout',
    run: async () => {
      const e = env().setRestartStrategy(RestartStrategies.noRestart()).setTaskCancellationTimeout(100);
      e.enableCheckpointing(10).getCheckpointConfig().setCheckpointTimeout(100);
      e.fromSource(pacedSource(1e6, gen, 1), undefined, 'Numbers')
        .map((x) => (x === 3 ? new Promise<number>(() => {}) : x))
        .addSink({ invoke() {} });
      return e.execute('stuck');
    },
    code: 'CHECKPOINT_FAILED',
    names: /expired after 100 ms; not acknowledged by Numbers \(1\/1\)/,
  },
  {
    name: 'cancel() of a job stuck in a user function',
    run: async () => {
      const e = env().setTaskCancellationTimeout(100);
      e.fromElements(1, 2)
        .map(() => new Promise<number>(() => {}))
        .addSink({ invoke() {} });
      const client = await e.executeAsync('stuck-cancel');
      await new Promise((r) => setTimeout(r, 20));
      await client.cancel();
      return client.result;
    },
    code: 'JOB_CANCELLED',
    names: 'stuck-cancel was cancelled',
  },
  // Item 8: durations that cannot be waited for.
  {
    name: 'setTaskCancellationTimeout(Infinity)',
    run: () => env().setTaskCancellationTimeout(Infinity),
    code: 'INVALID_CONFIG',
    names: 'task cancellation timeout',
  },
  {
    name: 'setMinPauseBetweenCheckpoints(Infinity)',
    run: () => cfg().setMinPauseBetweenCheckpoints(Infinity),
    code: 'INVALID_CONFIG',
    names: 'minPauseBetweenCheckpoints',
  },
  // Item 10: a failing lock release does not hide the real error.
  {
    name: 'a read-only checkpoint directory whose lock release fails too',
    run: () => {
      const storage = new (class extends MemoryCheckpointStorage {
        override async put(path: string): Promise<void> {
          throw new Error(`EACCES: permission denied, open '${path}'`);
        }
        override async lock(scope: string) {
          await super.lock(scope);
          return { release: async () => Promise.reject(new Error('EACCES: release lock')) };
        }
      })();
      const e = env().setRestartStrategy(RestartStrategies.noRestart());
      e.enableCheckpointing(5).getCheckpointConfig().setCheckpointStorage(storage);
      e.fromSource(pacedSource(1e6, gen, 1), undefined, 'n').addSink({ invoke() {} });
      return e.execute('read-only');
    },
    code: 'CHECKPOINT_FAILED',
    names: /failed: EACCES: permission denied, open/,
  },
  // Issue 17: live sources and sinks.
  {
    name: 'EventTargetSource with bufferSize 0',
    run: () => new EventTargetSource(new EventTarget(), 'click', { bufferSize: 0 }),
    code: 'INVALID_CONFIG',
    names: '[source:event-target] bufferSize must be a positive integer',
  },
  {
    name: "WebSocketSource with onOverflow 'block' (a socket cannot be paused)",
    run: () => new WebSocketSource(any({ addEventListener() {}, removeEventListener() {}, close() {}, readyState: 1 }), { onOverflow: any('block') }),
    code: 'INVALID_CONFIG',
    names: "[source:websocket] onOverflow must be one of 'fail', 'drop-oldest', 'drop-newest'",
  },
  {
    name: 'ReadableStreamSource of something that is no stream',
    run: () => new ReadableStreamSource(any({ read() {} })),
    code: 'INVALID_CONFIG',
    names: '[source:readable-stream] needs a ReadableStream',
  },
  {
    name: 'a burst of events into a full buffer with the default policy',
    run: async () => {
      const target = new EventTarget();
      const job = env()
        .fromSource(new EventTargetSource(target, 'n', { bufferSize: 2 }), undefined, 'Burst')
        .executeAndCollect();
      let settled = false;
      job.then(
        () => (settled = true),
        () => (settled = true),
      );
      // Bursts of 5 until the source listens and the first one overflows its buffer of 2.
      while (!settled) {
        for (let i = 0; i < 5; i++) target.dispatchEvent(new Event('n'));
        await new Promise((r) => setTimeout(r, 20));
      }
      return job;
    },
    code: 'SOURCE_BUFFER_FULL',
    names: '[source:event-target] the buffer of 2 events is full',
  },
  {
    name: 'a given WritableStream under a parallel sink',
    run: () => {
      const e = env(2);
      e.fromElements(1, 2).sinkTo(new WritableStreamSink(new WritableStream()));
      return e.execute('parallel-stream');
    },
    code: 'INVALID_CONFIG',
    names: '[sink:writable-stream] a given WritableStream takes one writer',
  },
  {
    name: 'IndexedDbSink without a database name',
    run: () => new IndexedDbSink(any({})),
    code: 'INVALID_CONFIG',
    names: '[sink:indexeddb] IndexedDbSink needs { database',
  },
  // Issue 16: two-input operators.
  {
    name: 'connect() with something that is not a stream',
    run: () => env().fromElements(1).connect(any({})),
    code: 'INVALID_CONFIG',
    names: 'connect() needs a DataStream or a BroadcastStream',
  },
  {
    name: 'a CoMap object without map2',
    run: () => {
      const e = env();
      return e
        .fromElements(1)
        .connect(e.fromElements(2))
        .map(any({ map1: (x: number) => x }));
    },
    code: 'INVALID_CONFIG',
    names: 'map2',
  },
  {
    name: 'a KeyedCoProcessFunction on connected streams that are not keyed',
    run: () => {
      const e = env();
      return e
        .fromElements(1)
        .connect(e.fromElements(2))
        .process(
          new (class extends KeyedCoProcessFunction<number, number, number, number> {
            processElement1() {}
            processElement2() {}
          })(),
        );
    },
    code: 'INVALID_CONFIG',
    names: 'both inputs are keyed',
  },
  {
    name: 'broadcast() with a ValueStateDescriptor',
    run: () =>
      env()
        .fromElements(1)
        .broadcast(any(new ValueStateDescriptor('v'))),
    code: 'INVALID_CONFIG',
    names: 'MapStateDescriptors',
  },
  {
    name: 'a write to broadcast state in processElement',
    run: () => {
      const e = env(2);
      const rules = new MapStateDescriptor<string, number>('rules');
      return e
        .fromElements(1, 2, 3)
        .connect(e.fromElements('r').broadcast(rules))
        .process({
          processElement: (_x: number, ctx) => (ctx.getBroadcastState(rules) as unknown as { put(k: string, v: number): Promise<void> }).put('r', 1),
          processBroadcastElement() {},
        })
        .name('RuleUser')
        .executeAndCollect();
    },
    code: 'STATE_READ_ONLY',
    names: /operator:RuleUser.*broadcast state "rules" is read-only/,
  },
  {
    name: 'intervalJoin().between() with lower > upper',
    run: () => {
      const e = env();
      return e
        .fromElements(1)
        .keyBy((x) => x)
        .intervalJoin(e.fromElements(2).keyBy((x) => x))
        .between(5, -5);
    },
    code: 'INVALID_CONFIG',
    names: 'lowerBound <= upperBound',
  },
];
