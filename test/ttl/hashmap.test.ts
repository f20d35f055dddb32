import { HashMapStateBackend } from '../../src/backends/memory.ts';
import { ttlSuite } from '../conformance/ttl.suite.ts';

ttlSuite('hashmap', () => new HashMapStateBackend());
