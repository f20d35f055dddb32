/**
 * Retention of completed checkpoints (Flink's `CompletedCheckpointStore` with its
 * `maxRetainedCheckpoints`): which checkpoints are kept, which are dropped, and which parts
 * of dropped ones must stay because a retained incremental chain still references them.
 */
import type { Manifest } from '../format/checkpoint-format.ts';
import { MANIFEST_NAME, type CheckpointStorage } from '../format/checkpoint-storage.ts';

/** The completed checkpoints of a job, this run's and earlier runs', and their discarding. */
export class CheckpointRetention {
  /** Completed checkpoint directories of this run, oldest first (what its restarts restore). */
  readonly completed: string[] = [];
  /**
   * Completed checkpoints that earlier runs of the job left, oldest first: counted by
   * retention with this run's (all older than them), never restored by this run's restarts.
   */
  private readonly inherited: string[] = [];
  /** The manifests of the retained checkpoints, by directory: what their chains reference. */
  private readonly retained = new Map<string, Manifest>();
  /** Directories of dropped checkpoints that still hold parts a retained chain references. */
  private readonly leftovers = new Set<string>();

  constructor(
    private readonly jobId: string,
    private readonly storage: CheckpointStorage,
    private readonly maxRetained: number,
  ) {}

  /** A periodic (or final) checkpoint of this run is complete: it is retained. */
  record(dir: string, manifest: Manifest): void {
    this.completed.push(dir);
    this.retained.set(dir, manifest);
  }

  /**
   * Deletes checkpoints beyond the retention count. Parts that a retained chain still
   * references stay (their directory is revisited after later checkpoints).
   */
  async dropOldCheckpoints(): Promise<void> {
    while (this.inherited.length + this.completed.length > this.maxRetained) {
      const dir = this.inherited.length > 0 ? this.inherited.shift()! : this.completed.shift()!;
      const manifest = this.retained.get(dir);
      this.retained.delete(dir);
      await this.storage.delete(`${dir}/${MANIFEST_NAME}`).catch(() => {});
      this.leftovers.add(dir);
      // An earlier run's checkpoint may reference parts in directories this run never saw.
      if (manifest) for (const d of this.chainDirs(manifest)) this.leftovers.add(d);
    }
    if (this.leftovers.size === 0) return;
    const referenced = new Set<string>();
    for (const m of this.retained.values()) for (const op of m.operators) for (const chain of op.parts) for (const h of chain ?? []) referenced.add(h.path);
    for (const dir of [...this.leftovers]) {
      try {
        const files = await this.storage.list(`${dir}/`);
        let kept = 0;
        for (const f of files) {
          if (referenced.has(f)) kept++;
          else await this.storage.delete(f);
        }
        if (kept === 0) this.leftovers.delete(dir);
      } catch {
        // Retried after the next checkpoint; leftovers without a manifest restore nothing.
      }
    }
  }

  /** Deletes a checkpoint directory, manifest first. */
  async deleteDir(dir: string): Promise<void> {
    try {
      // The manifest goes first, so that a half-deleted checkpoint is never taken for a complete one.
      await this.storage.delete(`${dir}/${MANIFEST_NAME}`);
      for (const p of await this.storage.list(`${dir}/`)) await this.storage.delete(p);
    } catch {
      // Leftover files of a dropped checkpoint are harmless: without a manifest nothing restores them.
    }
  }

  /**
   * Takes over the completed checkpoints that earlier runs of the job left (oldest first,
   * with their manifests where readable), so that retention counts them: a new checkpoint
   * of this run drops the oldest of them beyond `maxRetained`, as it drops its own.
   */
  inherit(previous: ReadonlyArray<{ readonly dir: string; readonly manifest?: Manifest }>): void {
    for (const p of previous) {
      this.inherited.push(p.dir);
      if (p.manifest) this.retained.set(p.dir, p.manifest);
    }
  }

  /**
   * Deletes every retained checkpoint of the job, this run's and inherited ones, with the
   * parts their chains reference (a cancel under DELETE_ON_CANCELLATION). Savepoints stay.
   */
  async discardAll(): Promise<void> {
    const dirs = new Set([...this.inherited, ...this.completed, ...this.leftovers]);
    for (const m of this.retained.values()) for (const d of this.chainDirs(m)) dirs.add(d);
    this.inherited.length = 0;
    this.completed.length = 0;
    this.leftovers.clear();
    this.retained.clear();
    for (const dir of dirs) await this.deleteDir(dir);
  }

  /** The checkpoint directories (never savepoints) that a manifest's chains reference. */
  private chainDirs(manifest: Manifest): Set<string> {
    const dirs = new Set<string>();
    const prefix = `${this.jobId}/chk-`;
    for (const op of manifest.operators) {
      for (const chain of op.parts) {
        for (const h of chain ?? []) {
          const dir = h.path.slice(0, h.path.lastIndexOf('/'));
          if (dir.startsWith(prefix) && /^\d+$/.test(dir.slice(prefix.length))) dirs.add(dir);
        }
      }
    }
    return dirs;
  }
}
