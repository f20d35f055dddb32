import { SqliteStateBackend } from '../../src/backends/sqlite/index.ts';
import { runStateBackendSuite } from '../conformance/state-backend/index.ts';
import { runTtlSuite } from '../conformance/ttl/index.ts';

// The browser main thread has no OPFS sync access handles: the backend runs on an in-memory database here.
runStateBackendSuite('sqlite (Chromium main thread, in-memory)', () => new SqliteStateBackend({ vfs: 'memory', cacheBytes: 64 << 10 }));
runTtlSuite('sqlite (Chromium main thread, in-memory)', () => new SqliteStateBackend({ vfs: 'memory' }));
