import { SqliteStateBackend } from '../../src/backends/sqlite/index.ts';
import { stateBackendSuite } from '../conformance/state-backend.suite.ts';
import { ttlSuite } from '../conformance/ttl.suite.ts';

// The browser main thread has no OPFS sync access handles: the backend runs on an in-memory database here.
stateBackendSuite('sqlite (Chromium main thread, in-memory)', () => new SqliteStateBackend({ vfs: 'memory', cacheBytes: 64 << 10 }));
ttlSuite('sqlite (Chromium main thread, in-memory)', () => new SqliteStateBackend({ vfs: 'memory' }));
