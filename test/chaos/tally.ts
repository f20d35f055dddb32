/**
 * How a chaos run is judged: its committed output against the failure-free run's, as
 * multisets (a record committed twice is a duplicate, one never committed a loss), plus
 * whether it settled at all. No vitest here: `npm run chaos` uses it outside a test runner.
 */

/** The verdict of one faulted run. */
export type Outcome =
  | { readonly kind: 'identical' }
  | { readonly kind: 'duplicates' | 'losses' | 'both'; readonly duplicates: number; readonly losses: number; readonly sample: string }
  | { readonly kind: 'hang'; readonly after: number }
  | { readonly kind: 'error'; readonly message: string }
  /** The job stopped with a typed error saying why it cannot go on exactly-once (nothing wrong was committed). */
  | { readonly kind: 'refused'; readonly message: string };

/** Counts of a set of runs, by fault family, as the README's reliability table shows them. */
export interface Tally {
  faults: number;
  identical: number;
  duplicates: number;
  losses: number;
  hangs: number;
  refused: number;
  errors: number;
  /** The first few non-identical runs, to say what went wrong. */
  problems: string[];
}

/** An empty tally. */
export function newTally(): Tally {
  return { faults: 0, identical: 0, duplicates: 0, losses: 0, hangs: 0, refused: 0, errors: 0, problems: [] };
}

/** Compares `got` with `expected` as multisets of records. */
export function judge(expected: readonly string[], got: readonly string[]): Outcome {
  const counts = new Map<string, number>();
  for (const r of expected) counts.set(r, (counts.get(r) ?? 0) + 1);
  let duplicates = 0;
  let firstDuplicate: string | undefined;
  for (const r of got) {
    const n = counts.get(r) ?? 0;
    if (n === 0) {
      duplicates++;
      firstDuplicate ??= r;
    } else counts.set(r, n - 1);
  }
  let losses = 0;
  let firstLoss: string | undefined;
  for (const [r, n] of counts) {
    if (n > 0) firstLoss ??= r;
    losses += n;
  }
  if (duplicates === 0 && losses === 0) return { kind: 'identical' };
  const kind = duplicates > 0 && losses > 0 ? 'both' : duplicates > 0 ? 'duplicates' : 'losses';
  return { kind, duplicates, losses, sample: `extra ${JSON.stringify(firstDuplicate)}, missing ${JSON.stringify(firstLoss)}` };
}

/** Adds one run's outcome (caused by `faults` injected faults) to `tally`. */
export function record(tally: Tally, name: string, faults: number, outcome: Outcome): void {
  tally.faults += faults;
  switch (outcome.kind) {
    case 'identical':
      tally.identical++;
      return;
    case 'hang':
      tally.hangs++;
      break;
    case 'error':
      tally.errors++;
      break;
    case 'refused':
      tally.refused++;
      break;
    default:
      if (outcome.duplicates > 0) tally.duplicates++;
      if (outcome.losses > 0) tally.losses++;
  }
  if (tally.problems.length < 10) tally.problems.push(`${name}: ${JSON.stringify(outcome)}`);
}

/** Adds `b` into `a`. */
export function merge(a: Tally, b: Tally): Tally {
  return {
    faults: a.faults + b.faults,
    identical: a.identical + b.identical,
    duplicates: a.duplicates + b.duplicates,
    losses: a.losses + b.losses,
    hangs: a.hangs + b.hangs,
    refused: a.refused + b.refused,
    errors: a.errors + b.errors,
    problems: [...a.problems, ...b.problems].slice(0, 20),
  };
}

/**
 * The outcome of a run that failed with `error`: a refusal when the job itself declined to
 * restore (`SNAPSHOT_CORRUPT` from the `job` component: no retained checkpoint can be read,
 * or the readable one would repeat committed output); any other error is one.
 */
export function failed(error: unknown): Outcome {
  const message = String((error as Error)?.message ?? error);
  const e = error as { code?: unknown; context?: { component?: unknown } };
  if (e?.code === 'SNAPSHOT_CORRUPT' && e.context?.component === 'job') return { kind: 'refused', message };
  return { kind: 'error', message };
}

/** Runs `work`, or gives up after `ms`: a run that does not settle in time is a hang. */
export async function settleWithin<T>(ms: number, work: () => Promise<T>): Promise<{ value: T } | { hang: true } | { error: unknown }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<{ hang: true }>((resolve) => {
    timer = setTimeout(() => resolve({ hang: true }), ms);
  });
  try {
    return await Promise.race([
      work().then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      hang,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
