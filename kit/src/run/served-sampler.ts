/**
 * Samples, once a window, how many requests each pod has answered so far:
 * from the balancer's own counters (the L7 proxies) or from the clients'
 * (the L4 relay pins each connection to one pod). The windows between two
 * samples are what the share report divides.
 */
import type { ServedSample } from '../report/shares.js'

/** One sample per second: short enough to see traffic move, long enough for a share to mean something. */
export const SHARE_WINDOW_MS = 1000

export interface ServedSampler {
  /** Takes a last sample and returns them all, in order. */
  stop: () => Promise<ServedSample[]>
}

/**
 * Starts sampling `source` now and then every `windowMs` after the last
 * sample; a sample that fails is skipped (its window joins the next one).
 */
export function sampleServed (source: () => Promise<Readonly<Record<string, number>>>, now: () => number, windowMs = SHARE_WINDOW_MS): ServedSampler {
  const samples: ServedSample[] = []
  let stopped = false
  const take = async (): Promise<void> => {
    const served = await source().catch(() => undefined)
    if (served !== undefined) samples.push({ at: now(), served: { ...served } })
  }
  let pending = take()
  const timer = setTimeout(() => {
    pending = take().then(() => { if (!stopped) timer.refresh() })
  }, windowMs).unref()
  return {
    async stop () {
      stopped = true
      clearTimeout(timer)
      await pending
      await take()
      return samples
    }
  }
}
