/**
 * An input-log store in memory, for tests and for programs that only need the log's
 * replay across job restarts within one process. It survives nothing else.
 */
import { InputLogError } from '../api/errors.ts';
import type { InputLogBounds, InputLogStore } from '../format/input-log-store.ts';

/** Which memory logs are open, by name, so that a second writer is refused as elsewhere. */
const open = new Set<string>();
/** Memory logs by name: reopening one (after close) finds its entries, as a file would. */
const logs = new Map<string, { first: number; entries: Uint8Array[] }>();

/** Keeps a log's entries in this JS realm, shared by name between instances. */
export class MemoryInputLogStore implements InputLogStore {
  readonly description: string;
  #held = false;

  constructor(readonly name: string) {
    this.description = `memory:${name}`;
  }

  #log() {
    let log = logs.get(this.name);
    if (!log) logs.set(this.name, (log = { first: 0, entries: [] }));
    return log;
  }

  async open(): Promise<InputLogBounds> {
    if (this.#held || open.has(this.name)) {
      throw new InputLogError('STORAGE_LOCKED', `log "${this.name}" is already open by another writer in this realm; close it first`, {
        component: `input-log:${this.description}`,
      });
    }
    open.add(this.name);
    this.#held = true;
    const log = this.#log();
    return { first: log.first, next: log.first + log.entries.length };
  }

  async append(offset: number, entries: readonly Uint8Array[]): Promise<void> {
    this.#check();
    const log = this.#log();
    const next = log.first + log.entries.length;
    if (offset !== next)
      throw new InputLogError('INVALID_ARGUMENT', `append at offset ${offset}, but the log ends at ${next}`, { component: `input-log:${this.description}` });
    for (const e of entries) log.entries.push(e.slice());
  }

  async read(from: number, max: number): Promise<Uint8Array[]> {
    const log = this.#log();
    const start = Math.max(0, from - log.first);
    return log.entries.slice(start, start + max).map((e) => e.slice());
  }

  async truncate(before: number): Promise<void> {
    this.#check();
    const log = this.#log();
    const n = Math.min(before - log.first, log.entries.length);
    if (n <= 0) return;
    log.entries.splice(0, n);
    log.first += n;
  }

  async close(): Promise<void> {
    if (!this.#held) return;
    this.#held = false;
    open.delete(this.name);
  }

  /** Forgets a log's entries (tests). */
  static drop(name: string): void {
    logs.delete(name);
  }

  #check(): void {
    if (!this.#held) throw new InputLogError('INVALID_ARGUMENT', 'the store is not open', { component: `input-log:${this.description}` });
  }
}
