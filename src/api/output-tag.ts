/**
 * Side outputs (Flink's `OutputTag`): a process-style function emits records of any type
 * to a named side output with `ctx.output(tag, value)`, next to its main output; the
 * records are read with `stream.getSideOutput(tag)`. As in Flink a tag is identified by
 * its id alone: two tags with the same id name the same side output.
 */
import { ConfigurationError } from './errors.ts';

/** Names a side output of type `T` (Flink's `OutputTag`). */
export class OutputTag<T> {
  /** Only for type inference of `getSideOutput`; never set. */
  declare readonly __type?: T;

  /** `id` identifies the side output: it must be a non-empty string. */
  constructor(readonly id: string) {
    if (typeof id !== 'string' || id.length === 0) {
      throw new ConfigurationError(`an OutputTag needs a non-empty string id, got ${id === '' ? 'an empty string' : typeof id}`, { component: 'datastream' });
    }
  }

  /** Tags are equal when their ids are (as in Flink). */
  equals(other: unknown): boolean {
    return other instanceof OutputTag && other.id === this.id;
  }

  toString(): string {
    return `OutputTag(${this.id})`;
  }
}

/** Checks that what a function passed to `ctx.output` is a tag. */
export function checkOutputTag(tag: unknown, operator: string): asserts tag is OutputTag<unknown> {
  // By shape, not class: a worker's bundle may hold another copy of the class.
  if (tag === null || typeof tag !== 'object' || typeof (tag as OutputTag<unknown>).id !== 'string') {
    throw new ConfigurationError(`output() needs an OutputTag as its first argument, got ${tag === null ? 'null' : typeof tag}`, { operator });
  }
}
