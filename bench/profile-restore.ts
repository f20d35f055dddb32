/**
 * Profiling aid (not a bench): 1,000,000 keys snapshotted, encoded as a part, then decoded
 * and restored, timed by phase (wall and process CPU time). Run:
 * `node --expose-gc --import tsx bench/profile-restore.ts [runs]`.
 */
import { decodePart, encodePart, partHandle } from '../src/format/checkpoint-format.ts';
import { makeKeys, newCountBackend, writeKeys } from './checkpoint-common.ts';

const KEYS = 1_000_000;
const { keys, keyGroups } = makeKeys(KEYS);
const { backend, state } = newCountBackend('profile-restore');
await writeKeys(backend, state, keys, keyGroups, (i) => i);
const bytes = encodePart({ keyed: await backend.snapshot({ checkpointId: 1 }) });
const handle = partHandle('p', bytes);
await backend.dispose();
// CPU time as well as wall time: on a shared machine the wall time mostly says how busy it was.
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const runs = Number(process.argv[2] ?? 3);
for (let run = 0; run < runs; run++) {
  (globalThis as { gc?: () => void }).gc?.();
  const c0 = cpuMs();
  const t0 = performance.now();
  const part = decodePart(bytes, handle);
  const c1 = cpuMs();
  const t1 = performance.now();
  const fresh = newCountBackend('profile-restore-2');
  await fresh.backend.restore([part.keyed!]);
  const t2 = performance.now();
  const c2 = cpuMs();
  console.log(
    `decodePart ${(t1 - t0).toFixed(0)} ms (cpu ${(c1 - c0).toFixed(0)}), restore ${(t2 - t1).toFixed(0)} ms (cpu ${(c2 - c1).toFixed(0)}), ${bytes.length} bytes`,
  );
  await fresh.backend.dispose();
}
