/** A deterministic PRNG for tests and benchmarks (no imports: Node and browsers alike). */

/** mulberry32 seeded with `seed`: numbers in [0, 1), the same sequence on every run, so failures reproduce. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
