/**
 * The fingerprint that proves a local database holds exactly a checkpoint's state: a
 * SHA-256 over what a restore of one subtask would load (format version, max
 * parallelism, the states, and the bytes of every key group in the subtask's range).
 * The backend records it when it takes a full snapshot and nothing was written since;
 * a restore whose snapshots have the same fingerprint may reuse the file instead of
 * loading it again. Anything else (a delta, a rescale, another checkpoint, a write after
 * the snapshot) gives another fingerprint or none, and the file is emptied and loaded.
 */
import type { StateKind } from '../../api/descriptors.ts';
import type { KeyGroupRange } from '../../format/key-groups.ts';
import type { KeyedStateSnapshot, TtlMetaInfo } from '../../format/snapshot-format.ts';
import { PLAIN_VALUES } from '../../state/stored-values.ts';
import type { Statements } from './schema.ts';
import type { SqlState } from './tables.ts';

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

/**
 * The states of the local file when it provably holds exactly what `snapshots` restore
 * into `range`: its recorded fingerprint (written at a full snapshot, cleared by the
 * first write after it) equals theirs; else undefined. When it does, its change marks
 * are dropped (they belong to the run that wrote them) and the file stays at the
 * checkpoint until the next write.
 */
export async function savedStatesIfAt(
  stmts: Statements,
  snapshots: readonly KeyedStateSnapshot[],
  range: KeyGroupRange,
): Promise<Array<{ state: SqlState; ttl: TtlMetaInfo | undefined }> | undefined> {
  const recorded = stmts.recordedFingerprint();
  if (recorded === undefined || recorded !== (await fingerprintOf(snapshots, range))) return undefined;
  const states = stmts.savedStates().map((saved) => ({
    state: {
      id: saved.id,
      name: saved.name,
      kind: saved.kind as StateKind,
      options: { values: PLAIN_VALUES },
      needsExpiryBackfill: true,
      buckets: new Map(),
    },
    ttl: saved.ttlMs === null ? undefined : { ttlMs: saved.ttlMs },
  }));
  stmts.clearMarks();
  stmts.commit();
  stmts.atCheckpoint = true;
  return states;
}
