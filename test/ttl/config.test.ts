import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  DEFAULT_INCREMENTAL_CLEANUP,
  EddyError,
  ListStateDescriptor,
  StateTtlConfig,
  StateVisibility,
  UpdateType,
  ValueStateDescriptor,
} from '../../src/index.ts';

function errorOf(f: () => unknown): EddyError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(EddyError);
    return e as EddyError;
  }
  throw new Error('expected an error');
}

describe('StateTtlConfig', () => {
  it("has Flink's defaults: OnCreateAndWrite, NeverReturnExpired, no explicit strategy, background cleanup on", () => {
    const c = StateTtlConfig.newBuilder(60_000).build();
    expect(c.ttlMs).toBe(60_000);
    expect(c.updateType).toBe(UpdateType.OnCreateAndWrite);
    expect(c.stateVisibility).toBe(StateVisibility.NeverReturnExpired);
    expect(c.cleanupStrategies).toEqual({ fullSnapshot: false, incremental: undefined, inBackend: false, inBackground: true });
    expect(DEFAULT_INCREMENTAL_CLEANUP).toEqual({ cleanupSize: 5, runCleanupForEveryRecord: false });
  });

  it('the builder in the issue builds what it says', () => {
    const c = StateTtlConfig.newBuilder(60_000)
      .setUpdateType(UpdateType.OnReadAndWrite)
      .setStateVisibility(StateVisibility.ReturnExpiredIfNotCleanedUp)
      .cleanupFullSnapshot()
      .cleanupIncrementally(10, false)
      .cleanupInBackend()
      .disableCleanupInBackground()
      .build();
    expect(c.updateType).toBe('OnReadAndWrite');
    expect(c.stateVisibility).toBe('ReturnExpiredIfNotCleanedUp');
    expect(c.cleanupStrategies).toEqual({
      fullSnapshot: true,
      incremental: { cleanupSize: 10, runCleanupForEveryRecord: false },
      inBackend: true,
      inBackground: false,
    });
  });

  it('a built config is immutable, and the builder can go on to build another one', () => {
    const b = StateTtlConfig.newBuilder(100);
    const first = b.build();
    const second = b.setTtl(200).updateTtlOnReadAndWrite().returnExpiredIfNotCleanedUp().build();
    expect(first.ttlMs).toBe(100);
    expect(first.updateType).toBe('OnCreateAndWrite');
    expect(second.ttlMs).toBe(200);
    expect(second.stateVisibility).toBe('ReturnExpiredIfNotCleanedUp');
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.cleanupStrategies)).toBe(true);
    expect(() => {
      (first as { ttlMs: number }).ttlMs = 5;
    }).toThrow(TypeError);
  });

  it.each([0, -1, NaN, Infinity, -Infinity, '100', undefined, null])('refuses the TTL %s with INVALID_CONFIG', (ttl) => {
    for (const f of [() => StateTtlConfig.newBuilder(ttl as number), () => StateTtlConfig.newBuilder(1).setTtl(ttl as number)]) {
      const e = errorOf(f);
      expect(e).toBeInstanceOf(ConfigurationError);
      expect(e.code).toBe('INVALID_CONFIG');
      expect(e.message).toContain('[ttl]');
      expect(e.message).toContain('positive, finite number of milliseconds');
    }
  });

  it.each([0, -5, 1.5, NaN, Infinity, '10'])('refuses the incremental cleanup size %s with INVALID_CONFIG', (size) => {
    const e = errorOf(() => StateTtlConfig.newBuilder(1).cleanupIncrementally(size as number, false));
    expect(e.code).toBe('INVALID_CONFIG');
    expect(e.message).toContain('cleanupSize');
  });

  it('refuses a non-boolean runCleanupForEveryRecord, an unknown update type and an unknown visibility', () => {
    expect(errorOf(() => StateTtlConfig.newBuilder(1).cleanupIncrementally(5, 'yes' as unknown as boolean)).message).toContain('runCleanupForEveryRecord');
    expect(errorOf(() => StateTtlConfig.newBuilder(1).setUpdateType('OnRead' as UpdateType)).message).toContain('OnCreateAndWrite, OnReadAndWrite');
    expect(errorOf(() => StateTtlConfig.newBuilder(1).setStateVisibility('Never' as StateVisibility)).message).toContain('NeverReturnExpired');
  });

  it('enableTimeToLive() stores the config on the descriptor, returns the descriptor, and refuses anything but a StateTtlConfig', () => {
    const ttl = StateTtlConfig.newBuilder(1000).build();
    const d = new ValueStateDescriptor<number>('v');
    expect(d.ttlConfig).toBeUndefined();
    expect(d.enableTimeToLive(ttl)).toBe(d);
    expect(d.ttlConfig).toBe(ttl);
    const e = errorOf(() => new ListStateDescriptor<number>('l').enableTimeToLive({ ttlMs: 5 } as unknown as StateTtlConfig));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('[state:l]');
    expect(e.message).toContain('StateTtlConfig');
  });
});
