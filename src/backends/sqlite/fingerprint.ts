/**
 * The fingerprint that proves a local database holds exactly a checkpoint's state: a
 * SHA-256 over what a restore of one subtask would load (format version, max
 * parallelism, the states, and the bytes of every key group in the subtask's range).
 * The backend records it when it takes a full snapshot and nothing was written since;
 * a restore whose snapshots have the same fingerprint may reuse the file instead of
 * loading it again. Anything else (a delta, a rescale, another checkpoint, a write after
 * the snapshot) gives another fingerprint or none, and the file is emptied and loaded.
 */
import type { KeyGroupRange } from '../../format/key-groups.ts';
import type { KeyedStateSnapshot } from '../../format/snapshot-format.ts';

const utf8 = new TextEncoder();

/** The fingerprint of what `snapshots` restore into `range`, or undefined when it cannot be computed (no WebCrypto, an unmerged delta). */
export async function fingerprintOf(snapshots: readonly KeyedStateSnapshot[], range: KeyGroupRange): Promise<string | undefined> {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (subtle === undefined || snapshots.some((s) => s.incremental !== undefined)) return undefined;
  const parts: Uint8Array[] = [utf8.encode(`range ${range.start}..${range.end}\n`)];
  for (const s of snapshots) {
    parts.push(utf8.encode(JSON.stringify({ v: s.formatVersion, p: s.maxParallelism, states: s.states }) + '\n'));
    const groups = [...s.keyGroups.keys()].filter((kg) => range.contains(kg)).sort((a, b) => a - b);
    for (const kg of groups) {
      const bytes = s.keyGroups.get(kg)!;
      parts.push(utf8.encode(`${kg}:${bytes.length}\n`), bytes);
    }
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const digest = new Uint8Array(await subtle.digest('SHA-256', all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
