/**
 * The in-memory backend and storage in real Chromium (main thread): the same conformance
 * suites the Node project runs, unchanged.
 */
import { HashMapStateBackend } from '../../src/backends/memory.ts';
import { MemoryCheckpointStorage } from '../../src/storages/memory.ts';
import { checkpointStorageSuite } from '../conformance/checkpoint-storage.suite.ts';
import { runStateBackendSuite } from '../conformance/state-backend/index.ts';

runStateBackendSuite('hashmap (chromium)', () => new HashMapStateBackend());
checkpointStorageSuite('memory (chromium)', () => new MemoryCheckpointStorage());
