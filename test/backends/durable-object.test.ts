/**
 * The state-backend and TTL conformance suites against `DurableObjectStateBackend` in Node,
 * over a stand-in for `ctx.storage` (SQLite-WASM imitating workerd, `test/helpers/do-storage.ts`).
 * The backend in real workerd is tested in `test/cloudflare/`.
 */
import { DurableObjectStateBackend } from '../../src/backends/durable-object/index.ts';
import { runStateBackendSuite } from '../conformance/state-backend/index.ts';
import { runTtlSuite } from '../conformance/ttl/index.ts';
import { standInStorage } from '../helpers/do-storage.ts';

runStateBackendSuite('durable-object (stand-in storage)', async () => new DurableObjectStateBackend(await standInStorage()));
runTtlSuite('durable-object (stand-in storage)', async () => new DurableObjectStateBackend(await standInStorage()));
