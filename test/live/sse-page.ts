/**
 * The page of `real-servers.test.ts` (served by Vite, driven by Playwright): a job reading
 * Chromium's own `EventSource` through `ServerSentEventSource` from a real Node SSE server
 * (Node 20 has no EventSource). Resolves with the records, or the error code the job failed with.
 */
import { EddyError, ServerSentEventSource, StreamExecutionEnvironment } from '../../src/index.ts';

async function runSse(url: string): Promise<{ records?: number[]; error?: string; message?: string }> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  try {
    const records = await env
      .fromSource(new ServerSentEventSource<number>(() => new EventSource(url), { endOn: 'end', map: (d) => Number(d) }), undefined, 'sse')
      .executeAndCollect('sse');
    return { records };
  } catch (e) {
    return { error: e instanceof EddyError ? e.code : String(e), message: e instanceof Error ? e.message : String(e) };
  }
}

(globalThis as { runSse?: typeof runSse }).runSse = runSse;
