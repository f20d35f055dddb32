/**
 * The Chromium leg of `savepoint-portability.test.ts` (served by Vite, driven by
 * Playwright): the job on a real IndexedDB backend at parallelism 2, stopped with a
 * savepoint; the savepoint's files are handed to Node as base64.
 */
import { IndexedDbStateBackend, MemoryCheckpointStorage } from '../../src/index.ts';
import { runLeg } from './job.ts';

/** What the Chromium leg hands on: its committed output, the savepoint path and every file under the job. */
export interface BrowserLeg {
  /** Committed records by transaction id. */
  committed: Record<string, string[]>;
  savepoint: string;
  files: Array<{ path: string; base64: string }>;
}

async function run(stopAt: number): Promise<BrowserLeg> {
  const storage = new MemoryCheckpointStorage();
  const committed: Record<string, string[]> = {};
  const savepoint = await runLeg({
    parallelism: 2,
    backend: new IndexedDbStateBackend(),
    storage,
    stopAt,
    onCommit: (id, records) => void (committed[id] = records),
  });
  if (savepoint === undefined) throw new Error('the browser leg did not stop with a savepoint');
  const files = [];
  for (const path of await storage.list('')) {
    const bytes = (await storage.get(path))!;
    let binary = '';
    for (const b of bytes) binary += String.fromCharCode(b);
    files.push({ path, base64: btoa(binary) });
  }
  return { committed, savepoint, files };
}

(globalThis as { eddyPortable?: { run: typeof run } }).eddyPortable = { run };
