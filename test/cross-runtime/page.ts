/**
 * The Chromium leg of `savepoint-portability.test.ts` (served by Vite, driven by
 * Playwright): the job on a real IndexedDB backend at parallelism 2, checkpointing to S3,
 * stopped with a savepoint there.
 */
import { IndexedDbStateBackend } from '../../src/index.ts';
import { runLeg } from './job.ts';
import { storageAt, type S3Place } from './s3.ts';

/** What the Chromium leg hands on: its committed output by transaction id and the savepoint path. */
export interface BrowserLeg {
  committed: Record<string, string[]>;
  savepoint: string;
}

async function run(place: S3Place, stopAt: number): Promise<BrowserLeg> {
  const committed: Record<string, string[]> = {};
  const savepoint = await runLeg({
    parallelism: 2,
    backend: new IndexedDbStateBackend(),
    storage: storageAt(place),
    stopAt,
    onCommit: (id, records) => void (committed[id] = records),
  });
  if (savepoint === undefined) throw new Error('the browser leg did not stop with a savepoint');
  return { committed, savepoint };
}

(globalThis as { eddyPortable?: { run: typeof run } }).eddyPortable = { run };
