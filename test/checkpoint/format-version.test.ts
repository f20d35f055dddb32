import { describe, expect, it } from 'vitest';
import { HashMapStateBackend } from '../../src/backends/memory.ts';
import { ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor } from '../../src/api/descriptors.ts';
import { SnapshotError } from '../../src/api/errors.ts';
import { keyGroupForKey, keyGroupRangeForSubtask } from '../../src/format/key-groups.ts';
import type { Key } from '../../src/format/key-bytes.ts';
import { CHECKPOINT_FORMAT_VERSION, decodePart, encodePart, frame, FileKind, partHandle, unframe } from '../../src/format/checkpoint-format.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import { InternalTimerService } from '../../src/engine/timers.ts';
import { loadCheckpoint } from '../../src/engine/checkpoint-restore.ts';
import { MemoryCheckpointStorage } from '../../src/storages/memory.ts';
import { keyedOptions } from '../helpers/keyed-options.ts';

/**
 * A checkpoint written by the last build with only format version 1 (commit 330c664,
 * before parts were versioned by content): one operator 'op', one part holding keyed
 * state of the keys 'a', 'b', ['x', 1] (ValueState 'count' = 10/20/30, ListState 'seen'
 * = [s_i, t_i], MapState 'attrs' = { m_i: i }), event-time timers at 1000·i, one
 * processing-time timer of 'b' at 5000, and the source split { offset: 3 }.
 */
const V1_PART =
  'RUREWQEBAAABkQoGBWtleWVkCggNZm9ybWF0VmVyc2lvbgQCDm1heFBhcmFsbGVsaXNtBIACBnN0YXRlcwkDCgQEbmFtZQcFY291' +
  'bnQEa2luZAcFdmFsdWUKBARuYW1lBwRzZWVuBGtpbmQHBGxpc3QKBARuYW1lBwVhdHRycwRraW5kBwNtYXAJa2V5R3JvdXBzDAME' +
  'KBBIAA8FAgIBeAkCP/AAAAAAAAAABDwBDwUCAgF4CQI/8AAAAAAAAAACBwJzMwcCdDMCDwUCAgF4CQI/8AAAAAAAAAABAwFtMwQG' +
  'BIYBECEAAgFiAAQoAQIBYgACBwJzMgcCdDICAgFiAAEDAW0yBAQE5gEQIQACAWEABBQBAgFhAAIHAnMxBwJ0MQICAWEAAQMBbTEE' +
  'AgZ0aW1lcnMMAwQoEBkADwUCAgF4CQI/8AAAAAAAAECncAAAAAAABIYBEBgAAgFiQJ9AAAAAAAABAgFiQLOIAAAAAAAE5gEQDAAC' +
  'AWFAj0AAAAAAAAxzb3VyY2VTcGxpdHMJAQoCBm9mZnNldAQGxvFLGg==';
const V1_MANIFEST =
  'RUREWQECAAAAqgoMBWpvYklkBwdmaXh0dXJlDGNoZWNrcG9pbnRJZAQICXRpbWVzdGFtcAQACXNhdmVwb2ludAIObWF4UGFyYWxs' +
  'ZWxpc20EgAIJb3BlcmF0b3JzCQEKBgpvcGVyYXRvcklkBwJvcAtwYXJhbGxlbGlzbQQCBXBhcnRzCQEJAQoGBHBhdGgHEmZpeHR1' +
  'cmUvY2hrLTQvb3AtMARzaXplBL4GA2NyYwSi3aszp6gt7w==';
const V1_PART_PATH = 'fixture/chk-4/op-0';

const bytesOf = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const range = keyGroupRangeForSubtask(128, 1, 0);

describe('checkpoint format versions', () => {
  it('reads a version-1 checkpoint written before version 2 existed: keyed state, timers and splits', async () => {
    const storage = new MemoryCheckpointStorage();
    await storage.put(V1_PART_PATH, bytesOf(V1_PART));
    await storage.put('fixture/chk-4/_metadata', bytesOf(V1_MANIFEST));
    expect(bytesOf(V1_PART)[4]).toBe(1);
    const loaded = await loadCheckpoint(storage, 'fixture/chk-4');
    const restore = loaded.restoreFor('op', 0, 1)!;
    expect(restore.sourceSplits).toEqual([{ offset: 3 }]);

    const backend = new HashMapStateBackend().createKeyedStateBackend(keyedOptions('v1', { operatorName: 'op (1/1)' }));
    const store = new KeyedStateStore(backend, 'op (1/1)');
    const count = store.getState(new ValueStateDescriptor<number>('count'));
    const seen = store.getListState(new ListStateDescriptor<string>('seen'));
    const attrs = store.getMapState(new MapStateDescriptor<string, number>('attrs'));
    await backend.restore(restore.keyed);
    const keys: Key[] = ['a', 'b', ['x', 1]];
    const got = [];
    for (const k of keys) {
      backend.setCurrentKey(k, keyGroupForKey(k, 128));
      const entries = [];
      for await (const e of await attrs.entries()) entries.push(e);
      got.push([await count.value(), [...((await seen.get()) ?? [])], entries]);
    }
    expect(got).toEqual([
      [10, ['s1', 't1'], [['m1', 1]]],
      [20, ['s2', 't2'], [['m2', 2]]],
      [30, ['s3', 't3'], [['m3', 3]]],
    ]);

    const timers = new InternalTimerService(range);
    for (const t of restore.timers) timers.restore(t);
    expect(keys.map((k) => timers.timersOf(k, keyGroupForKey(k, 128)))).toEqual([
      { eventTime: [1000], processingTime: [] },
      { eventTime: [2000], processingTime: [5000] },
      { eventTime: [3000], processingTime: [] },
    ]);
  });

  it('frames a part with a timer delta as version 2 (a version-1 build refuses it) and every other file as version 1', async () => {
    const delta = encodePart({ timerDelta: { baseCheckpointId: 3, groups: new Map([[5, new Uint8Array([1, 2, 3])]]) } });
    const full = encodePart({ timers: new Map([[5, new Uint8Array([1, 2, 3])]]) });
    expect([delta[4], full[4], frame(FileKind.Manifest, new Uint8Array(1))[4]]).toEqual([2, 1, 1]);
    // And this build reads both back.
    expect(decodePart(delta, partHandle('d', delta)).timerDelta?.baseCheckpointId).toBe(3);
    expect([...decodePart(full, partHandle('f', full)).timers!.keys()]).toEqual([5]);
  });

  it('refuses a version newer than it reads with a typed SNAPSHOT_INCOMPATIBLE naming the versions', () => {
    const newer = frame(FileKind.Part, new Uint8Array([0]), CHECKPOINT_FORMAT_VERSION + 1);
    let error: unknown;
    try {
      unframe(newer, FileKind.Part, 'job/chk-9/op-0');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SnapshotError);
    expect((error as SnapshotError).code).toBe('SNAPSHOT_INCOMPATIBLE');
    expect((error as SnapshotError).message).toMatch(/job\/chk-9\/op-0: format version 3 is not supported \(this build reads versions 1 to 2\)/);
    // Version 0 is no version at all: corruption, not a newer build.
    const zero = frame(FileKind.Part, new Uint8Array([0]), 0);
    expect(() => unframe(zero, FileKind.Part, 'p')).toThrow(/version byte is 0.*corrupt/);
  });
});
