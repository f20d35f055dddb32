/**
 * The demo page (demo/), built as `npm run build:demo` builds it and served by a plain
 * static server, driven in headless Chromium like a visitor would: on each state backend
 * a job runs, checkpoints, loses a worker and recovers with the invariant intact; a
 * reload resumes from the newest OPFS checkpoint without a click; a worker killed before
 * the first checkpoint makes the job start over, still exactly once; a stop-with-savepoint
 * restarts at another parallelism; with checkpointing off the kill shows the loss; the
 * inspector reads a key's live state (a map state as a sorted, cut key → value table; the
 * windows in flight); the CSP is in force and nothing logs an error.
 *
 * One browser and one page for the whole file (building the demo and starting Chromium
 * take most of a minute), but no test relies on another: each starts the job it needs, so
 * any one of them runs alone (`-t "<name>"`) as well as in order. After each test, nothing
 * may have logged an error.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ROWS } from '../../demo/src/inspect.ts';
import { eventTimeOf, expectedCount, PER_SECOND, SPLITS, transaction } from '../../demo/src/scenario.ts';
import { buildDemo, openBrowser, serveStatic, type DemoSession } from './demo-site.ts';

/** What the page shows, read from its elements' data attributes. */
async function shown(page: Page) {
  return page.evaluate(() => {
    const d = (id: string) => document.getElementById(id)!.dataset;
    const n = (id: string) => Number(d(id).value);
    return {
      job: document.body.dataset.job,
      status: d('status').value,
      generated: n('generated'),
      committed: n('committed'),
      windows: n('windows'),
      duplicates: n('duplicates'),
      restarts: n('restarts'),
      ok: d('invariant').ok,
      invariant: document.getElementById('invariant')!.textContent,
      checkpoints: Number(d('checkpoints').completed),
      recovery: Object.assign({}, d('recovery'), { text: document.getElementById('recovery')!.textContent ?? '' }) as Record<string, string | undefined>,
    };
  });
}

/** How many transactions of `card` in the 1-s window that starts at `start`, among those generated when the splits stood at `positions`. */
function windowCountOf(card: string, positions: readonly number[], start: number): number {
  let n = 0;
  positions.forEach((next, s) => {
    for (let k = 0; k < next; k++) {
      const tx = transaction(s + SPLITS * k, 0);
      if (tx.card === card && tx.ts >= start && tx.ts < start + 1000) n++;
    }
  });
  return n;
}

/** The merchants of `card` among the transactions generated when the splits stood at `positions`, with how many of each. */
function merchantsOf(card: string, positions: readonly number[]): Map<string, number> {
  const counts = new Map<string, number>();
  positions.forEach((next, s) => {
    for (let k = 0; k < next; k++) {
      const tx = transaction(s + SPLITS * k, 0);
      if (tx.card === card) counts.set(tx.merchant, (counts.get(tx.merchant) ?? 0) + 1);
    }
  });
  return counts;
}

describe('the demo page, built and served statically (Playwright + Chromium)', () => {
  let dir: string;
  let site: { origin: string; close(): Promise<void> };
  let session: DemoSession;
  let page: Page;

  const until = async (what: string, fn: () => boolean | Promise<boolean>, timeout = 60_000) => {
    const deadline = Date.now() + timeout;
    while (!(await fn())) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; the page shows ${JSON.stringify(await shown(page))}\n${session.logs.slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  /**
   * Starts a new job with the given settings and waits until the page shows it. The rate
   * slider at 60 (≈ 2,500 transactions/s, 2.5 s of event time a second) commits windows
   * faster than the page's default without loading the shared machine much.
   */
  const startJob = async (settings: { backend: string; parallelism?: number; checkpointing?: boolean; intervalMs?: number }, running = true) => {
    // The form in one step (each Playwright action waits for the element to settle: seconds on a loaded machine); the start is a real click.
    const values = {
      backend: settings.backend,
      parallelism: String(settings.parallelism ?? 2),
      interval: String(settings.intervalMs ?? 300),
      rate: '60',
      checkpointing: settings.checkpointing ?? true,
    };
    await page.evaluate((v) => {
      const set = (id: string, value: string | boolean) => {
        const el = document.getElementById(id) as HTMLInputElement;
        if (typeof value === 'boolean') el.checked = value;
        else el.value = value;
        el.dispatchEvent(new Event('input', { bubbles: true }));
        el.dispatchEvent(new Event('change', { bubbles: true }));
      };
      for (const [id, value] of Object.entries(v)) set(id, value);
    }, values);
    // A test that failed while the generator was paused must not leave the next job paused.
    if ((await page.getAttribute('#pause', 'aria-pressed')) === 'true') await page.click('#pause');
    const before = (await shown(page)).job;
    await page.click('#start');
    await until('the new job', async () => {
      const s = await shown(page);
      return s.job !== undefined && s.job !== before && (s.status === 'RUNNING' || !running);
    });
  };
  const expectInvariant = async () => {
    const s = await shown(page);
    expect(s.ok, s.invariant ?? '').toBe('true');
    expect(s.duplicates).toBe(0);
    expect(s.committed).toBe(s.windows * PER_SECOND);
    expect(s.committed).toBeLessThanOrEqual(s.generated);
    return s;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'eddy-demo-'));
    site = await serveStatic(dir);
    // Chromium starts while Vite builds (the server only reads files on request).
    [session] = await Promise.all([openBrowser(site.origin), buildDemo(dir)]);
    page = session.page;
    await page.goto(`${site.origin}/index.html`);
    await until('the first job', async () => (await shown(page)).status === 'RUNNING');
  }, 180_000);
  afterEach(() => {
    // Where an error was logged, the test that was running says so (and the next one starts clean).
    const errors = session.errors.splice(0);
    expect(errors).toEqual([]);
  });
  afterAll(async () => {
    await session?.close();
    await site?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const backend of ['memory', 'sqlite', 'indexeddb']) {
    it(`${backend}: ≥ 3 checkpoints, a worker killed, the job recovers from a checkpoint with nothing lost or duplicated`, async () => {
      await startJob({ backend });
      await until('3 completed checkpoints and a committed window', async () => {
        const s = await shown(page);
        return s.checkpoints >= 3 && s.windows >= 1;
      });
      const before = await expectInvariant();
      await page.click('#kill');
      await until('the recovery', async () => (await shown(page)).recovery.done === 'true');
      const after = await shown(page);
      expect(after.recovery.cause).toBe('kill');
      expect(after.recovery.lost).toBe('false');
      expect(Number(after.recovery.checkpoint)).toBeGreaterThanOrEqual(1);
      expect(after.restarts).toBeGreaterThanOrEqual(1);
      // Windows that were open at the kill are committed after it, each exactly once.
      await until('two more committed windows', async () => (await shown(page)).windows >= before.windows + 2);
      await expectInvariant();
    }, 120_000);
  }

  it('a reload mid-run resumes from the newest OPFS checkpoint without a click; the invariant holds across it', async () => {
    // IndexedDB state, so that the reload finds the backend's own data as well as the OPFS checkpoint.
    await startJob({ backend: 'indexeddb' });
    await until('a completed checkpoint and 2 committed windows', async () => {
      const s = await shown(page);
      return s.checkpoints >= 1 && s.windows >= 2;
    });
    const before = await expectInvariant();
    await page.click('#reload');
    await page.waitForEvent('load');
    await until('the resumed job', async () => {
      const s = await shown(page);
      return s.job === before.job && s.recovery.cause === 'reload' && s.recovery.done === 'true';
    });
    const resumed = await shown(page);
    expect(resumed.recovery.lost).toBe('false');
    expect(Number(resumed.recovery.checkpoint), resumed.recovery.text).toBeGreaterThanOrEqual(1);
    // The output committed before the reload is still there, and the job carries on from it.
    await until('two more committed windows', async () => (await shown(page)).windows >= before.windows + 2);
    const s = await expectInvariant();
    expect(s.generated).toBeGreaterThanOrEqual(before.generated);
  }, 120_000);

  it('a worker killed before the first checkpoint completes: the job starts over from the source’s beginning, exactly once', async () => {
    // Checkpoints 3 s apart: the kill comes right after the job runs, well before the first one completes.
    await startJob({ backend: 'memory', intervalMs: 3000 });
    await page.click('#kill');
    await until('the recovery', async () => (await shown(page)).recovery.done === 'true');
    const after = await shown(page);
    expect(after.recovery).toMatchObject({ cause: 'kill', lost: 'false', completedBefore: '0', checkpoint: '' });
    expect(after.recovery.text).toMatch(/running again from the start/);
    expect(after.restarts).toBeGreaterThanOrEqual(1);
    // The restarted job replays the transactions from the first one: every window from 0 s on, each exactly once.
    await until('two committed windows', async () => (await shown(page)).windows >= 2);
    const s = await expectInvariant();
    expect(s.checkpoints).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('stop with a savepoint and restart at another parallelism: the same job continues with the invariant intact', async () => {
    await startJob({ backend: 'memory', parallelism: 2 });
    await until('a committed window', async () => (await shown(page)).windows >= 1);
    const before = await shown(page);
    await page.selectOption('#rescale-to', '3');
    await page.click('#rescale');
    await until('the restart', async () => {
      const s = await shown(page);
      return s.recovery.cause === 'rescale' && s.recovery.done === 'true';
    });
    expect((await shown(page)).recovery.text).toMatch(/savepoint .*savepoint-\d+/);
    await until('two more committed windows', async () => (await shown(page)).windows >= before.windows + 2);
    const s = await expectInvariant();
    expect(s.job).toBe(before.job);
  }, 120_000);

  it('the inspector reads a card’s live state: its count equals the transactions generated for it; its map state shows as a key → value table, sorted and cut at MAX_ROWS rows; its windows in flight with their counts; the sink recorded its commit times', async () => {
    // Three workers: the query is routed to the one that owns the card's key group.
    await startJob({ backend: 'memory', parallelism: 3 });
    await until('some windows', async () => (await shown(page)).windows >= 1);
    await page.click('#pause');
    const card = 'card-042';
    // Paused, the job catches up; the count then stops moving and must equal what the generator made for the card.
    // The windows downstream settle a moment later than the count: both must stay the same over two reads.
    let previous = '';
    let previousWindows: string | null | undefined = '';
    await until('a settled count', async () => {
      await page.click(`button.pick >> text=${card}`);
      await page.waitForTimeout(300);
      const [count, windows] = await page.evaluate(() => [
        document.getElementById('state')!.dataset.count ?? '',
        document.querySelector('#state table[data-operator="1-s window count"]')?.textContent,
      ]);
      const settled = count !== '' && count === previous && windows === previousWindows;
      previous = count!;
      previousWindows = windows;
      return settled;
    });
    const positions = await page.evaluate(() => (JSON.parse(localStorage.getItem('eddy-demo')!) as { positions: number[] }).positions);
    expect(Number(previous)).toBe(expectedCount(card, positions));
    // The map state shows as a key → value table: its first MAX_ROWS merchants by name with their counts, then how many more.
    const merchants = merchantsOf(card, positions);
    expect(merchants.size).toBeGreaterThan(MAX_ROWS);
    const names = [...merchants.keys()].sort();
    const inspected = await page.evaluate(() => {
      const row = document.querySelector<HTMLTableRowElement>('#state tr[data-state="merchants"]')!;
      const texts = (q: string) => [...row.querySelectorAll(q)].map((e) => e.textContent);
      return {
        kind: row.dataset.kind,
        size: Number(row.dataset.size),
        label: row.cells[0]!.textContent,
        headers: texts('table.entries thead th'),
        rows: [...row.querySelectorAll<HTMLTableRowElement>('table.entries tbody tr')].map((r) => [r.cells[0]!.textContent, r.cells[1]!.textContent]),
        more: texts('.more'),
        count: document.querySelector<HTMLTableRowElement>('#state tr[data-state="count"]')?.dataset.value,
        caption: document.querySelector('#state caption')?.textContent,
        windows: [...document.querySelectorAll<HTMLTableRowElement>('#state table[data-operator="1-s window count"] tr.window')].map((r) => [
          r.cells[0]!.firstChild!.textContent,
          r.cells[1]!.textContent,
        ]),
      };
    });
    expect(inspected).toMatchObject({
      kind: 'map',
      size: merchants.size,
      headers: ['key', 'value'],
      more: [`… ${merchants.size - MAX_ROWS} more`],
      count: previous,
    });
    expect(inspected.rows).toEqual(names.slice(0, MAX_ROWS).map((m) => [m, merchants.get(m)!.toLocaleString('en')]));
    // The per-merchant counts carry a 30-s TTL; the inspector shows what is left of it.
    expect(inspected.label).toMatch(new RegExp(`^merchantsmap state, ${merchants.size} entries, TTL \\d+ s left$`));
    expect(inspected.caption).toMatch(new RegExp(`^${card} in card profile — key group \\d+, subtask \\d, worker \\d$`));
    // The window operator's windows in flight, each with the card's transactions in it so far (all of them: the job caught up).
    // The newest second's window has not fired (the watermark is behind its end): it is shown whenever the card has a transaction in it.
    const inWindow = (start: number) => windowCountOf(card, positions, start);
    const newestTx = Math.max(...positions.map((next, s) => (next > 0 ? s + SPLITS * (next - 1) : 0)));
    const newest = Math.floor(eventTimeOf(newestTx) / 1000) * 1000;
    if (inWindow(newest) > 0) expect(inspected.windows.length).toBeGreaterThan(0);
    for (const [label, text] of inspected.windows) {
      const [start, end] = /^window \[([\d,]+), ([\d,]+)\)$/
        .exec(label ?? '')!
        .slice(1)
        .map((n) => Number(n.replaceAll(',', '')));
      expect(end! - start!).toBe(1000);
      expect(text).toBe(`${inWindow(start!)} of 10 transactions so far`);
    }
    // The latency chart's "committed" line: the sink wrote a commit time with every transaction it committed (in real IndexedDB).
    const times = await page.evaluate(
      (job) =>
        new Promise<number[]>((resolve, reject) => {
          const open = indexedDB.open(`eddy-demo-output:${job}`);
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const db = open.result;
            const all = db.transaction('commitTimes').objectStore('commitTimes').getAll();
            all.onsuccess = () => {
              db.close();
              resolve(all.result as number[]);
            };
          };
        }),
      (await shown(page)).job,
    );
    expect(times.length).toBeGreaterThan(0);
    expect(times.every((t) => t > Date.now() - 600_000 && t <= Date.now())).toBe(true);
    await page.click('#pause');
  }, 120_000);

  it('with checkpointing off, a killed worker fails the job and the page shows the loss', async () => {
    await startJob({ backend: 'memory', checkpointing: false });
    // The checkpoint settings mean nothing then, and say so by being greyed out.
    expect(await page.isDisabled('#interval')).toBe(true);
    expect(await page.isDisabled('#incremental')).toBe(true);
    await until('transactions generated', async () => (await shown(page)).generated > 500);
    await page.click('#kill');
    await until('the verdict on the kill', async () => (await shown(page)).recovery.done === 'true');
    const s = await shown(page);
    expect(s.recovery.lost).toBe('true');
    expect(s.recovery.text).toMatch(/checkpointing is off/);
    expect(s.status).toBe('FAILED');
    expect(s.committed).toBe(0);
    // The loss is told in the Faults panel, not repeated as a failure beside the settings.
    expect(await page.isHidden('#job-problem')).toBe(true);
  }, 120_000);

  it('a state backend that cannot load: the page says why beside the settings, and the invariant is not shown as holding', async () => {
    // What a browser without what SQLite-WASM needs sees: the module cannot be loaded.
    await page.route('**/*.wasm', (route) => route.abort());
    try {
      await startJob({ backend: 'sqlite' }, false);
      await until('the problem shown', () => page.isVisible('#job-problem'));
      const problem = (await page.textContent('#job-problem')) ?? '';
      expect(problem).toMatch(/times in a row .*\[backend:sqlite\] could not load @sqlite\.org\/sqlite-wasm/);
      expect(problem).toMatch(/pick another one and start a new job/);
      const s = await shown(page);
      // The tile holds the status alone (the message once made it tower over the other counters).
      expect(await page.textContent('#status')).toBe(s.status);
      expect(s.status).not.toBe('RUNNING');
      expect(s.committed).toBe(0);
      expect(s.ok).toBe('');
    } finally {
      await page.unroute('**/*.wasm');
    }
    // The errors the failed loads logged are expected here, and only those.
    const logged = session.errors.splice(0);
    expect(
      logged.every((e) => /wasm|sqlite|Failed to (load|fetch)|ArrayBuffer instantiation/i.test(e)),
      logged.join('\n'),
    ).toBe(true);
    // Another backend runs, and the problem goes away with the failed job.
    await startJob({ backend: 'memory' });
    expect(await page.isHidden('#job-problem')).toBe(true);
  }, 120_000);

  it('a second tab does not run the job twice: it says where the demo runs, can take it over (resuming the job from its checkpoint), and the first tab stands by', async () => {
    await startJob({ backend: 'memory' });
    await until('a completed checkpoint', async () => (await shown(page)).checkpoints >= 1);
    const job = (await shown(page)).job;
    const [second] = await Promise.all([page.waitForEvent('popup'), page.evaluate((url) => void window.open(url, '_blank'), `${session.origin}/index.html`)]);
    const secondErrors: string[] = [];
    second.on('console', (m) => m.type() === 'error' && secondErrors.push(m.text()));
    second.on('pageerror', (e) => secondErrors.push(e.message));
    try {
      await second.waitForSelector('#elsewhere', { state: 'visible', timeout: 30_000 });
      expect(await second.textContent('#elsewhere')).toMatch(/already runs in another tab/);
      expect((await shown(second)).status).toBeUndefined();
      expect((await shown(page)).status).toBe('RUNNING');
      await second.click('#take-over');
      await until('the job running in the second tab', async () => {
        const s = await shown(second);
        return s.job === job && s.status === 'RUNNING';
      });
      await page.waitForSelector('#elsewhere', { state: 'visible', timeout: 30_000 });
      expect(await page.textContent('#elsewhere')).toMatch(/moved to another tab/);
      // The same job and output, carried on in the second tab from the first one's newest checkpoint, still exactly once.
      await until('the recovery shown', async () => (await shown(second)).recovery.done === 'true');
      const before = await shown(second);
      expect(before.recovery.cause).toBe('takeover');
      expect(Number(before.recovery.checkpoint), before.recovery.text).toBeGreaterThanOrEqual(1);
      await until('two more committed windows in the second tab', async () => (await shown(second)).windows >= before.windows + 2);
      const s = await shown(second);
      expect(s.ok, s.invariant ?? '').toBe('true');
      expect(s.duplicates).toBe(0);
      expect(s.committed).toBe(s.windows * PER_SECOND);
      expect(secondErrors).toEqual([]);
    } finally {
      await second.close();
    }
    // The first tab takes the demo back (it would anyway once asked: the second one is gone).
    await page.click('#take-over');
    await until('the job back in the first tab', async () => (await shown(page)).status === 'RUNNING' && (await page.isHidden('#elsewhere')));
    await until('a committed window more', async () => (await shown(page)).windows >= 1);
    await expectInvariant();
  }, 150_000);

  it('the CSP is in force (an inline script is refused; the policy allows no eval)', async () => {
    const csp = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content');
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toMatch(/'unsafe-eval'|'unsafe-inline'/);
    // DevTools evaluation is exempt from a CSP, so the check is what the page itself would run: an injected inline script.
    const result = await page.evaluate(async () => {
      const violation = new Promise<string>((resolve) =>
        document.addEventListener('securitypolicyviolation', (e) => resolve(e.effectiveDirective), { once: true }),
      );
      const script = document.createElement('script');
      script.textContent = 'globalThis.eddyInjected = true;';
      document.head.append(script);
      return { directive: await violation, ran: (globalThis as { eddyInjected?: boolean }).eddyInjected === true };
    });
    expect(result).toEqual({ directive: 'script-src-elem', ran: false });
    // Chromium may log the refusal as a console error: that, and only that, is expected here.
    await page.waitForTimeout(300);
    const refused = session.errors.splice(0);
    expect(
      refused.every((e) => /Content Security Policy/.test(e)),
      refused.join('\n'),
    ).toBe(true);
  });
});
