/**
 * What the stream calls share about user functions: the output types they infer, the check
 * of a function argument, and the naming of an operator after a function's class.
 */
import { ConfigurationError } from '../api/errors.ts';
import type { Collector } from '../api/functions.ts';
import type { GraphEdge, GraphNode, Partitioning } from '../engine/graph.ts';

/** The output type of a map function (plain or object). */
export type MapOutput<F> = F extends (value: never) => infer R ? Awaited<R> : F extends { map(value: never): infer R } ? Awaited<R> : unknown;
/** The output type of a function that emits through a `Collector<R>` argument. */
export type CollectedOutput<F, M extends string> = F extends (value: never, out: Collector<infer R>) => unknown
  ? R
  : F extends { [m in M]: (value: never, ...rest: infer A) => unknown }
    ? A extends [...unknown[], Collector<infer R>]
      ? R
      : unknown
    : unknown;

/** The kind of user function a stream call takes. */
export type FunctionKind = 'map' | 'flatMap' | 'filter' | 'process' | 'reduce' | 'sink';

/** Checks that `fn` is a function (where `allowPlain`) or an object with the method `method` names. */
export function checkFunction(fn: unknown, method: FunctionKind, allowPlain: boolean): void {
  if (typeof fn === 'function' && allowPlain) return;
  if (
    typeof fn === 'object' &&
    fn !== null &&
    typeof (fn as Record<string, unknown>)[method === 'sink' ? 'invoke' : method === 'process' ? 'processElement' : method] === 'function'
  )
    return;
  const expected = method === 'sink' ? 'invoke(value, ctx)' : method === 'process' ? 'processElement(value, ctx, out)' : `${method}(…)`;
  throw new ConfigurationError(`${method}() needs ${allowPlain ? 'a function or ' : ''}an object with ${expected}, got ${fn === null ? 'null' : typeof fn}`, {
    component: 'datastream',
  });
}

/** The class name of a function object (an instance of a user class), if it has one. */
export function className(fn: object): string | undefined {
  return fn.constructor?.name && fn.constructor !== Object ? fn.constructor.name : undefined;
}

/** Marks a stream's operator as named after `fn`'s class (see `GraphNode.nameFromClass`). */
export function classNamed<S extends object>(fn: object, stream: S): S {
  if (className(fn) !== undefined) (stream as unknown as { sources: GraphNode[] }).sources[0]!.nameFromClass = true;
  return stream;
}

/** A node seen as the producer of one of its side outputs. */
export interface SideOutputSource extends GraphNode {
  readonly sideOutput: string;
}

/** The edges from `sources` (side-output views included) with `partitioning`. */
export function edgesFrom(sources: readonly GraphNode[], partitioning: Partitioning): GraphEdge[] {
  return sources.map((s) => {
    const side = (s as SideOutputSource).sideOutput;
    return side === undefined ? { from: s.id, partitioning } : { from: s.id, partitioning, sideOutput: side };
  });
}

/** True for a function that commits on completed checkpoints (see `GraphNode.commitsOnCheckpoint`). */
export function notifies(fn: unknown): boolean {
  return typeof fn === 'object' && fn !== null && typeof (fn as { notifyCheckpointComplete?: unknown }).notifyCheckpointComplete === 'function';
}
