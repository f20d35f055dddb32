/**
 * Job metrics (Flink's operator and task metrics, by Flink's names): plain counters that
 * the task bumps once per batch, never per record, and a view that turns two samples of
 * them into per-second rates. Samples are cumulative and taken where the subtask runs (in
 * a worker for the WorkerExecutor); rates are computed where the samples are read.
 */

/** The counters of one operator subtask, owned by its chain member. */
export class SubtaskCounters {
  /** Records that entered the operator. */
  recordsIn = 0;
  /** Records the operator emitted (main and side outputs). */
  recordsOut = 0;
  /** The last watermark the operator received (`Number.MIN_SAFE_INTEGER` before any). */
  inputWatermark = Number.MIN_SAFE_INTEGER;
  /** When the counters started (the attempt's deployment): the base of the first rates. */
  readonly startedAt = Date.now();

  constructor(
    readonly operatorId: string,
    readonly operatorName: string,
    readonly uid: string | undefined,
    readonly subtaskIndex: number,
    readonly parallelism: number,
    /** Shared by every operator of the task: the chain waits for its outputs as one. */
    readonly backPressure: BackPressureMeter,
  ) {}
}

/**
 * Time a task spent waiting for room in its output channels (Flink's
 * `backPressuredTimeMsPerSecond` before it is divided by the elapsed time).
 */
export class BackPressureMeter {
  /** Total ms spent waiting, up to the last wait that ended. */
  waitedMs = 0;
  /** When the wait under way started (undefined: not waiting). */
  since: number | undefined = undefined;

  /** Awaits `put` (a send that waits while the consumer has no room) and adds the wait to the total. */
  async measure(put: Promise<void>): Promise<void> {
    const start = Date.now();
    this.since = start;
    try {
      await put;
    } finally {
      this.since = undefined;
      this.waitedMs += Date.now() - start;
    }
  }

  /** The total including a wait under way, at `now`. */
  totalAt(now: number): number {
    return this.since === undefined ? this.waitedMs : this.waitedMs + (now - this.since);
  }
}

/** A wait for output room at least this long at sampling time counts as back-pressure now. */
const BACK_PRESSURED_AFTER_MS = 1;

/** A cumulative sample of one operator subtask, as it crosses from a worker. */
export interface SubtaskSample {
  readonly operatorId: string;
  readonly operatorName: string;
  readonly uid?: string;
  readonly subtaskIndex: number;
  readonly parallelism: number;
  readonly worker?: number;
  readonly numRecordsIn: number;
  readonly numRecordsOut: number;
  readonly currentInputWatermark: number;
  /** Cumulative ms waited for output room. */
  readonly backPressuredMs: number;
  /** Waiting for output room right now. */
  readonly backPressuredNow: boolean;
  /** When the counters started (ms since the epoch). */
  readonly startedAt: number;
}

/** Samples every counter of a set of subtasks at `now`. */
export function sampleCounters(counters: Iterable<SubtaskCounters>, now: number, worker?: number): SubtaskSample[] {
  const out: SubtaskSample[] = [];
  for (const c of counters) {
    const meter = c.backPressure;
    out.push({
      operatorId: c.operatorId,
      operatorName: c.operatorName,
      uid: c.uid,
      subtaskIndex: c.subtaskIndex,
      parallelism: c.parallelism,
      worker,
      numRecordsIn: c.recordsIn,
      numRecordsOut: c.recordsOut,
      currentInputWatermark: c.inputWatermark,
      backPressuredMs: meter.totalAt(now),
      backPressuredNow: meter.since !== undefined && now - meter.since >= BACK_PRESSURED_AFTER_MS,
      startedAt: c.startedAt,
    });
  }
  return out;
}

/** The metrics of one operator subtask of a running job (Flink's metric names). */
export interface OperatorMetrics {
  readonly operatorId: string;
  readonly operatorName: string;
  /** The operator's `uid()`, when it was given one. */
  readonly uid?: string;
  readonly subtaskIndex: number;
  readonly parallelism: number;
  /** Index of the worker that hosts the subtask (WorkerExecutor only). */
  readonly worker?: number;
  /** Records that entered the operator in the current attempt. */
  readonly numRecordsIn: number;
  /** Records the operator emitted in the current attempt (main and side outputs). */
  readonly numRecordsOut: number;
  /** Rate over the span since the newest earlier sample at least a second older (else the oldest kept, or the attempt's start). */
  readonly numRecordsInPerSecond: number;
  readonly numRecordsOutPerSecond: number;
  /** The last watermark the operator received; `Number.MIN_SAFE_INTEGER` before any (sources: always). */
  readonly currentInputWatermark: number;
  /** The subtask waits for room in an output channel right now (a slow consumer). */
  readonly isBackPressured: boolean;
  /** Of every second, how many ms the subtask waited for output room (0 to 1000). */
  readonly backPressuredTimeMsPerSecond: number;
  /** Not measured yet: reading it would cost a walk over the state. */
  readonly stateSizeBytes?: number;
}

/** A sample of every operator subtask of a running job. */
export interface JobMetrics {
  /** When it was sampled (ms since the epoch). */
  readonly timestamp: number;
  /** One entry per operator subtask, by operator in graph order, then subtask. */
  readonly operators: OperatorMetrics[];
}

/** Rates are taken over at least this span when the samples allow it. */
const RATE_WINDOW_MS = 1000;

interface Point {
  readonly at: number;
  readonly in: number;
  readonly out: number;
  readonly backPressured: number;
}

/**
 * Turns cumulative samples into {@link JobMetrics}: each rate over the span since the
 * newest earlier sample at least {@link RATE_WINDOW_MS} older (else the oldest one kept;
 * 0 on the first sample). A counter that went down belongs to a new attempt (a restart):
 * the history of that subtask starts over.
 */
export class MetricsView {
  private readonly history = new Map<string, Point[]>();

  /** Metrics for `samples` taken at `now`. */
  compute(samples: readonly SubtaskSample[], now: number): JobMetrics {
    const operators: OperatorMetrics[] = [];
    for (const s of samples) {
      const id = `${s.operatorId}/${s.subtaskIndex}`;
      let points = this.history.get(id) ?? [];
      const last = points[points.length - 1];
      if (last !== undefined && (s.numRecordsIn < last.in || s.numRecordsOut < last.out)) points = [];
      // The first sample of an attempt rates from its start, when every counter was 0.
      let base: Point = points[0] ?? { at: Math.min(s.startedAt, now), in: 0, out: 0, backPressured: 0 };
      for (let i = points.length - 1; i >= 0; i--) {
        if (now - points[i].at >= RATE_WINDOW_MS) {
          base = points[i];
          points = points.slice(i);
          break;
        }
      }
      points.push({ at: now, in: s.numRecordsIn, out: s.numRecordsOut, backPressured: s.backPressuredMs });
      // Bounded: with frequent sampling, drop the middle, which no later rate needs more than its neighbours.
      if (points.length > 16) points.splice(1, points.length - 16);
      this.history.set(id, points);
      const span = now - base.at;
      const rate = (a: number, b: number) => (span > 0 ? ((a - b) * 1000) / span : 0);
      operators.push({
        operatorId: s.operatorId,
        operatorName: s.operatorName,
        ...(s.uid !== undefined ? { uid: s.uid } : {}),
        subtaskIndex: s.subtaskIndex,
        parallelism: s.parallelism,
        ...(s.worker !== undefined ? { worker: s.worker } : {}),
        numRecordsIn: s.numRecordsIn,
        numRecordsOut: s.numRecordsOut,
        numRecordsInPerSecond: rate(s.numRecordsIn, base.in),
        numRecordsOutPerSecond: rate(s.numRecordsOut, base.out),
        currentInputWatermark: s.currentInputWatermark,
        isBackPressured: s.backPressuredNow,
        backPressuredTimeMsPerSecond: Math.min(1000, Math.max(0, rate(s.backPressuredMs, base.backPressured))),
      });
    }
    return { timestamp: now, operators };
  }
}
