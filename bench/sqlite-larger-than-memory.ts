/**
 * sqlite-larger-than-memory: 10,000,000 keys of ValueState<{ count, last }> on
 * SqliteStateBackend in a child `node --max-old-space-size=256` (the V8 heap could not
 * hold that many keys as JS objects: the hashmap backend needs ~150+ bytes per key, so
 * ≥ 1.5 GB). Must complete; reports the throughput of the first million keys vs the
 * last million (ratio = last ÷ first: how much the growing database slows writes), the
 * JS heap high-water mark and the size of WASM memory (where the in-memory database lives).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { report, round } from './common.ts';

const KEYS = Number(process.env.SQLITE_LTM_KEYS ?? 10_000_000);
const HEAP_MB = 256;
const FLOOR = 0.5;

function runChild(): Promise<{
  keys: number;
  writeSeconds: number;
  perMillionSeconds: number[];
  heapHighWaterBytes: number;
  wasmMemoryBytes: number;
  rows: number;
  checked: number;
}> {
  const child = spawn(
    process.execPath,
    [`--max-old-space-size=${HEAP_MB}`, '--import', 'tsx', fileURLToPath(new URL('./sqlite-larger-than-memory-child.ts', import.meta.url)), String(KEYS)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`sqlite-larger-than-memory child exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1)!));
    });
  });
}

/** One run (it takes minutes); `runs` is ignored. */
export async function sqliteLargerThanMemory(_runs: number): Promise<void> {
  const r = await runChild();
  const first = r.perMillionSeconds[0]!;
  const last = r.perMillionSeconds.at(-1)!;
  const ratio = first / last;
  report({
    bench: 'sqlite-larger-than-memory',
    keys: r.keys,
    state:
      'ValueState<{ count, last }>, value() + update() per key through the backend API (no job), SqliteStateBackend({ vfs: "memory" }), default 8 MiB cache',
    process: `child node --max-old-space-size=${HEAP_MB}`,
    completed: true,
    writeSeconds: round(r.writeSeconds, 1),
    keysPerSecFirstMillion: Math.round(1_000_000 / first),
    keysPerSecLastMillion: Math.round(1_000_000 / last),
    secondsPerMillion: r.perMillionSeconds.map((s) => round(s, 1)),
    heapHighWaterMB: round(r.heapHighWaterBytes / 2 ** 20, 1),
    wasmMemoryMB: round(r.wasmMemoryBytes / 2 ** 20, 1),
    rows: r.rows,
    sampledReadsChecked: r.checked,
    baseline: 'the first million keys of the same run',
    ratio: round(ratio, 4),
    floor: FLOOR,
    floorRule: 'throughput of the last million ÷ the first million >= 0.5',
    pass: ratio >= FLOOR,
  });
}
