/**
 * The few globals the core (api, format, state, engine, datastream, workers) may use,
 * declared by hand so that `tsconfig.core.json` compiles it with `lib: ["ES2023"]` and no
 * DOM or Node types: anything else platform-specific is a type error there. Each one is a
 * WinterCG / WHATWG minimum-common API that browsers (window and workers), Node ≥ 18,
 * Deno, Bun and Cloudflare Workers all provide with these shapes; only the members the
 * core calls are declared, so using more is a deliberate edit of this file.
 *
 * Only `tsconfig.core.json` includes this file (the main config has the full DOM and Node
 * declarations, which would clash).
 */

/** HTML timers: every runtime has them; handles stay opaque (a number in browsers, an object in Node). */
declare function setTimeout(callback: (...args: never[]) => void, ms?: number): CoreTimerHandle;
declare function clearTimeout(handle: CoreTimerHandle | undefined): void;
/** Opaque timer handle: the core only passes it back to `clearTimeout`. */
interface CoreTimerHandle {
  readonly __coreTimerHandle?: never;
}

/** HTML microtask queueing: every runtime has it. */
declare function queueMicrotask(callback: () => void): void;

/** The console: warnings (the default warning sink of the environment) and the lines of `print()`/`printToErr()`; every runtime has them. */
declare const console: { warn(...data: unknown[]): void; log(...data: unknown[]): void; error(...data: unknown[]): void };

/** WHATWG Encoding: UTF-8 encode/decode, present in every runtime. */
declare class TextEncoder {
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array): string;
}

/** Web Crypto's random bytes (lock tokens, unique names): every runtime has them. */
declare const crypto: { getRandomValues<T extends Uint8Array>(array: T): T };

/**
 * HTML channel messaging, only as far as a yield to the event loop needs it (`engine/yield.ts`).
 * Browsers, Node, Deno and Bun have it; Cloudflare Workers only from compatibility date
 * 2025-08-15, so the core checks `typeof MessageChannel` before using it.
 */
declare class MessageChannel {
  readonly port1: CoreMessagePort;
  readonly port2: CoreMessagePort;
}
/** The members of a `MessagePort` the core calls. */
interface CoreMessagePort {
  onmessage: ((event: unknown) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
}
