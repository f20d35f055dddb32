/**
 * Keeps the runtime objects of the most recently closed local job reachable until the
 * next one closes, so that the engine stays compiled for the next job.
 *
 * Why: V8 keeps a hidden class (the "map" of a class instance) only while an object of it
 * lives; the maps of a class's instances hang off its constructor through weak
 * transitions. Optimised code embeds the maps it was specialised on, weakly, and is thrown
 * away ("weak objects" deopts) when one of them dies. Every engine object of a job (tasks,
 * operators, backends, tables, timers, buffers) dies when the job ends, so a full GC that
 * runs between two jobs (an idle pause's memory-reducing GC; the benches' `gc()`) used to
 * deoptimise ~40 hot engine functions and clear their type feedback: the next job ran its
 * first batches interpreted, then compiled everything again — about a third of the CPU
 * time of a 1M-record keyed count (bench/README.md, keyed-count-sync).
 *
 * What is kept is the closed job's object graph minus its data: backends drop their
 * state on dispose and source operators their reader and source on close, so that what
 * stays is a few hundred small objects, never records or state.
 */

let lastClosed: readonly object[] | undefined;

/** Keeps `runtime` (the closed job's tasks) until the next call replaces it. */
export function keepShapesOf(runtime: readonly object[]): void {
  lastClosed = runtime;
}

/** @internal For tests: what is kept now. */
export function keptShapes(): readonly object[] | undefined {
  return lastClosed;
}
