/**
 * The IndexedDB backend in real Chromium (main thread, the browser's own IndexedDB): the
 * conformance suites unchanged. Chromium's IndexedDB is far slower than fake-indexeddb
 * (a lone readonly transaction takes milliseconds on a loaded machine), so the state
 * suite runs with `slow` (its sizes shrink tenfold) and the TTL suite's job tests, which
 * stream 20,000 records and list the keys every 250, get two minutes instead of 30 s.
 */
import { vi } from 'vitest';
import { IndexedDbStateBackend } from '../../src/backends/indexeddb/index.ts';
import { stateBackendSuite } from '../conformance/state-backend.suite.ts';
import { ttlSuite } from '../conformance/ttl.suite.ts';
import { indexedDbSpecifics } from '../backends/indexeddb.specifics.ts';

vi.setConfig({ testTimeout: 120_000 });

stateBackendSuite('indexeddb (chromium)', () => new IndexedDbStateBackend(), { slow: true });
ttlSuite('indexeddb (chromium)', () => new IndexedDbStateBackend());
indexedDbSpecifics('chromium');
