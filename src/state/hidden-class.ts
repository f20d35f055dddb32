/**
 * Keeps a class's hidden class alive between jobs.
 *
 * V8 forgets a hidden class (map) a few garbage collections after its last object is
 * gone, and clears the type feedback that named it. Code shared by jobs of different
 * kinds — one counter class run with and without TTL, one after the other — is then
 * optimised during a job in which a per-job class (a TTL table) no longer exists, with
 * no feedback for its accesses, and deoptimises as soon as the next job of the other
 * kind touches one: three to six deopts per job, each sending the hot loop back to the
 * interpreter until it is optimised again (see bench/README, ttl-overhead). One idle
 * object per such class, built with the same fields in the same order as a real one,
 * keeps its hidden class for the life of the program; it holds no job's state.
 */
const anchors: object[] = [];

/** Keeps `idle` (an object of the class, holding no job's state) reachable for good, and with it its hidden class. */
export function keepHiddenClass(idle: object): void {
  anchors.push(idle);
}

/** The objects kept (for tests: each must share its hidden class with the real objects of its class). */
export function keptObjects(): readonly object[] {
  return anchors;
}
