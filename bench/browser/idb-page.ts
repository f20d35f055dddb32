/**
 * The browser side of the `idb-vs-naive` bench (served by Vite, driven by
 * bench/idb-vs-naive.ts through Playwright). Three ways to count events per key with the
 * counts in IndexedDB:
 * - engine: a keyed-count job on IndexedDbStateBackend (write-behind cache, batched flushes
 *   and reads);
 * - naive: one readwrite transaction per event (get, then put count + 1);
 * - raw: hand-written batches of 1,000 events per transaction (all gets of the chunk's
 *   distinct keys issued at once, then the puts).
 * Every side starts from an empty database of its own and its result is verified.
 */
import {
  IndexedDbStateBackend,
  KeyedProcessFunction,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  type Collector,
  type KeyedProcessContext,
  type OnTimerContext,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { flushedOnDispose } from '../common.ts';

interface Ev {
  k: string;
}

class Counter extends KeyedProcessFunction<string, Ev, [string, number]> {
  count!: ValueState<number>;
  override open(ctx: RuntimeContext): void {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
  }
  async processElement(_v: Ev, ctx: KeyedProcessContext<string>): Promise<void> {
    const c = (await this.count.value()) ?? 0;
    if (c === 0) ctx.timerService().registerEventTimeTimer(Number.MAX_SAFE_INTEGER - 1);
    await this.count.update(c + 1);
  }
  override async onTimer(_ts: number, ctx: OnTimerContext<string>, out: Collector<[string, number]>): Promise<void> {
    out.collect([ctx.getCurrentKey(), (await this.count.value())!]);
  }
}

let dbSeq = 0;
const unique = (side: string) => `eddy-bench-${side}-${Date.now().toString(36)}-${++dbSeq}`;

function events(count: number, keys: number): Ev[] {
  return Array.from({ length: count }, (_, i) => ({ k: `k${i % keys}` }));
}

function openStore(name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(name, 1);
    r.onupgradeneeded = () => r.result.createObjectStore('counts');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

const done = (tx: IDBTransaction) => new Promise<void>((resolve, reject) => ((tx.oncomplete = () => resolve()), (tx.onabort = () => reject(tx.error))));

async function readAll(db: IDBDatabase): Promise<Map<string, number>> {
  const tx = db.transaction('counts', 'readonly');
  const keys = tx.objectStore('counts').getAllKeys();
  const values = tx.objectStore('counts').getAll();
  await done(tx);
  return new Map(keys.result.map((k, i) => [k as string, values.result[i] as number]));
}

function verify(counts: Iterable<[string, number]>, keys: number, perKey: number, side: string): void {
  let n = 0;
  for (const [k, c] of counts) {
    n++;
    if (c !== perKey) throw new Error(`${side}: key ${k} counted ${c}, expected ${perKey}`);
  }
  if (n !== keys) throw new Error(`${side}: ${n} keys, expected ${keys}`);
}

/** Checks that the engine's database holds every final count (read through its own record layout). */
async function verifyEngineDatabase(name: string, keys: number): Promise<void> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const r = indexedDB.open(name);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const tx = db.transaction('entries', 'readonly');
  const count = tx.objectStore('entries').count();
  await done(tx);
  db.close();
  if (count.result !== keys) throw new Error(`engine: ${count.result} records in the database after the job, expected ${keys}`);
}

async function engine(input: Ev[], keys: number, cacheSize: number): Promise<void> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
  const name = unique('engine');
  // The other sides end with every count in the database; so does this one: flushed before it is disposed.
  env.setStateBackend(flushedOnDispose(new IndexedDbStateBackend({ databaseName: name, cacheSize })));
  const out = (await env
    .fromCollection(input)
    .keyBy((e) => e.k)
    .process(new Counter())
    .executeAndCollect()) as [string, number][];
  verify(out, keys, input.length / keys, 'engine');
  await verifyEngineDatabase(name, keys);
  indexedDB.deleteDatabase(name);
}

async function naive(input: Ev[], keys: number): Promise<void> {
  const name = unique('naive');
  const db = await openStore(name);
  for (const e of input) {
    const tx = db.transaction('counts', 'readwrite');
    const store = tx.objectStore('counts');
    const get = store.get(e.k);
    get.onsuccess = () => store.put(((get.result as number | undefined) ?? 0) + 1, e.k);
    await done(tx);
  }
  verify(await readAll(db), keys, input.length / keys, 'naive');
  db.close();
  indexedDB.deleteDatabase(name);
}

async function raw(input: Ev[], keys: number): Promise<void> {
  const name = unique('raw');
  const db = await openStore(name);
  for (let at = 0; at < input.length; at += 1000) {
    const add = new Map<string, number>();
    for (const e of input.slice(at, at + 1000)) add.set(e.k, (add.get(e.k) ?? 0) + 1);
    const tx = db.transaction('counts', 'readwrite', { durability: 'relaxed' });
    const store = tx.objectStore('counts');
    for (const [k, n] of add) {
      const get = store.get(k);
      get.onsuccess = () => store.put(((get.result as number | undefined) ?? 0) + n, k);
    }
    await done(tx);
  }
  verify(await readAll(db), keys, input.length / keys, 'raw');
  db.close();
  indexedDB.deleteDatabase(name);
}

/** What the runner asks for: event counts per side (naive is far slower), keys, runs. */
export interface BenchConfig {
  events: number;
  naiveEvents: number;
  keys: number;
  /** Keys of the naive side: as many events per key as the others (its event count is smaller). */
  naiveKeys: number;
  cacheSize: number;
  runs: number;
}

/** Times the sides interleaved (one warm-up each), in ms per run; `naiveEvents: 0` leaves naive out. */
async function runIdbBench(c: BenchConfig): Promise<Record<'engine' | 'naive' | 'raw', number[]>> {
  const big = events(c.events, c.keys);
  const small = events(c.naiveEvents, c.naiveKeys);
  const sides: Record<string, () => Promise<void>> = {
    engine: () => engine(big, c.keys, c.cacheSize),
    ...(c.naiveEvents > 0 ? { naive: () => naive(small, c.naiveKeys) } : {}),
    raw: () => raw(big, c.keys),
  };
  const ms = { engine: [] as number[], naive: [] as number[], raw: [] as number[] };
  for (const run of Object.values(sides)) await run();
  for (let r = 0; r < c.runs; r++) {
    for (const [name, run] of Object.entries(sides) as Array<[keyof typeof ms, () => Promise<void>]>) {
      const t0 = performance.now();
      await run();
      ms[name].push(performance.now() - t0);
    }
  }
  return ms;
}

(globalThis as { runIdbBench?: typeof runIdbBench }).runIdbBench = runIdbBench;
