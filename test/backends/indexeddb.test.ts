/**
 * The IndexedDB backend in Node on fake-indexeddb: the state-backend conformance suite
 * unchanged, plus what only this backend has (batching, deltas, its failure modes). Its
 * TTL suite runs with the other backends' in `test/ttl/backends.test.ts`.
 */
import 'fake-indexeddb/auto';
import { IndexedDbStateBackend } from '../../src/backends/indexeddb/index.ts';
import { runStateBackendSuite } from '../conformance/state-backend/index.ts';
import { indexedDbSpecifics } from './indexeddb.specifics.ts';

runStateBackendSuite('indexeddb (fake-indexeddb)', () => new IndexedDbStateBackend());
indexedDbSpecifics('fake-indexeddb');
