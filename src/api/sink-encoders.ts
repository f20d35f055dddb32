/**
 * Encoders of row-format file sinks (Flink's `Encoder`): how one record becomes the bytes
 * appended to a part file. The default writes JSON Lines: it round-trips strings, numbers
 * and plain objects, and a string holding a newline cannot split one record into two lines
 * (which `String(record)` per line would).
 */

/**
 * Turns one record into the bytes a part file gets for it, delimiter included (a string
 * is written as UTF-8). It may throw for a record it cannot write; the sink then fails
 * with an `UNSERIALIZABLE_VALUE` error naming the sink and subtask.
 */
export type RecordEncoder<T> = (record: T) => string | Uint8Array;

/** The default encoder: `JSON.stringify(record)` and a `\n` (JSON Lines). `undefined`, functions, symbols, BigInts and cycles are refused. */
export function jsonLinesEncoder<T>(record: T): string {
  const json = JSON.stringify(record);
  if (typeof json !== 'string') throw new TypeError(`JSON cannot represent a ${typeof record}`);
  return `${json}\n`;
}

/** Flink's `SimpleStringEncoder`: `String(record)` and a `\n`; a record holding a newline becomes several lines. */
export function simpleStringEncoder<T>(record: T): string {
  return `${String(record)}\n`;
}
