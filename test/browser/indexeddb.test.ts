/**
 * The IndexedDB backend in real Chromium (main thread, the browser's own IndexedDB): the
 * conformance suites unchanged. Chromium's IndexedDB is far slower than fake-indexeddb
 * (a lone readonly transaction takes milliseconds on a loaded machine), so the state
 * suite runs with `slow` (its sizes shrink tenfold) and the TTL suite's job tests, which
 * stream 20,000 records and list the keys every 250, get two minutes instead of 30 s.
 */
import { vi } from 'vitest';
import { IndexedDbStateBackend } from '../../src/backends/indexeddb/index.ts';
import { runStateBackendSuite } from '../conformance/state-backend/index.ts';
import { runTtlSuite } from '../conformance/ttl/index.ts';
import { indexedDbSpecifics } from '../backends/indexeddb.specifics.ts';

vi.setConfig({ testTimeout: 120_000 });

runStateBackendSuite('indexeddb (chromium)', () => new IndexedDbStateBackend(), { slow: true });
runTtlSuite('indexeddb (chromium)', () => new IndexedDbStateBackend());
indexedDbSpecifics('chromium');
