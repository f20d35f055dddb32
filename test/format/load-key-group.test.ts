import { describe, expect, it } from 'vitest';
import { SnapshotError } from '../../src/api/errors.ts';
import { canonicalKeyBytes, type Key } from '../../src/format/key-bytes.ts';
import { keyId, type KeyId } from '../../src/format/key-ids.ts';
import { KeyGroupWriter, loadKeyGroup, readKeyGroup, type StateMetaInfo } from '../../src/format/snapshot-format.ts';

const STATES: StateMetaInfo[] = [
  { name: 'count', kind: 'value' },
  { name: 'seen', kind: 'list' },
  { name: 'attrs', kind: 'map' },
];

/** Loads `bytes` into fresh maps, recording every `mapFor` call. */
function load(bytes: Uint8Array, states: readonly StateMetaInfo[] = STATES) {
  const maps = new Map<string, Map<KeyId, unknown>>();
  const calls: string[] = [];
  loadKeyGroup(bytes, states, (stateIndex, namespace) => {
    const name = `${stateIndex}/${namespace}`;
    calls.push(name);
    let m = maps.get(name);
    if (m === undefined) maps.set(name, (m = new Map()));
    return m;
  });
  return { maps, calls };
}

describe('loadKeyGroup', () => {
  it('puts every entry into its (state, namespace) map by key id, as readKeyGroup decodes it', () => {
    const w = new KeyGroupWriter();
    const keys: Key[] = ['a', '\u0001odd', ['x', 1], 7, 3n, true];
    for (const [i, k] of keys.entries()) w.value(0, canonicalKeyBytes(k), '', i * 10 - 5);
    w.value(0, canonicalKeyBytes('a'), 'w1', 1.5);
    w.list(1, canonicalKeyBytes(['x', 1]), '', ['s', { t: 1 }]);
    w.map(2, canonicalKeyBytes('b'), '', [['m', 1] as [Key, unknown], [['n', 2], 'two'] as [Key, unknown]], 2);
    const bytes = w.finish();
    const { maps, calls } = load(bytes);
    // One map lookup per run of entries of the same state and namespace, not per entry.
    expect(calls).toEqual(['0/', '0/w1', '1/', '2/']);
    expect([...maps.get('0/')!]).toEqual(keys.map((k, i) => [keyId(k), i * 10 - 5]));
    expect(maps.get('0/w1')!.get('a')).toBe(1.5);
    expect(maps.get('1/')!.get(keyId(['x', 1]))).toEqual(['s', { t: 1 }]);
    const inner = maps.get('2/')!.get('b') as Map<KeyId, unknown>;
    expect([...inner]).toEqual([
      ['m', 1],
      [keyId(['n', 2]), 'two'],
    ]);
    // The same entries as the generic decoder sees them.
    const generic = [...readKeyGroup(bytes, STATES)];
    expect(generic.filter((e) => e.stateIndex === 0 && e.namespace === '').map((e) => keyId(e.key))).toEqual([...maps.get('0/')!.keys()]);
  });

  it('adds to a map that already holds entries, a later entry of a key replacing the earlier one', () => {
    const w = new KeyGroupWriter();
    w.value(0, canonicalKeyBytes('a'), '', 1);
    w.value(0, canonicalKeyBytes('b'), '', 2);
    w.value(0, canonicalKeyBytes('a'), '', 3);
    const existing = new Map<KeyId, unknown>([['z', 0]]);
    loadKeyGroup(w.finish(), STATES, () => existing);
    expect([...existing]).toEqual([
      ['z', 0],
      ['a', 3],
      ['b', 2],
    ]);
  });

  it('refuses an entry of a state the snapshot does not list, and truncated entries, with SNAPSHOT_CORRUPT', () => {
    const w = new KeyGroupWriter();
    w.value(3, canonicalKeyBytes('a'), '', 1);
    expect(() => load(w.finish())).toThrow(SnapshotError);
    try {
      load(w.finish());
    } catch (e) {
      expect((e as SnapshotError).code).toBe('SNAPSHOT_CORRUPT');
      expect((e as Error).message).toContain('state #3');
    }
    const ok = new KeyGroupWriter();
    ok.value(0, canonicalKeyBytes('abc'), '', 12345);
    const bytes = ok.finish();
    expect(() => load(bytes.subarray(0, bytes.length - 1))).toThrow(SnapshotError);
  });
});
