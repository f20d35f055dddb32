/**
 * Dedicated worker of the `opfs-checkpoint` bench: the same checkpoint written with
 * `createSyncAccessHandle` (temp name, write, flush, close, then `move()` onto the final
 * name, so a reader never sees a partial file) and read back the same way. Measures
 * whether a worker path would be worth adding to OpfsCheckpointStorage.
 */
interface SyncHandle {
  write(b: Uint8Array, o: { at: number }): number;
  read(b: Uint8Array, o: { at: number }): number;
  getSize(): number;
  truncate(n: number): void;
  flush(): void;
  close(): void;
}
type WithSync = FileSystemFileHandle & { createSyncAccessHandle(): Promise<SyncHandle>; move(name: string): Promise<void> };

let seq = 0;

async function once(parts: Uint8Array[]): Promise<void> {
  const root = await (await navigator.storage.getDirectory()).getDirectoryHandle('eddy-bench-sah', { create: true });
  const dir = await root.getDirectoryHandle(`chk-${Date.now().toString(36)}-${++seq}`, { create: true });
  const write = async (name: string, bytes: Uint8Array) => {
    const temp = (await dir.getFileHandle(`.~tmp-${name}`, { create: true })) as WithSync;
    const h = await temp.createSyncAccessHandle();
    h.truncate(0);
    h.write(bytes, { at: 0 });
    h.flush();
    h.close();
    await temp.move(name);
  };
  for (const [i, p] of parts.entries()) await write(`part-${i}`, p);
  await write('_metadata', new Uint8Array(256));
  for (const [i, p] of parts.entries()) {
    const h = await ((await dir.getFileHandle(`part-${i}`)) as WithSync).createSyncAccessHandle();
    const back = new Uint8Array(h.getSize());
    h.read(back, { at: 0 });
    h.close();
    if (back.byteLength !== p.byteLength || back[4096] !== p[4096]) throw new Error(`sah part ${i} differs`);
  }
  await root.removeEntry(dir.name, { recursive: true });
}

self.onmessage = async (e: MessageEvent<{ parts: Uint8Array[]; runs: number }>) => {
  try {
    await once(e.data.parts);
    const ms: number[] = [];
    for (let r = 0; r < e.data.runs; r++) {
      const t0 = performance.now();
      await once(e.data.parts);
      ms.push(performance.now() - t0);
    }
    self.postMessage({ ms });
  } catch (error) {
    self.postMessage({ error: String(error) });
  }
};
