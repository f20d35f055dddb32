import { SqliteStateBackend } from '../../src/backends/sqlite/index.ts';
import { runStateBackendSuite } from '../conformance/state-backend/index.ts';

// A small cache (64 KiB) so that the suite's many-keys cases go through eviction and write-back, not only the cache.
runStateBackendSuite('sqlite', () => new SqliteStateBackend({ vfs: 'memory', cacheBytes: 64 << 10 }));
