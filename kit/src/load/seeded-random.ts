/**
 * A small deterministic PRNG (mulberry32): the same seed gives the same
 * sequence in [0, 1). Math.random cannot be seeded, and a test that checks
 * what the think times are needs them to be the same every run.
 */
export function seededRandom (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6D2B79F5) >>> 0
    let x = state
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}
