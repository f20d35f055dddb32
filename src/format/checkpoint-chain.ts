/**
 * Incremental checkpoints are chains: a full keyed snapshot followed by deltas (entries
 * written and entries removed since an earlier checkpoint). Restoring folds a chain
 * back into one full snapshot, in the canonical form every backend reads.
 */
import { SnapshotError } from '../api/errors.ts';
import { canonicalKeyBytes } from './key-bytes.ts';
import {
  KEYED_SNAPSHOT_FORMAT_VERSION,
  KeyGroupWriter,
  readKeyGroup,
  readRemovedEntries,
  type KeyedStateSnapshot,
  type SnapshotEntry,
  type StateMetaInfo,
} from './snapshot-format.ts';

function entryId(stateIndex: number, keyBytes: Uint8Array, namespace: string): string {
  let id = `${stateIndex}|${namespace.length}|${namespace}|`;
  for (const b of keyBytes) id += String.fromCharCode(b);
  return id;
}

/** Folds a chain (full snapshot first, then deltas in order) into one full snapshot. */
export function mergeKeyedChain(chain: readonly KeyedStateSnapshot[]): KeyedStateSnapshot {
  if (chain.length === 0) throw new SnapshotError('SNAPSHOT_CORRUPT', 'an empty chain of keyed snapshots', { component: 'checkpoint' });
  if (chain[0].incremental)
    throw new SnapshotError('SNAPSHOT_CORRUPT', 'a chain of keyed snapshots must start with a full snapshot', { component: 'checkpoint' });
  if (chain.length === 1) return chain[0];
  const states: StateMetaInfo[] = [];
  const indexOf = new Map<string, number>();
  const groups = new Map<number, Map<string, SnapshotEntry>>();
  for (const snapshot of chain) {
    // States are matched by name: a delta may know states its base did not.
    const remap = snapshot.states.map((s) => {
      let i = indexOf.get(s.name);
      if (i === undefined) {
        i = states.length;
        indexOf.set(s.name, i);
        states.push(s);
      } else states[i] = s;
      return i;
    });
    for (const [group, bytes] of snapshot.incremental?.removed ?? []) {
      const entries = groups.get(group);
      if (!entries) continue;
      for (const r of readRemovedEntries(bytes)) entries.delete(entryId(remap[r.stateIndex], r.keyBytes, r.namespace));
    }
    for (const [group, bytes] of snapshot.keyGroups) {
      let entries = groups.get(group);
      if (!entries) groups.set(group, (entries = new Map()));
      for (const e of readKeyGroup(bytes, snapshot.states)) {
        const stateIndex = remap[e.stateIndex];
        entries.set(entryId(stateIndex, canonicalKeyBytes(e.key), e.namespace), { ...e, stateIndex });
      }
    }
  }
  const keyGroups = new Map<number, Uint8Array>();
  for (const [group, entries] of groups) {
    if (entries.size === 0) continue;
    const w = new KeyGroupWriter();
    for (const e of entries.values()) {
      const keyBytes = canonicalKeyBytes(e.key);
      if (e.shape === 'value') w.value(e.stateIndex, keyBytes, e.namespace, e.value);
      else if (e.shape === 'list') w.list(e.stateIndex, keyBytes, e.namespace, e.values);
      else w.map(e.stateIndex, keyBytes, e.namespace, e.entries, e.entries.length);
    }
    keyGroups.set(group, w.finish());
  }
  return { formatVersion: KEYED_SNAPSHOT_FORMAT_VERSION, maxParallelism: chain[0].maxParallelism, states, keyGroups };
}
