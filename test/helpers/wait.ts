/**
 * Waiting in tests without leaning on the wall clock: `until` polls a
 * condition a bounded number of times (the bound is a count, so a slow
 * machine only makes it take longer, never pass by luck), and `seededRandom`
 * gives think times that are the same on every run.
 */
import { setTimeout as sleep } from 'node:timers/promises'

/** Polls `condition` every `intervalMs` until it holds; fails naming `what` after `tries` polls. */
export async function until (condition: () => boolean, what: string, { intervalMs = 10, tries = 3000 } = {}): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (condition()) return
    await sleep(intervalMs)
  }
  throw new Error(`${what}: still not the case after ${tries} polls`)
}

/** A deterministic generator of numbers in [0, 1) (xorshift32): the same sequence for the same seed. */
export function seededRandom (seed: number): () => number {
  let state = (seed >>> 0) || 1
  return () => {
    state ^= state << 13
    state >>>= 0
    state ^= state >>> 17
    state ^= state << 5
    state >>>= 0
    return state / 2 ** 32
  }
}
