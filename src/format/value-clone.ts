/**
 * Deep copies of state values by the encoding's rules (the same walk, see
 * `value-walk.ts`), without going through bytes.
 */
import { T_ARRAY, T_ARRAYBUFFER, T_DATAVIEW, T_DATE, T_MAP, T_OBJECT, T_SET, T_TYPED_FIRST, T_UINT8, TYPED, copyBytes, setProperty } from './value-kinds.ts';
import { Problem, ValueWalk, badPrimitive, toStateError, type Primitive } from './value-walk.ts';

type Container = unknown[] | Record<string, unknown> | Map<unknown, unknown> | Set<unknown>;

/** A walk that builds the copy; a container's box is its copy, filled as the walk goes. */
class Cloner extends ValueWalk<unknown, Container> {
  run(v: object): unknown {
    return this.visit(v, 0);
  }

  protected override primitive(v: Primitive): unknown {
    return v;
  }

  protected override leaf(o: object, kind: number): unknown {
    switch (kind) {
      case T_DATE:
        return new Date((o as Date).getTime());
      case T_ARRAYBUFFER:
        return (o as ArrayBuffer).slice(0);
      case T_UINT8:
        return copyBytes(o as ArrayBufferView);
      case T_DATAVIEW:
        return new DataView(copyBytes(o as ArrayBufferView).buffer);
    }
    // Same platform, same byte order: the elements' bytes copy as they are.
    const Ctor = TYPED[kind - T_TYPED_FIRST]!;
    const view = o as ArrayBufferView;
    return new Ctor(copyBytes(view).buffer, 0, view.byteLength / Ctor.BYTES_PER_ELEMENT);
  }

  protected override open(_o: object, kind: number): Container {
    if (kind === T_ARRAY) return [];
    if (kind === T_OBJECT) return {};
    if (kind === T_MAP) return new Map();
    return kind === T_SET ? new Set() : (Object.create(null) as Record<string, unknown>);
  }

  protected override element(box: Container, v: unknown): void {
    (box as unknown[]).push(v);
  }

  protected override propertyKey(): void {}

  protected override property(box: Container, key: string, v: unknown): void {
    setProperty(box as Record<string, unknown>, key, v);
  }

  protected override entry(box: Container, k: unknown, v: unknown): void {
    (box as Map<unknown, unknown>).set(k, v);
  }

  protected override member(box: Container, v: unknown): void {
    (box as Set<unknown>).add(v);
  }

  protected override close(box: Container): unknown {
    return box;
  }
}

/**
 * A deep copy of `v` by the encoding's rules (so `cloneValue(v)` equals
 * `deserializeValue(serializeValue(v))`): holes become undefined, subclasses of built-ins
 * become the built-in, shared references are copied separately. Primitives are returned
 * as they are. Throws `StateError` (`UNSERIALIZABLE_VALUE`) like `encodeValue`.
 */
export function cloneValue<T>(v: T): T {
  if (typeof v !== 'object' || v === null) {
    if (typeof v === 'function' || typeof v === 'symbol') throw toStateError(badPrimitive(v));
    return v;
  }
  try {
    return new Cloner().run(v) as T;
  } catch (e) {
    throw e instanceof Problem ? toStateError(e) : e;
  }
}
