/**
 * Snapshots and timer maps as JSON, between the test in Node and the Worker in workerd
 * (base64 per key group; `btoa`/`atob` exist in both).
 */
import type { KeyedStateSnapshot } from '../../src/format/snapshot-format.ts';

/** A keyed snapshot as JSON. */
export interface WireSnapshot {
  readonly formatVersion: number;
  readonly maxParallelism: number;
  readonly states: KeyedStateSnapshot['states'];
  readonly keyGroups: Array<[number, string]>;
}

const toBase64 = (b: Uint8Array): string => btoa(Array.from(b, (x) => String.fromCharCode(x)).join(''));
const fromBase64 = (s: string): Uint8Array => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/** Key group → bytes as `[kg, base64]` pairs, by key group. */
export function groupsToWire(groups: ReadonlyMap<number, Uint8Array>): Array<[number, string]> {
  return [...groups].sort(([a], [b]) => a - b).map(([kg, bytes]) => [kg, toBase64(bytes)]);
}

/** The inverse of {@link groupsToWire}. */
export function groupsFromWire(groups: ReadonlyArray<[number, string]>): Map<number, Uint8Array> {
  return new Map(groups.map(([kg, s]) => [kg, fromBase64(s)]));
}

/** A full snapshot as JSON. */
export function snapshotToWire(s: KeyedStateSnapshot): WireSnapshot {
  return { formatVersion: s.formatVersion, maxParallelism: s.maxParallelism, states: s.states, keyGroups: groupsToWire(s.keyGroups) };
}

/** The inverse of {@link snapshotToWire}. */
export function snapshotFromWire(w: WireSnapshot): KeyedStateSnapshot {
  return { formatVersion: w.formatVersion, maxParallelism: w.maxParallelism, states: w.states, keyGroups: groupsFromWire(w.keyGroups) };
}
