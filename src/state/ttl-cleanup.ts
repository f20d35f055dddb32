/**
 * Incremental TTL cleanup (Flink's `TtlIncrementalCleanup`): on every access of a state
 * (and, if asked, every record) the backend's cursor over the state's entries moves on by
 * `cleanupSize` entries and drops the expired elements it passes.
 *
 * One refinement keeps it cheap where nothing can expire yet: a walk of the cursor that
 * reaches the end proves a lower bound on every stored timestamp — each entry was either
 * visited and kept (its timestamp is known) or written after the walk began. Until that
 * bound plus the TTL, no entry can have expired, so steps skip the walk: what reads and
 * snapshots see is unchanged, only pointless visits are saved (with a one-hour TTL, all
 * of them after the first walk).
 */
import type { KeyedStateBackend } from './backend.ts';
import type { AccessHook, TtlValue } from './ttl-context.ts';

type Pruning = KeyedStateBackend & Required<Pick<KeyedStateBackend, 'pruneEntries'>>;

/** One tracker per backend and state, since the backend keeps one cursor per state. */
const trackers = new WeakMap<KeyedStateBackend, Map<string, IncrementalCleanup>>();

/** Moves the backend's cleanup cursor of one state. */
export class IncrementalCleanup implements AccessHook {
  /** Steps before this time cannot find anything expired. */
  idleUntil = -Infinity;
  /** When the current walk began (undefined: none under way). */
  private walkStart: number | undefined = undefined;
  /** The oldest timestamp the current walk kept. */
  private oldestKept = Infinity;
  private now = 0;
  // One predicate for the state's lifetime: `now` is set before every step.
  private readonly isStale = (stored: unknown): boolean => {
    const ts = (stored as TtlValue<unknown>)[1];
    if (ts + this.ttlMs <= this.now) return true;
    if (ts < this.oldestKept) this.oldestKept = ts;
    return false;
  };

  private constructor(
    private readonly backend: Pruning,
    private readonly stateName: string,
    private readonly ttlMs: number,
  ) {}

  /** The cleanup of a state on a backend; undefined when the backend has no cursor (`pruneEntries`). */
  static of(backend: KeyedStateBackend, stateName: string, ttlMs: number): IncrementalCleanup | undefined {
    if (backend.pruneEntries === undefined) return undefined;
    let byName = trackers.get(backend);
    if (byName === undefined) trackers.set(backend, (byName = new Map()));
    let cleanup = byName.get(stateName);
    if (cleanup === undefined) byName.set(stateName, (cleanup = new IncrementalCleanup(backend as Pruning, stateName, ttlMs)));
    return cleanup;
  }

  /** Checks `size` entries at time `now`; a Promise only when the backend answers with one. */
  step(now: number, size: number): Promise<unknown> | undefined {
    if (now < this.idleUntil) return undefined;
    if (this.walkStart === undefined) {
      this.walkStart = now;
      this.oldestKept = Infinity;
    }
    this.now = now;
    const visited = this.backend.pruneEntries(this.stateName, size, this.isStale);
    if (visited instanceof Promise) return visited.then((n) => this.stepped(n, size));
    this.stepped(visited, size);
    return undefined;
  }

  private stepped(visited: number, size: number): void {
    if (visited >= size || this.walkStart === undefined) return;
    // The walk reached the end: what is stored was kept by it or written since it began.
    this.idleUntil = Math.min(this.oldestKept, this.walkStart) + this.ttlMs;
    this.walkStart = undefined;
  }
}
