/**
 * A failure while an attempt's state is initialized (Flink runs initializeState inside the
 * task, so it fails the attempt) goes through the restart strategy like any other task
 * failure — a sink whose storage hiccups while it re-commits on restore must not end the
 * job — while a job that cannot be deployed as configured still fails at once.
 */
import { describe, expect, it } from 'vitest';
import {
  type CheckpointedFunction,
  type FunctionInitializationContext,
  type MapFunction,
  RestartStrategies,
  StreamExecutionEnvironment,
} from '../../src/index.ts';

interface Failures {
  left: number;
  initialized: number;
}

/** Module scope, since every subtask and attempt gets its own copy of the function and its fields. */
let failures: Failures = { left: 0, initialized: 0 };

class FlakyInit implements CheckpointedFunction {
  map(n: number) {
    return n * 10;
  }
  initializeState(_ctx: FunctionInitializationContext) {
    failures.initialized++;
    if (failures.left > 0) {
      failures.left--;
      throw new Error('storage hiccup while restoring');
    }
  }
  snapshotState() {}
}

function job(failing: number, maxAttempts: number) {
  failures = { left: failing, initialized: 0 };
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  env.setRestartStrategy(RestartStrategies.fixedDelayRestart(maxAttempts, 0));
  return env.fromCollection([1, 2, 3]).map(new FlakyInit());
}

describe('failures while state is initialized', () => {
  it('restart the attempt under the restart strategy, and the job then finishes with every record once', async () => {
    const out = await job(2, 3).executeAndCollect('flaky-init');
    expect(out.sort((a, b) => a - b)).toEqual([10, 20, 30]);
    expect(failures.initialized).toBe(3);
  });

  it('fail the job once the restart strategy gives up, with the user function named in the error', async () => {
    const stream = job(100, 2);
    const results = stream.executeAndCollectAsync('always-failing-init');
    const drained = (async () => {
      for await (const _ of results) {
        // nothing arrives
      }
    })();
    await expect(drained).rejects.toThrow(/storage hiccup while restoring/);
    expect(failures.initialized).toBe(3);
  });

  it('a configuration that cannot work is not retried', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setRestartStrategy(RestartStrategies.fixedDelayRestart(5, 0));
    failures = { left: 0, initialized: 0 };
    const stream = env.fromCollection([1, 2, 3]).map({
      map: (n: number) => n,
      initializeState(ctx: FunctionInitializationContext) {
        failures.initialized++;
        // A state name reused with another kind is a program error: retrying cannot fix it.
        ctx.getOperatorStateStore().getListState({ name: 'same' } as never);
        ctx.getOperatorStateStore().getUnionListState({ name: 'same' } as never);
      },
      snapshotState() {},
    } as MapFunction<number, number> & CheckpointedFunction);
    await expect(stream.executeAndCollect('bad-state')).rejects.toThrow();
    expect(failures.initialized).toBe(1);
  });
});
