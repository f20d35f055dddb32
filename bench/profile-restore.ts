/** Profiling aid (not a bench): 1,000,000 keys snapshotted, encoded as a part, then decoded and restored, timed by phase. */
import { decodePart, encodePart, partHandle } from '../src/format/checkpoint-format.ts';
import { makeKeys, newCountBackend, writeKeys } from './checkpoint-common.ts';

const KEYS = 1_000_000;
const { keys, keyGroups } = makeKeys(KEYS);
const { backend, state } = newCountBackend('profile-restore');
await writeKeys(backend, state, keys, keyGroups, (i) => i);
const bytes = encodePart({ keyed: await backend.snapshot({ checkpointId: 1 }) });
const handle = partHandle('p', bytes);
await backend.dispose();
for (let run = 0; run < 3; run++) {
  const t0 = performance.now();
  const part = decodePart(bytes, handle);
  const t1 = performance.now();
  const fresh = newCountBackend('profile-restore-2');
  await fresh.backend.restore([part.keyed!]);
  const t2 = performance.now();
  console.log(`decodePart ${(t1 - t0).toFixed(0)} ms, restore ${(t2 - t1).toFixed(0)} ms, ${bytes.length} bytes`);
  await fresh.backend.dispose();
}
