/**
 * Windows (Flink's `Window`, `TimeWindow`, `GlobalWindow`). A window is a value object:
 * two windows with the same bounds are the same window. Each window has a stable string
 * form, its namespace, under which the window operator keeps its state and timers.
 */
import { ConfigurationError } from '../errors.ts';
import { MAX_WATERMARK } from '../watermarks.ts';

/** A finite or infinite group of records that is evaluated together. */
export abstract class Window {
  /** The largest timestamp that still belongs to this window. */
  abstract maxTimestamp(): number;
  /** The namespace this window's state and timers are kept under. */
  abstract namespace(): string;
}

/** A window over the time interval `[start, end)` (Flink's `TimeWindow`). */
export class TimeWindow extends Window {
  constructor(
    readonly start: number,
    readonly end: number,
  ) {
    super();
  }

  /** The start of the window (Flink's `getStart`). */
  getStart(): number {
    return this.start;
  }

  /** The end of the window, exclusive (Flink's `getEnd`). */
  getEnd(): number {
    return this.end;
  }

  /** `end - 1`: the largest timestamp in the window. */
  maxTimestamp(): number {
    return this.end - 1;
  }

  /** Built once: the window operator asks for it several times per record (state, timers, the merging set). */
  #namespace: string | undefined;

  namespace(): string {
    return (this.#namespace ??= `${this.start},${this.end}`);
  }

  /** Whether the windows overlap or touch (Flink's `intersects`). */
  intersects(other: TimeWindow): boolean {
    return this.start <= other.end && this.end >= other.start;
  }

  /** The smallest window that contains both. */
  cover(other: TimeWindow): TimeWindow {
    return new TimeWindow(Math.min(this.start, other.start), Math.max(this.end, other.end));
  }

  equals(other: unknown): boolean {
    return other instanceof TimeWindow && other.start === this.start && other.end === this.end;
  }

  override toString(): string {
    return `TimeWindow{start=${this.start}, end=${this.end}}`;
  }

  /**
   * The start of the window of size `windowSize`, shifted by `offset`, that contains
   * `timestamp` (Flink's `getWindowStartWithOffset`; also correct for negative timestamps).
   */
  static getWindowStartWithOffset(timestamp: number, offset: number, windowSize: number): number {
    const remainder = (timestamp - offset) % windowSize;
    return remainder < 0 ? timestamp - (remainder + windowSize) : timestamp - remainder;
  }

  /**
   * Merges overlapping windows (Flink's `TimeWindow.mergeWindows`): sorted by start, each
   * run of intersecting windows becomes their cover; `callback` is told of every run of
   * more than one window.
   */
  static mergeWindows(windows: readonly TimeWindow[], callback: (toBeMerged: TimeWindow[], mergeResult: TimeWindow) => void): void {
    // Equal windows are one window (Flink collects them in sets).
    const unique = new Map(windows.map((w) => [w.namespace(), w]));
    const sorted = [...unique.values()].sort((a, b) => a.start - b.start);
    const merged: Array<{ cover: TimeWindow; members: TimeWindow[] }> = [];
    let current: { cover: TimeWindow; members: TimeWindow[] } | undefined;
    for (const w of sorted) {
      if (current === undefined) current = { cover: w, members: [w] };
      else if (current.cover.intersects(w)) {
        current.cover = current.cover.cover(w);
        current.members.push(w);
      } else {
        merged.push(current);
        current = { cover: w, members: [w] };
      }
    }
    if (current !== undefined) merged.push(current);
    for (const m of merged) if (m.members.length > 1) callback(m.members, m.cover);
  }
}

/** The one window of `GlobalWindows`: it never ends (Flink's `GlobalWindow`). */
export class GlobalWindow extends Window {
  private static readonly INSTANCE = new GlobalWindow();
  private constructor() {
    super();
  }
  /** The global window. */
  static get(): GlobalWindow {
    return GlobalWindow.INSTANCE;
  }
  /** The end of time ({@link MAX_WATERMARK}, Flink's `Long.MAX_VALUE`). */
  maxTimestamp(): number {
    return MAX_WATERMARK;
  }
  namespace(): string {
    return 'global';
  }
  equals(other: unknown): boolean {
    return other instanceof GlobalWindow;
  }
  override toString(): string {
    return 'GlobalWindow';
  }
}

/** The window a namespace names (the inverse of {@link Window.namespace}). */
export function windowOfNamespace(namespace: string): Window {
  if (namespace === 'global') return GlobalWindow.get();
  const comma = namespace.indexOf(',');
  const start = Number(namespace.slice(0, comma));
  const end = Number(namespace.slice(comma + 1));
  if (comma < 0 || !Number.isFinite(start) || !Number.isFinite(end)) {
    throw new ConfigurationError(`"${namespace}" is not the namespace of a window`, { component: 'windows' });
  }
  return new TimeWindow(start, end);
}
