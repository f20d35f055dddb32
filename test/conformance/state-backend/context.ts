/**
 * What every behaviour file of the state-backend suite is given: keyed backends of the
 * backend under test (and of the reference backend), and the sizes of the large cases.
 */
import type { OpenOptions, StateBackendCapabilities, Subtask } from '../harness.ts';

/** The suite's view of the backend under test, handed to each behaviour's cases. */
export interface StateSuite {
  /** A keyed backend of the backend under test (or of `o.backend`); a fresh operator unless `o.operatorId` is given. */
  open(o?: OpenOptions): Promise<Subtask>;
  /** A keyed backend of the reference HashMapStateBackend, in the same job. */
  openReference(): Promise<Subtask>;
  /** Keys of the many-keys case. */
  readonly N_KEYS: number;
  /** String keys of the fixture (besides the typed keys). */
  readonly N_FIXTURE: number;
  /** Elements of the long-list case. */
  readonly N_LIST: number;
  /** Entries of the wide-map case. */
  readonly N_MAP: number;
  /** Appended to the names of cases whose sizes shrank (empty when they did not). */
  readonly reduced: string;
  /** The backend offers synchronous access (see `StateBackendCapabilities.noSyncAccess`). */
  readonly syncAccess: boolean;
}

/** The sizes of the large cases for a backend's capabilities. */
export function sizesFor(capabilities: StateBackendCapabilities): Pick<StateSuite, 'N_KEYS' | 'N_FIXTURE' | 'N_LIST' | 'N_MAP' | 'reduced' | 'syncAccess'> {
  const slow = capabilities.slow === true;
  return {
    syncAccess: capabilities.noSyncAccess !== true,
    reduced: slow ? ' (sizes reduced tenfold: the backend declares itself slow)' : '',
    N_KEYS: slow ? 200 : 2_000,
    N_FIXTURE: slow ? 30 : 300,
    N_LIST: slow ? 10_000 : 100_000,
    N_MAP: slow ? 1_000 : 10_000,
  };
}
