/** The page of the `sqlite-opfs` bench: starts its dedicated worker and relays requests. */

function ask(op: 'count' | 'large', config: unknown): Promise<unknown> {
  const worker = new Worker(new URL('./sqlite-worker.ts', import.meta.url), { type: 'module' });
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<{ result?: unknown; error?: string }>) => {
      worker.terminate();
      if (e.data.error !== undefined) reject(new Error(e.data.error));
      else resolve(e.data.result);
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new Error(e.message || 'worker error'));
    };
    worker.postMessage({ op, config });
  });
}

(globalThis as unknown as { runSqliteBench: typeof ask }).runSqliteBench = ask;
