/**
 * The IndexedDB backend in Node on fake-indexeddb: the conformance suites unchanged, plus
 * what only this backend has (batching, deltas, its failure modes).
 */
import 'fake-indexeddb/auto';
import { IndexedDbStateBackend } from '../../src/backends/indexeddb/index.ts';
import { stateBackendSuite } from '../conformance/state-backend.suite.ts';
import { ttlSuite } from '../conformance/ttl.suite.ts';
import { indexedDbSpecifics } from './indexeddb.specifics.ts';

stateBackendSuite('indexeddb (fake-indexeddb)', () => new IndexedDbStateBackend());
ttlSuite('indexeddb (fake-indexeddb)', () => new IndexedDbStateBackend());
indexedDbSpecifics('fake-indexeddb');
