/**
 * What the state inspector shows of one key, shaped in the host worker: a `queryState`
 * view can hold a map of any size, and sorting or cutting it on the page would put that
 * work on the main thread. Here each state becomes a few short texts: a value state its
 * value, a list state its first elements, a map state its first entries sorted by key,
 * each with the number left out ("… N more"). The page only builds rows from them.
 */

/**
 * The parts of eddy's `KeyStateView` (and its `KeyStateEntry`) read here, restated so that
 * this module imports nothing (its test runs without the demo's 'eddy' path alias).
 */
export interface QueriedState {
  readonly kind: 'value' | 'list' | 'map' | 'reducing' | 'aggregating';
  readonly value: unknown;
  readonly ttlRemainingMs?: number;
}

/** See {@link QueriedState}. */
export interface QueriedKey {
  readonly key: unknown;
  readonly keyGroup: number;
  readonly subtaskIndex: number;
  readonly worker?: number;
  readonly states: Record<string, QueriedState>;
  readonly timers: { readonly eventTime: readonly number[]; readonly processingTime: readonly number[] };
  readonly namespaces?: Record<string, Record<string, QueriedState>>;
}

/** Elements of a list, entries of a map, or timers shown at most; the rest are counted. */
export const MAX_ROWS = 6;

/** Characters of one value's text at most (an object state's JSON can be long). */
const MAX_TEXT = 80;

/** One state of the key, ready to show. */
export interface ShownState {
  readonly name: string;
  readonly kind: QueriedState['kind'];
  /** With TTL: ms until it expires (list and map: their newest element). */
  readonly ttlRemainingMs?: number;
  /** Value, reducing and aggregating state: the value as text. */
  readonly text?: string;
  /** A value that is a number, as is (the page keeps it in a data attribute). */
  readonly number?: number;
  /** List state: the first elements, in list order. */
  readonly items?: readonly string[];
  /** Map state: the first entries by ascending key. */
  readonly entries?: ReadonlyArray<readonly [string, string]>;
  /** Elements or entries left out. */
  readonly more: number;
  /** Elements or entries in all. */
  readonly size: number;
}

/** Timers of one domain: the first few, ascending, and how many more. */
export interface ShownTimers {
  readonly first: readonly string[];
  readonly more: number;
}

/** A window in flight of a window operator (state under the window's namespace), ready to show. */
export interface ShownWindow {
  /** `[start, end)` in event-time ms, or the namespace as it is when it is not a time window's. */
  readonly label: string;
  readonly states: readonly ShownState[];
}

/** One key of one operator, ready to show. */
export interface ShownKey {
  readonly key: string;
  readonly keyGroup: number;
  readonly subtaskIndex: number;
  readonly worker?: number;
  readonly states: readonly ShownState[];
  /** A window operator's windows in flight, by start; the first MAX_ROWS of them. */
  readonly windows: readonly ShownWindow[];
  readonly windowsMore: number;
  readonly eventTimers: ShownTimers;
  readonly processingTimers: ShownTimers;
}

/** What the inspector shows of a card: its profile, and its windows in the window operator. */
export interface ShownCard {
  readonly profile?: ShownKey;
  readonly windows?: ShownKey;
}

/** Text of a value state that means more than its value (the demo's window accumulator); undefined: the plain value. */
export type Describe = (state: string, value: unknown) => string | undefined;

const fmt = new Intl.NumberFormat('en');

/** A value as short text: numbers grouped, strings as they are, anything else as (cut) JSON. */
export function textOf(value: unknown): string {
  let text: string;
  if (typeof value === 'number') text = fmt.format(value);
  else if (typeof value === 'string') text = value;
  else if (value === undefined) text = '–';
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}

/** Ascending order of map keys: numbers by value, anything else by its text. */
function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = typeof a === 'string' ? a : textOf(a);
  const y = typeof b === 'string' ? b : textOf(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function shape(stored: string, s: QueriedState, describe?: Describe): ShownState {
  // A window operator's own states are named `_window/…` inside eddy: the prefix says nothing here.
  const name = stored.replace(/^_window\//, '');
  const ttl = s.ttlRemainingMs === undefined ? {} : { ttlRemainingMs: s.ttlRemainingMs };
  if (s.kind === 'map') {
    const all = [...(s.value as Array<[unknown, unknown]>)].sort((a, b) => compareKeys(a[0], b[0]));
    const entries = all.slice(0, MAX_ROWS).map(([k, v]) => [textOf(k), textOf(v)] as const);
    return { name, kind: s.kind, ...ttl, entries, more: all.length - entries.length, size: all.length };
  }
  if (s.kind === 'list') {
    const all = s.value as unknown[];
    const items = all.slice(0, MAX_ROWS).map(textOf);
    return { name, kind: s.kind, ...ttl, items, more: all.length - items.length, size: all.length };
  }
  const number = typeof s.value === 'number' ? { number: s.value } : {};
  return { name, kind: s.kind, ...ttl, text: describe?.(stored, s.value) ?? textOf(s.value), ...number, more: 0, size: 1 };
}

function timers(all: readonly number[]): ShownTimers {
  const first = all.slice(0, MAX_ROWS).map(textOf);
  return { first, more: all.length - first.length };
}

/** A time window's namespace (`start,end`) as its bounds. */
function boundsOf(namespace: string): [number, number] | undefined {
  const m = /^(-?\d+),(-?\d+)$/.exec(namespace);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function windows(view: QueriedKey, describe?: Describe): { windows: ShownWindow[]; windowsMore: number } {
  const all = Object.entries(view.namespaces ?? {}).map(([namespace, states]) => ({ namespace, bounds: boundsOf(namespace), states }));
  all.sort((a, b) => (a.bounds && b.bounds ? a.bounds[0] - b.bounds[0] : compareKeys(a.namespace, b.namespace)));
  const shown = all.slice(0, MAX_ROWS).map((w) => ({
    label: w.bounds ? `[${textOf(w.bounds[0])}, ${textOf(w.bounds[1])})` : w.namespace,
    states: Object.entries(w.states).map(([name, s]) => shape(name, s, describe)),
  }));
  return { windows: shown, windowsMore: all.length - shown.length };
}

/**
 * Shapes a `queryState` view for the page: states in the order the operator registered
 * them, then a window operator's windows by start; `describe` may word a value.
 */
export function shapeKeyState(view: QueriedKey, describe?: Describe): ShownKey {
  return {
    key: textOf(view.key),
    keyGroup: view.keyGroup,
    subtaskIndex: view.subtaskIndex,
    ...(view.worker === undefined ? {} : { worker: view.worker }),
    states: Object.entries(view.states).map(([name, s]) => shape(name, s, describe)),
    ...windows(view, describe),
    eventTimers: timers(view.timers.eventTime),
    processingTimers: timers(view.timers.processingTime),
  };
}
