/**
 * The sink behind `DataStream.print()` / `printToErr()` (Flink's `PrintSink`): one line per
 * record on the console, prefixed like Flink's `identifier:subtask> ` (the subtask, 1-based,
 * only when the sink runs in more than one subtask; the identifier only when given).
 */
import type { Sink, SinkInitContext, SinkWriter } from '../../api/functions.ts';

/** Where printed lines go; the console's `log` or `error`. */
type PrintTarget = 'stdout' | 'stderr';

/** Prints every record as a line: strings as they are, other values as JSON where they have one, else `String(value)`. */
export class PrintSink<T> implements Sink<T> {
  constructor(
    private readonly target: PrintTarget,
    private readonly identifier?: string,
  ) {}

  createWriter(ctx: SinkInitContext): SinkWriter<T> {
    const subtask = ctx.getNumberOfParallelSubtasks() > 1 ? String(ctx.getSubtaskId() + 1) : '';
    const id = this.identifier ?? '';
    const prefix = id !== '' && subtask !== '' ? `${id}:${subtask}> ` : id !== '' || subtask !== '' ? `${id}${subtask}> ` : '';
    const print = this.target === 'stderr' ? (line: string) => console.error(line) : (line: string) => console.log(line);
    return {
      write(record) {
        print(prefix + formatRecord(record));
      },
    };
  }
}

/** A record as one printed line. */
export function formatRecord(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v !== 'object' || v === null) return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
