/**
 * The TTL conformance suite for every backend, from one place: the heap backend, SQLite
 * (in memory) and IndexedDB on fake-indexeddb. The browser entries (`test/browser/`) run
 * it again in real Chromium.
 */
import 'fake-indexeddb/auto';
import { IndexedDbStateBackend } from '../../src/backends/indexeddb/index.ts';
import { HashMapStateBackend } from '../../src/backends/memory.ts';
import { SqliteStateBackend } from '../../src/backends/sqlite/index.ts';
import { runTtlSuite } from '../conformance/ttl/index.ts';

runTtlSuite('hashmap', () => new HashMapStateBackend());
runTtlSuite('sqlite', () => new SqliteStateBackend({ vfs: 'memory' }));
runTtlSuite('indexeddb (fake-indexeddb)', () => new IndexedDbStateBackend());
