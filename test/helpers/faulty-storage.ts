/** A checkpoint storage that fails on purpose: the n-th write of a part or of a manifest. */
import { MemoryCheckpointStorage } from '../../src/storages/memory.ts';

export interface Faults {
  /** Fail the n-th (1-based) write of a part file. */
  failPartWrite?: number;
  /** Fail the n-th (1-based) write of a manifest (the commit point). */
  failManifestWrite?: number;
}

export class FaultyStorage extends MemoryCheckpointStorage {
  partWrites = 0;
  manifestWrites = 0;
  constructor(private readonly faults: Faults) {
    super();
  }
  override async put(path: string, data: Uint8Array): Promise<void> {
    if (path.endsWith('/_metadata')) {
      if (++this.manifestWrites === this.faults.failManifestWrite) throw new Error(`injected failure committing ${path}`);
    } else if (++this.partWrites === this.faults.failPartWrite) {
      throw new Error(`injected failure writing ${path}`);
    }
    return super.put(path, data);
  }
}
