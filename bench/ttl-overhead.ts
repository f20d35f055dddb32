/**
 * ttl-overhead: the keyed-count job (1,000,000 events over 10,000 keys at parallelism 1,
 * counted per key in ValueState<number> by a KeyedProcessFunction) with state TTL enabled
 * vs. disabled, on the in-memory backend and on SQLite-WASM (in-memory database, 200,000
 * events). The TTL side uses Flink's defaults
 * (`StateTtlConfig.newBuilder(1 h).build()`): every value carries its timestamp, and the
 * default background cleanup checks 5 entries on each of the two state accesses per event.
 * Nothing expires during the run, so both sides produce the same verified counts.
 * The first line runs both sides with the synchronous counter (getSyncState), floor 0.8;
 * the others with the Promise-based one, floor 0.7.
 * ratio = TTL events/s ÷ plain events/s.
 */
import { HashMapStateBackend, StateTtlConfig, StreamExecutionEnvironment, ValueStateDescriptor, type RuntimeContext, type StateBackend } from '../src/index.ts';
import { SqliteStateBackend } from '../src/backends/sqlite/index.ts';
import { ENGINE_WARMUPS, generateEvents, report, round, timeInterleaved, verifyCounts, type Ev } from './common.ts';
import { Counter, SyncCounter } from './engine-count.ts';
import { EVENTS, KEYS } from './keyed-count.ts';

const FLOOR = 0.7;
const TTL = StateTtlConfig.newBuilder(3_600_000).build();

/** The keyed-count counter with TTL on its state. */
export class TtlCounter extends Counter {
  override open(ctx: RuntimeContext): void {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count').enableTimeToLive(TTL));
  }
}

/** The synchronous counter with TTL on its state. */
export class SyncTtlCounter extends SyncCounter {
  override open(ctx: RuntimeContext): void {
    this.count = ctx.getSyncState(new ValueStateDescriptor<number>('count').enableTimeToLive(TTL));
  }
}

function runCount(events: readonly Ev[], counter: Counter | SyncCounter, backend: StateBackend): Promise<[string, number][]> {
  return StreamExecutionEnvironment.getExecutionEnvironment()
    .setParallelism(1)
    .setStateBackend(backend)
    .fromCollection(events)
    .keyBy((e) => e.k)
    .process(counter)
    .executeAndCollect();
}

/** The backends compared; SQLite runs fewer events (each write is a SQL row, see sqlite-vs-raw). */
const BACKENDS: ReadonlyArray<{ name: string; events: number; make: () => StateBackend; ttl: string; sync?: boolean; floor?: number }> = [
  {
    name: 'hashmap',
    sync: true,
    floor: 0.8,
    events: EVENTS,
    make: () => new HashMapStateBackend(),
    ttl: 'StateTtlConfig.newBuilder(3_600_000).build(): OnCreateAndWrite, NeverReturnExpired, background incremental cleanup 5 entries per access',
  },
  {
    name: 'hashmap',
    events: EVENTS,
    make: () => new HashMapStateBackend(),
    ttl: 'StateTtlConfig.newBuilder(3_600_000).build(): OnCreateAndWrite, NeverReturnExpired, background incremental cleanup 5 entries per access',
  },
  {
    name: 'sqlite',
    events: 200_000,
    make: () => new SqliteStateBackend({ vfs: 'memory' }),
    ttl: 'StateTtlConfig.newBuilder(3_600_000).build(): OnCreateAndWrite, NeverReturnExpired, background cleanup = native (indexed expiry column, deleted at flush)',
  },
];

/** Runs the bench and prints one JSON line per backend (see bench/run.ts). */
export async function ttlOverhead(runs: number): Promise<void> {
  for (const backend of BACKENDS) {
    const events = generateEvents(backend.events, KEYS);
    const perKey = backend.events / KEYS;
    const [ttl, plain] = await timeInterleaved(
      [
        {
          name: 'ttl',
          run: async () => verifyCounts(await runCount(events, backend.sync ? new SyncTtlCounter() : new TtlCounter(), backend.make()), KEYS, perKey, 'ttl'),
        },
        {
          name: 'plain',
          run: async () => verifyCounts(await runCount(events, backend.sync ? new SyncCounter() : new Counter(), backend.make()), KEYS, perKey, 'plain'),
        },
      ],
      runs,
      ENGINE_WARMUPS,
    );
    const ttlEps = backend.events / (ttl!.medianMs / 1000);
    const plainEps = backend.events / (plain!.medianMs / 1000);
    const ratio = ttlEps / plainEps;
    report({
      bench: 'ttl-overhead',
      backend: backend.name,
      path: backend.sync ? 'synchronous state (getSyncState: value()/update())' : 'Promise-based state (getState: await value()/update())',
      events: backend.events,
      keys: KEYS,
      parallelism: 1,
      ttl: backend.ttl,
      stat: `median of ${runs} interleaved runs after ${ENGINE_WARMUPS} warm-ups each`,
      ttlEventsPerSec: Math.round(ttlEps),
      plainEventsPerSec: Math.round(plainEps),
      ratio: round(ratio, 4),
      bestRatio: round(plain!.bestMs / ttl!.bestMs, 4),
      ttlMs: ttl!.ms,
      plainMs: plain!.ms,
      floor: backend.floor ?? FLOOR,
      pass: ratio >= (backend.floor ?? FLOOR),
    });
  }
}
