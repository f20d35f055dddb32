/**
 * The in-place TTL cases (`in-place.suite.ts`) on the backends that run in Node: the heap
 * backend and SQLite's value cache. The Durable Object backend runs them in workerd
 * (test/cloudflare/ttl.test.ts).
 */
import { HashMapStateBackend } from '../../src/backends/memory.ts';
import { SqliteStateBackend } from '../../src/backends/sqlite/index.ts';
import { runTtlInPlaceSuite } from './in-place.suite.ts';

runTtlInPlaceSuite('heap', () => new HashMapStateBackend(), { incremental: true });
runTtlInPlaceSuite('sqlite', () => new SqliteStateBackend({ vfs: 'memory' }), { incremental: true });
