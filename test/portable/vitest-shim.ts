/**
 * A stand-in for the `vitest` module where vitest cannot run: in workerd (an esbuild alias
 * maps `vitest` here) and under `deno test` (an import map does). The conformance suites
 * import `describe`, `it`, `beforeEach`, `afterEach` and `expect` from `vitest`; this module
 * gives them exactly those, so the suites run unchanged.
 *
 * `expect` is vitest's own: `@vitest/expect`'s Jest matchers as a chai plugin, wired as
 * vitest wires them (minus snapshots and `expect.poll`, which no suite uses). `describe`/`it`
 * only collect; {@link collectCases} (a suite's definition) and {@link collectFile} (a whole
 * vitest test file) return the cases in declaration order, and {@link runCase}/{@link runCases}
 * run them with their hooks. What the suites do not use is
 * left out on purpose (`beforeAll`, `it.only`, `it.each`, `describe.skip`, …): a suite that
 * starts using one fails to build or to load instead of being silently mis-run.
 */
import { chai, type ExpectStatic, GLOBAL_EXPECT, getState, JestAsymmetricMatchers, JestChaiExpect, JestExtend, setState } from '@vitest/expect';

/** What vitest hands a test function; the suites use `skip(condition, note)`. */
export interface PortableTestContext {
  readonly task: { readonly name: string };
  readonly expect: typeof expect;
  /** Ends the test as skipped (with a note), or does nothing when `condition` is false. */
  skip(condition?: boolean | string, note?: string): void;
}

type Fn = (context: PortableTestContext) => unknown;
type Hook = () => unknown;

/** Thrown by `context.skip()` to end a test as skipped; never a failure. */
class SkipSignal extends Error {}

interface Scope {
  readonly name: string;
  readonly parent: Scope | undefined;
  readonly beforeEach: Hook[];
  readonly afterEach: Hook[];
}

/** One collected test: its names from the outermost `describe` down, and how to run it. */
export interface PortableCase {
  /** `describe` names and the test name, joined by ` > ` (as vitest prints them). */
  readonly name: string;
  /** Why it is skipped (`it.skip`, `it.skipIf`), or undefined when it runs (it may still skip itself: `context.skip`). */
  readonly skip: string | undefined;
  /** The test's own timeout, when it gave one. */
  readonly timeoutMs: number | undefined;
  readonly fn: Fn;
  readonly scope: Scope;
}

/** What running one case gave. */
export interface CaseResult {
  readonly name: string;
  readonly status: 'passed' | 'failed' | 'skipped';
  /** The first failure (test body or hook), with its message and the top of its stack; for a skip, why. */
  readonly error?: string;
  readonly ms: number;
}

let current: Scope | undefined;
let collected: PortableCase[] | undefined;

function scopeOrThrow(what: string): Scope {
  if (current === undefined || collected === undefined) throw new Error(`${what} is only allowed while collectCases() runs a suite's definition`);
  return current;
}

/** Groups tests; the body runs at once (collection is synchronous, as in vitest). */
export function describe(name: string, body: () => void): void {
  const parent = scopeOrThrow('describe()');
  current = { name, parent, beforeEach: [], afterEach: [] };
  try {
    const r = body() as unknown;
    if (r !== undefined && typeof (r as PromiseLike<unknown>).then === 'function')
      throw new Error(`describe('${name}') got an async body; collection is synchronous`);
  } finally {
    current = parent;
  }
}

type TestOptions = number | { timeout?: number };

function fullName(scope: Scope, name: string): string {
  const names = [name];
  for (let s: Scope | undefined = scope; s?.parent !== undefined; s = s.parent) names.unshift(s.name);
  return names.join(' > ');
}

/** vitest takes `(name, fn, options?)` and `(name, options, fn)`. */
function add(name: string, a: Fn | TestOptions, b: Fn | TestOptions | undefined, skip: string | undefined): void {
  const scope = scopeOrThrow('it()');
  const [fn, options] = typeof a === 'function' ? [a, b as TestOptions | undefined] : [b as Fn, a];
  if (typeof fn !== 'function') throw new Error(`it('${name}') has no test function`);
  const timeoutMs = typeof options === 'number' ? options : options?.timeout;
  collected!.push({ name: fullName(scope, name), skip, timeoutMs, fn, scope });
}

/** Declares a test; `it.skip` and `it.skipIf(condition)` as in vitest. */
export const it = Object.assign((name: string, a: Fn | TestOptions, b?: Fn | TestOptions): void => add(name, a, b, undefined), {
  skip: (name: string, a: Fn | TestOptions, b?: Fn | TestOptions): void => add(name, a, b, 'it.skip'),
  skipIf:
    (condition: unknown) =>
    (name: string, a: Fn | TestOptions, b?: Fn | TestOptions): void =>
      add(name, a, b, condition ? 'it.skipIf(true)' : undefined),
});

/** vitest's alias of {@link it}. */
export const test = it;

/** Runs before every test of the enclosing `describe` (outer hooks first); a returned function runs after the test. */
export function beforeEach(hook: Hook): void {
  scopeOrThrow('beforeEach()').beforeEach.push(hook);
}

/** Runs after every test of the enclosing `describe`, inner hooks first (vitest's default 'stack' order). */
export function afterEach(hook: Hook): void {
  scopeOrThrow('afterEach()').afterEach.unshift(hook);
}

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(JestAsymmetricMatchers);

/** vitest's `expect`: chai's with the Jest matchers of `@vitest/expect`. */
export const expect = Object.assign((value: unknown, message?: string) => {
  const { assertionCalls } = getState(expect);
  setState({ assertionCalls: assertionCalls + 1 }, expect);
  return chai.expect(value, message);
}, chai.expect) as unknown as ExpectStatic;
setState({ assertionCalls: 0, isExpectingAssertions: false, expectedAssertionsNumber: null, currentTestName: '' }, expect);
// Matchers read the global expect's state; under vitest itself (the runner's own test) vitest's stays.
(globalThis as Record<symbol, unknown>)[GLOBAL_EXPECT] ??= expect;

/** Runs `define` (which calls `describe`/`it`) and returns the tests it declared, in order. */
export function collectCases(define: () => void): PortableCase[] {
  if (collected !== undefined) throw new Error('collectCases() does not nest');
  collected = [];
  current = { name: '', parent: undefined, beforeEach: [], afterEach: [] };
  try {
    define();
    return collected;
  } finally {
    collected = undefined;
    current = undefined;
  }
}

/**
 * Like {@link collectCases} for a whole vitest test file, whose top-level `describe`/`it`/hooks
 * run when the module is first evaluated: `collectFile(() => import('./x.test.ts'))`. Nothing
 * else may declare tests while the import is awaited.
 */
export async function collectFile(load: () => Promise<unknown>): Promise<PortableCase[]> {
  if (collected !== undefined) throw new Error('collectFile() does not nest');
  const cases: PortableCase[] = [];
  collected = cases;
  current = { name: '', parent: undefined, beforeEach: [], afterEach: [] };
  try {
    await load();
    return cases;
  } finally {
    collected = undefined;
    current = undefined;
  }
}

function describeError(e: unknown): string {
  if (e instanceof Error) {
    const stack = (e.stack ?? '').split('\n').slice(1, 6).join('\n');
    return `${e.name}: ${e.message}${stack ? `\n${stack}` : ''}`;
  }
  return String(e);
}

async function withTimeout(fn: () => unknown, ms: number, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    await Promise.race([Promise.resolve().then(() => fn()), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs one case as vitest does: `beforeEach` hooks from the outermost `describe` in, the
 * test (unless a hook failed), then cleanups returned by `beforeEach` and `afterEach` hooks
 * from the innermost out, even after a failure. The first failure is the case's error.
 */
export async function runCase(c: PortableCase, defaultTimeoutMs = 30_000): Promise<CaseResult> {
  const started = Date.now();
  if (c.skip !== undefined) return { name: c.name, status: 'skipped', error: c.skip, ms: 0 };
  const chain: Scope[] = [];
  for (let s: Scope | undefined = c.scope; s !== undefined; s = s.parent) chain.unshift(s);
  const timeoutMs = c.timeoutMs ?? defaultTimeoutMs;
  setState({ assertionCalls: 0, currentTestName: c.name }, expect);
  let error: unknown;
  let failed = false;
  let skipped: string | undefined;
  const context: PortableTestContext = {
    task: { name: c.name },
    expect,
    skip(condition?: boolean | string, note?: string) {
      if (typeof condition === 'boolean' && !condition) return;
      throw new SkipSignal(typeof condition === 'string' ? condition : (note ?? 'context.skip()'));
    },
  };
  const cleanups: Hook[] = [];
  const attempt = async (fn: Fn, what: string): Promise<unknown> => {
    try {
      let returned: unknown;
      await withTimeout(
        async () => {
          returned = await fn(context);
        },
        timeoutMs,
        what,
      );
      return returned;
    } catch (e) {
      if (e instanceof SkipSignal && what === 'test') skipped = e.message;
      else if (!failed) [failed, error] = [true, e];
      return undefined;
    }
  };
  for (const scope of chain) {
    for (const hook of scope.beforeEach) {
      if (failed) break;
      const cleanup = await attempt(hook, 'beforeEach hook');
      if (typeof cleanup === 'function') cleanups.unshift(cleanup as Hook);
    }
  }
  if (!failed) await attempt(c.fn, 'test');
  for (const cleanup of cleanups) await attempt(cleanup, 'beforeEach cleanup');
  for (const scope of chain.reverse()) for (const hook of scope.afterEach) await attempt(hook, 'afterEach hook');
  const ms = Date.now() - started;
  if (!failed && skipped !== undefined) return { name: c.name, status: 'skipped', error: skipped, ms };
  return failed ? { name: c.name, status: 'failed', error: describeError(error), ms } : { name: c.name, status: 'passed', ms };
}

/** Runs cases one after another (as vitest runs one file), reporting each result as it comes. */
export async function runCases(cases: readonly PortableCase[], onResult?: (r: CaseResult) => void, defaultTimeoutMs?: number): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const c of cases) {
    const r = await runCase(c, defaultTimeoutMs);
    results.push(r);
    onResult?.(r);
  }
  return results;
}
