import { SqliteStateBackend } from '../../src/backends/sqlite/index.ts';
import { stateBackendSuite } from '../conformance/state-backend.suite.ts';

// A small cache (64 KiB) so that the suite's many-keys cases go through eviction and write-back, not only the cache.
stateBackendSuite('sqlite', () => new SqliteStateBackend({ vfs: 'memory', cacheBytes: 64 << 10 }));
