/**
 * The state-backend conformance suite (DESIGN §2, decision 8). Every `StateBackend` —
 * in memory, SQLite-WASM, IndexedDB; in Node, a browser tab or a Web Worker — must pass
 * it unchanged, and a backend's test file runs it in one line:
 *
 *   runStateBackendSuite('hashmap', () => new HashMapStateBackend());
 *
 * One file per behaviour sits next to this one; `../harness.ts` holds what they share.
 * Table methods may answer synchronously or with a Promise, so everything is awaited. Map
 * iteration order is not part of the contract (a SQL backend iterates by key), so maps
 * are compared order-free.
 */
import { describe } from 'vitest';
import { HashMapStateBackend } from '../../../src/backends/memory.ts';
import { useBackend, type BackendFactory, type StateBackendCapabilities } from '../harness.ts';
import { sizesFor, type StateSuite } from './context.ts';
import { enumerationCases } from './enumeration.ts';
import { errorCases } from './errors.ts';
import { foldingStateCases } from './folding.ts';
import { isolationCases } from './isolation.ts';
import { keyContextCases } from './key-context.ts';
import { listStateCases } from './list.ts';
import { mapStateCases } from './map.ts';
import { portabilityCases } from './portability.ts';
import { rescalingCases } from './rescaling.ts';
import { snapshotCases } from './snapshots.ts';
import { syncAccessCases } from './sync.ts';
import { valueStateCases } from './value.ts';
import { valueCases } from './values.ts';

export type { StateBackendCapabilities } from '../harness.ts';

/**
 * Declares the conformance suite for one state backend.
 *
 * @param name shown in the suite's name and used in job ids.
 * @param makeBackend called before every test; the suite creates keyed backends from it
 *   (one job id per test) and disposes every one of them after the test.
 * @param capabilities what the backend declares about itself; see {@link StateBackendCapabilities}.
 */
export function runStateBackendSuite(name: string, makeBackend: BackendFactory, capabilities: StateBackendCapabilities = {}): void {
  describe(`state backend conformance: ${name}`, () => {
    const h = useBackend('conformance', name, makeBackend, 'Conformance');
    const suite: StateSuite = {
      open: (o) => h.open(o),
      openReference: () => h.open({ backend: new HashMapStateBackend() }),
      ...sizesFor(capabilities),
    };
    valueStateCases(suite);
    listStateCases(suite);
    mapStateCases(suite);
    foldingStateCases(suite);
    isolationCases(suite);
    keyContextCases(suite);
    errorCases(suite);
    valueCases(suite);
    snapshotCases(suite);
    rescalingCases(suite);
    enumerationCases(suite);
    portabilityCases(suite);
    syncAccessCases(suite);
  });
}
