/**
 * Issue 14's catalogue of bad inputs: each row of bad-inputs.cases.ts must fail with an
 * EddyError of its code, a message that names what it is about, and (where the row
 * has stored state) nothing lost. Every row is bounded: a hang is a failure too.
 */
import { describe, expect, it } from 'vitest';
import { EddyError } from '../../src/index.ts';
import { BAD_INPUTS, checkpointFixture } from './bad-inputs.cases.ts';

async function outcome(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('bad inputs get a typed error naming what was wrong, and lose nothing', () => {
  it('the catalogue has at least 80 rows with distinct names', () => {
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(80);
    expect(new Set(BAD_INPUTS.map((r) => r.name)).size).toBe(BAD_INPUTS.length);
  });

  it('the shared checkpoint fixture holds a savepoint and completed checkpoints', { timeout: 20_000 }, async () => {
    const f = await checkpointFixture();
    expect(f.savepoint).toMatch(/^fixture\/savepoint-\d+$/);
    expect(f.checkpoints.length).toBeGreaterThanOrEqual(1);
  });

  it.each(BAD_INPUTS.map((row) => [row.name, row] as const))('%s', { timeout: 15_000 }, async (_, row) => {
    const warn = console.warn;
    console.warn = () => {};
    let e: unknown;
    try {
      e = await outcome(row.run);
    } finally {
      console.warn = warn;
    }
    expect(e, 'it must fail').toBeInstanceOf(EddyError);
    const error = e as EddyError;
    expect(error.code).toBe(row.code);
    expect(error.message.startsWith('[eddy]')).toBe(true);
    if (typeof row.names === 'string') expect(error.message).toContain(row.names);
    else expect(error.message).toMatch(row.names);
    await row.nothingLost?.();
  });
});
