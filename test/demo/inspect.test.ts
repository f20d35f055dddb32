/**
 * The inspector's shaping of a `queryState` view (demo/src/inspect.ts, run in the host
 * worker so the page never sorts or cuts a large state): map entries sorted by key and
 * cut at MAX_ROWS with the rest counted, lists cut the same way in list order, values as
 * short text, timers cut too.
 */
import { describe, expect, it } from 'vitest';
import { MAX_ROWS, shapeKeyState, textOf, type QueriedKey } from '../../demo/src/inspect.ts';

const view = (states: QueriedKey['states'], eventTime: number[] = []): QueriedKey => ({
  key: 'card-001',
  keyGroup: 7,
  subtaskIndex: 1,
  worker: 0,
  states,
  timers: { eventTime, processingTime: [] },
});

describe('the inspector’s shaping of one key', () => {
  it('a map state: entries sorted by key, at most MAX_ROWS of them, the rest counted', () => {
    const letters = 'kbjdhaficgel'.split('');
    const shown = shapeKeyState(view({ m: { kind: 'map', value: letters.map((k, i) => [k, i * 1000]), ttlRemainingMs: 2500 } }));
    const m = shown.states[0]!;
    expect(m).toMatchObject({ name: 'm', kind: 'map', ttlRemainingMs: 2500, size: 12, more: 12 - MAX_ROWS });
    expect(m.entries!.map(([k]) => k)).toEqual('abcdefghijkl'.slice(0, MAX_ROWS).split(''));
    // Values as grouped numbers: 'a' was the sixth pair.
    expect(m.entries![0]).toEqual(['a', '5,000']);
  });

  it('a small map is shown whole; numeric keys sort by value, not as text', () => {
    const shown = shapeKeyState(
      view({
        m: {
          kind: 'map',
          value: [
            [10, 'x'],
            [9, 'y'],
            [100, 'z'],
          ],
        },
      }),
    );
    expect(shown.states[0]).toMatchObject({
      entries: [
        ['9', 'y'],
        ['10', 'x'],
        ['100', 'z'],
      ],
      more: 0,
      size: 3,
    });
  });

  it('a list state keeps its order and is cut the same way; a value state is its value', () => {
    const list = Array.from({ length: MAX_ROWS + 3 }, (_, i) => MAX_ROWS + 3 - i);
    const shown = shapeKeyState(
      view({ count: { kind: 'value', value: 12345 }, seen: { kind: 'list', value: list }, acc: { kind: 'aggregating', value: [3, 'a'] } }),
    );
    expect(shown.states.map((s) => s.name)).toEqual(['count', 'seen', 'acc']);
    expect(shown.states[0]).toMatchObject({ text: '12,345', number: 12345, more: 0 });
    expect(shown.states[1]).toMatchObject({ items: list.slice(0, MAX_ROWS).map(String), more: 3, size: list.length });
    expect(shown.states[2]).toMatchObject({ text: '[3,"a"]' });
    expect(shown.states[2]!.number).toBeUndefined();
  });

  it("a window operator's windows: by start (as numbers), bounds as a label, the internal prefix dropped, a value worded by describe, cut at MAX_ROWS", () => {
    const starts = Array.from({ length: MAX_ROWS + 1 }, (_, i) => (MAX_ROWS - i) * 1000 + 9000);
    const namespaces = Object.fromEntries(
      starts.map((t) => [`${t},${t + 1000}`, { '_window/contents': { kind: 'aggregating' as const, value: [t / 1000, 0] } }]),
    );
    const describe = (state: string, value: unknown) => (state === '_window/contents' ? `${(value as number[])[0]} so far` : undefined);
    const shown = shapeKeyState({ ...view({}), namespaces }, describe);
    expect(shown.windowsMore).toBe(1);
    expect(shown.windows).toHaveLength(MAX_ROWS);
    // 9,000 sorts before 10,000 (as text it would not).
    expect(shown.windows[0]).toEqual({ label: '[9,000, 10,000)', states: [{ name: 'contents', kind: 'aggregating', text: '9 so far', more: 0, size: 1 }] });
    expect(shown.windows.map((w) => w.label)).toEqual(
      [...starts]
        .sort((a, b) => a - b)
        .slice(0, MAX_ROWS)
        .map((t) => `[${t.toLocaleString('en')}, ${(t + 1000).toLocaleString('en')})`),
    );
    // Not a time window's namespace: shown as it is; no namespaces: no windows.
    expect(shapeKeyState({ ...view({}), namespaces: { global: { x: { kind: 'value', value: 1 } } } }).windows[0]!.label).toBe('global');
    expect(shapeKeyState(view({ count: { kind: 'value', value: 1 } }))).toMatchObject({ windows: [], windowsMore: 0 });
  });

  it('timers are cut at MAX_ROWS; long values are cut to a short text', () => {
    const timers = Array.from({ length: MAX_ROWS + 2 }, (_, i) => 1000 * (i + 1));
    const shown = shapeKeyState(view({}, timers));
    expect(shown.eventTimers).toEqual({ first: timers.slice(0, MAX_ROWS).map((t) => t.toLocaleString('en')), more: 2 });
    expect(shown.processingTimers).toEqual({ first: [], more: 0 });
    const long = textOf({ text: 'x'.repeat(500) });
    expect(long.length).toBeLessThanOrEqual(80);
    expect(long.endsWith('…')).toBe(true);
  });
});
