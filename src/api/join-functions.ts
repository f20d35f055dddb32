/** The function of an interval join (Flink's `ProcessJoinFunction`). */
import type { Awaitable, Collector, RichFunction } from './functions.ts';
import { AbstractRichFunction } from './functions.ts';
import type { OutputTag } from './output-tag.ts';

/** Context of `ProcessJoinFunction.processElement` (Flink's `ProcessJoinFunction.Context`). */
export interface ProcessJoinContext {
  /** The timestamp of the left record of the pair. */
  getLeftTimestamp(): number;
  /** The timestamp of the right record of the pair. */
  getRightTimestamp(): number;
  /** The timestamp of the joined output: the larger of the two. */
  getTimestamp(): number;
  /** Emits `value` to the side output `tag`, with the output's timestamp. */
  output<X>(tag: OutputTag<X>, value: X): void;
}

/** Shape of a process join function: called once per joined pair. */
export interface ProcessJoinFunctionLike<IN1, IN2, OUT> extends RichFunction {
  processElement(left: IN1, right: IN2, ctx: ProcessJoinContext, out: Collector<OUT>): Awaitable<void>;
}

/** Base class of a process join function (Flink's `ProcessJoinFunction`). */
export abstract class ProcessJoinFunction<IN1, IN2, OUT> extends AbstractRichFunction implements ProcessJoinFunctionLike<IN1, IN2, OUT> {
  abstract processElement(left: IN1, right: IN2, ctx: ProcessJoinContext, out: Collector<OUT>): Awaitable<void>;
}
