/**
 * eddy's one error family. Every error eddy throws on bad input or a failed job is an
 * {@link EddyError} (or a subclass) with a stable `code`, and a message that names the
 * component, operator and state involved: `[eddy] [operator:Counter] [state:count] …`.
 */

/** Stable machine-readable error codes. */
export type EddyErrorCode =
  | 'INVALID_KEY'
  | 'INVALID_ARGUMENT'
  | 'INVALID_CONFIG'
  | 'STATE_KIND_MISMATCH'
  /** A write to state that is read-only where it was used (broadcast state in `processElement`). */
  | 'STATE_READ_ONLY'
  | 'NO_KEY_CONTEXT'
  | 'STATE_NOT_RESIDENT'
  | 'UNSERIALIZABLE_VALUE'
  | 'USER_FUNCTION_FAILED'
  | 'SNAPSHOT_CORRUPT'
  | 'SNAPSHOT_INCOMPATIBLE'
  | 'BACKEND_FAILURE'
  | 'STORAGE_FAILURE'
  | 'STORAGE_LOCKED'
  | 'STORAGE_FULL'
  | 'VALUE_TOO_LARGE'
  | 'CHECKPOINT_FAILED'
  | 'JOB_FAILED'
  | 'JOB_CANCELLED'
  | 'JOB_NOT_RUNNING'
  | 'SOURCE_BUFFER_FULL'
  | 'SOURCE_FAILED';

/** Where an error happened; every field is optional and shows up in the message. */
export interface ErrorContext {
  /** The component, e.g. `backend:hashmap`, `executor:local`, `codec`. */
  component?: string;
  /** The operator's name as shown in the job graph, with the subtask index. */
  operator?: string;
  /** The state's descriptor name. */
  state?: string;
  /** The key of the record being processed, when there is one. */
  key?: unknown;
}

function describeKey(key: unknown): string {
  if (typeof key === 'string') return JSON.stringify(key);
  if (typeof key === 'bigint') return `${key}n`;
  if (Array.isArray(key)) return `[${key.map(describeKey).join(', ')}]`;
  return String(key);
}

function prefix(ctx: ErrorContext): string {
  let p = '[eddy]';
  if (ctx.component) p += ` [${ctx.component}]`;
  if (ctx.operator) p += ` [operator:${ctx.operator}]`;
  if (ctx.state) p += ` [state:${ctx.state}]`;
  if ('key' in ctx && ctx.key !== undefined) p += ` [key:${describeKey(ctx.key)}]`;
  return p;
}

/** Base class of every error eddy throws. */
export class EddyError extends Error {
  /** Stable code, safe to branch on. */
  readonly code: EddyErrorCode;
  /** Where it happened. */
  readonly context: ErrorContext;

  constructor(code: EddyErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(`${prefix(context)} ${message}`, options);
    this.name = new.target.name;
    this.code = code;
    this.context = context;
  }
}

/** A key that cannot be hashed into a key group (undefined, null, NaN, object, function …). */
export class InvalidKeyError extends EddyError {
  constructor(message: string, context: ErrorContext = {}) {
    super('INVALID_KEY', message, context);
  }
}

/** Misuse of state: wrong kind for a name, keyed state without a key, unserialisable values. */
export class StateError extends EddyError {}

/** A configuration value that cannot work (parallelism 0, parallelism above max …). */
export class ConfigurationError extends EddyError {
  constructor(message: string, context: ErrorContext = {}) {
    super('INVALID_CONFIG', message, context);
  }
}

/** A user function threw; `cause` is the original error. */
export class UserFunctionError extends EddyError {
  constructor(message: string, context: ErrorContext, cause: unknown) {
    super('USER_FUNCTION_FAILED', message, context, { cause });
  }
}

/**
 * A state backend that cannot do what was asked of its working copy: a database that
 * cannot be opened (locked by another tab, quota exceeded, corrupted file) or a write that
 * failed. The message names the state where one is involved and says what to do.
 */
export class StateBackendError extends EddyError {}

/** A snapshot that cannot be read: bad checksum, truncated, unknown version, wrong kind. */
export class SnapshotError extends EddyError {}

/** A checkpoint storage that cannot do what was asked: locked by another writer, full, failing I/O, bad path. */
export class CheckpointStorageError extends EddyError {}

/** A checkpoint that could not be completed (a part failed to write, a timeout, a decline). */
export class CheckpointError extends EddyError {}

/**
 * A durable input log that cannot do what was asked: a value that cannot be encoded
 * (`UNSERIALIZABLE_VALUE`), a log held by another writer (`STORAGE_LOCKED`), failing or
 * full storage, or a checkpointed offset the log no longer (or never) held.
 */
export class InputLogError extends EddyError {}

/**
 * A live source could not deliver its input: its bounded buffer overflowed under the
 * `onOverflow: 'fail'` policy (`SOURCE_BUFFER_FULL`), or the platform object reported an
 * error, e.g. a WebSocket's `error` event (`SOURCE_FAILED`).
 */
export class SourceError extends EddyError {}

/**
 * A sink could not write its output: a record its encoder cannot write
 * (`UNSERIALIZABLE_VALUE`), an output directory that is missing or not writable
 * (`INVALID_CONFIG`, raised when the sink opens), or failing or full storage
 * (`STORAGE_FAILURE`, `STORAGE_FULL`). The message names the sink and its subtask.
 */
export class SinkError extends EddyError {}
