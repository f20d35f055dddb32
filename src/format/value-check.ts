/**
 * Whether a value can be stored as state, by the rules the encoding applies (the same
 * walk, see `value-walk.ts`), without producing bytes.
 */
import { Problem, ValueWalk, badPrimitive, problemMessage } from './value-walk.ts';

/** A walk that produces nothing: only the walk's own refusals matter. */
class Checker extends ValueWalk<void, void> {
  run(v: object): void {
    this.visit(v, 0);
  }

  protected override primitive(): void {}
  protected override leaf(): void {}
  protected override open(): void {}
  protected override element(): void {}
  protected override propertyKey(): void {}
  protected override property(): void {}
  protected override entry(): void {}
  protected override member(): void {}
  protected override close(): void {}
}

/**
 * Whether `v` can be stored as state, without producing bytes.
 * @returns `undefined` if it can, else the message `encodeValue` would throw with.
 */
export function unserializableProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) {
    return typeof v === 'function' || typeof v === 'symbol' ? problemMessage(badPrimitive(v)) : undefined;
  }
  try {
    new Checker().run(v);
    return undefined;
  } catch (e) {
    if (e instanceof Problem) return problemMessage(e);
    throw e;
  }
}
