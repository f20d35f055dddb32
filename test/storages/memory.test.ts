import { MemoryCheckpointStorage } from '../../src/storages/memory.ts';
import { checkpointStorageSuite } from '../conformance/checkpoint-storage.suite.ts';

checkpointStorageSuite('memory', () => new MemoryCheckpointStorage());
