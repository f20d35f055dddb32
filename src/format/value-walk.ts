/**
 * One walk over a state value, shared by encoding, checking and cloning: it decides what
 * is a value (by `kindOf`), visits the children of every container kind, refuses cycles
 * and deep nesting, and names the path of whatever it refuses. What a walk produces is
 * left to the hooks of a subclass, so each container kind (the Map with its keys and
 * values above all) is traversed in exactly one place.
 */
import { StateError } from '../api/errors.ts';
import { BAD_SYMBOL_KEYS, MAX_DEPTH, RULE, T_ARRAY, T_MAP, T_OBJECT, T_NULL_OBJECT, T_SET, kindOf } from './value-kinds.ts';

/** A failure deep inside a value; segments are collected while the stack unwinds. */
export class Problem {
  /** Path segments, innermost first. */
  readonly segments: string[] = [];
  constructor(
    /** What the value is, e.g. `a function`. */
    readonly what: string,
    /** For cycles: depth of the ancestor the value points back to. */
    readonly cycleTarget = -1,
  ) {}
}

function at(e: unknown, segment: string): unknown {
  if (e instanceof Problem) e.segments.push(segment);
  return e;
}

function joinPath(segs: readonly string[]): string {
  // Paths of very deep values would drown the message; the ends are what help.
  if (segs.length > 24) return '$' + segs.slice(0, 12).join('') + '…' + segs.slice(-8).join('');
  return '$' + segs.join('');
}

/** The message for a refused value, e.g. `value at $.a[2] is a function; state values must …`. */
export function problemMessage(p: Problem): string {
  const segs = p.segments.slice().reverse();
  const what = p.cycleTarget >= 0 ? `a cyclic reference to ${joinPath(segs.slice(0, p.cycleTarget))}` : p.what;
  return `value at ${joinPath(segs)} is ${what}; ${RULE}`;
}

/** The `UNSERIALIZABLE_VALUE` error for a refused value. */
export function toStateError(p: Problem): StateError {
  return new StateError('UNSERIALIZABLE_VALUE', problemMessage(p), { component: 'codec' });
}

/** The problem of a function or symbol, the primitives that are not values. */
export function badPrimitive(v: unknown): Problem {
  return new Problem(typeof v === 'function' ? 'a function' : 'a symbol');
}

function badObject(o: object, kind: number): Problem {
  if (kind === BAD_SYMBOL_KEYS) return new Problem('an object with symbol keys');
  const proto = Object.getPrototypeOf(o) as { constructor?: unknown } | null;
  const ctor = proto?.constructor;
  return new Problem(typeof ctor === 'function' && ctor.name ? `an instance of ${ctor.name}` : 'an object with a non-standard prototype');
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function propSegment(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function mapValueSegment(key: unknown, index: number): string {
  switch (typeof key) {
    case 'string':
      return `.get(${JSON.stringify(key)})`;
    case 'number':
    case 'boolean':
    case 'undefined':
      return `.get(${String(key)})`;
    case 'bigint':
      return `.get(${key}n)`;
  }
  return key === null ? '.get(null)' : `.values()[${index}]`;
}

/** A value that is not an object: what the `primitive` hook receives. */
export type Primitive = undefined | null | boolean | number | string | bigint;

/**
 * One walk over one value. Create one per walk: it holds the containers on the path from
 * the root to the value being visited, so walks started from inside another (a getter
 * that serialises) do not disturb each other. Hooks run in value order; the methods throw
 * {@link Problem} for anything that is not a value.
 */
export abstract class ValueWalk<Out, Box> {
  // Scanning is linear in the depth, which for real state values is a handful.
  private readonly ancestors: Array<object | undefined> = [];

  /** A primitive value (functions and symbols never get here). */
  protected abstract primitive(v: Primitive): Out;
  /** A value without children: Date, ArrayBuffer, DataView, typed arrays; `kind` is its tag. */
  protected abstract leaf(o: object, kind: number): Out;
  /** A container starts: `size` elements or entries, `keys` for a plain or null-prototype object. */
  protected abstract open(o: object, kind: number, size: number, keys: readonly string[] | undefined): Box;
  /** An array element, walked. */
  protected abstract element(box: Box, v: Out): void;
  /** An object property's key, before its value is walked. */
  protected abstract propertyKey(box: Box, key: string): void;
  /** An object property, its value walked. */
  protected abstract property(box: Box, key: string, v: Out): void;
  /** A Map entry, its key walked, then its value. */
  protected abstract entry(box: Box, k: Out, v: Out): void;
  /** A Set member, walked. */
  protected abstract member(box: Box, v: Out): void;
  /** The container is complete. */
  protected abstract close(box: Box): Out;

  /** Walks `v` and its children at nesting `depth` (0 for the root). */
  protected visit(v: unknown, depth: number): Out {
    if (typeof v !== 'object') {
      if (typeof v === 'function' || typeof v === 'symbol') throw badPrimitive(v);
      return this.primitive(v as Primitive);
    }
    if (v === null) return this.primitive(v);
    const kind = kindOf(v);
    if (kind < 0) throw badObject(v, kind);
    if (kind < T_ARRAY || kind > T_SET) return this.leaf(v, kind);
    if (depth >= MAX_DEPTH) throw new Problem(`nested more than ${MAX_DEPTH} levels deep`);
    const ancestors = this.ancestors;
    for (let i = 0; i < depth; i++) if (ancestors[i] === v) throw new Problem('', i);
    ancestors[depth] = v;
    const out = this.container(v, kind, depth + 1);
    // Forget the container so a finished walk keeps nothing alive.
    ancestors[depth] = undefined;
    return out;
  }

  private container(o: object, kind: number, depth: number): Out {
    if (kind === T_ARRAY) {
      const a = o as unknown[];
      const n = a.length;
      const box = this.open(o, kind, n, undefined);
      let i = 0;
      try {
        for (; i < n; i++) this.element(box, this.visit(a[i], depth));
      } catch (e) {
        throw at(e, `[${i}]`);
      }
      return this.close(box);
    }
    if (kind === T_OBJECT || kind === T_NULL_OBJECT) {
      const keys = Object.keys(o);
      const box = this.open(o, kind, keys.length, keys);
      let i = 0;
      try {
        for (; i < keys.length; i++) {
          const k = keys[i]!;
          this.propertyKey(box, k);
          this.property(box, k, this.visit((o as Record<string, unknown>)[k], depth));
        }
      } catch (e) {
        throw at(e, propSegment(keys[i]!));
      }
      return this.close(box);
    }
    if (kind === T_MAP) {
      const m = o as Map<unknown, unknown>;
      const box = this.open(o, kind, m.size, undefined);
      let index = 0;
      let inKey = true;
      let key: unknown;
      try {
        for (const [k, v] of m) {
          key = k;
          inKey = true;
          const walkedKey = this.visit(k, depth);
          inKey = false;
          this.entry(box, walkedKey, this.visit(v, depth));
          index++;
        }
      } catch (e) {
        throw at(e, inKey ? `.keys()[${index}]` : mapValueSegment(key, index));
      }
      return this.close(box);
    }
    const s = o as Set<unknown>;
    const box = this.open(o, kind, s.size, undefined);
    let index = 0;
    try {
      for (const v of s) {
        this.member(box, this.visit(v, depth));
        index++;
      }
    } catch (e) {
      throw at(e, `.values()[${index}]`);
    }
    return this.close(box);
  }
}
