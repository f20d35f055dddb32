import { SqliteStateBackend } from '../../src/backends/sqlite/index.ts';
import { ttlSuite } from '../conformance/ttl.suite.ts';

ttlSuite('sqlite', () => new SqliteStateBackend({ vfs: 'memory' }));
