/**
 * The loop of every closed-loop client kind (node:http, undici): a number of
 * clients, each sending its next request as soon as the last one settled,
 * plus think time, plus a pause after a failure.
 */
import { setMaxListeners } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Outcome } from './accounting.js'
import type { Load, RequestSource } from './target.js'

export interface ClosedLoopOptions {
  readonly connections: number
  /** The one request every client sends, or a draw from a requests file's mix on every send. */
  readonly request: RequestSource
  /** Random pause between two requests of one client, up to this many ms (0: a tight loop). */
  readonly thinkMs?: number
  /** Share one pool across all clients (idle pooled sockets) instead of one socket each. */
  readonly sharedPool?: boolean
  /**
   * Where think times come from: numbers in [0, 1), like Math.random (the
   * default, for real runs). A test passes `seededRandom(seed)` so the same
   * seed gives the same think-time sequence.
   */
  readonly random?: () => number
}

/** A pause after a failure, so a client that keeps failing does not spin. */
const BACKOFF_MS = 50

/**
 * `connections` clients, each calling `sendOne` again once its last request
 * settled (plus think time, and a pause after a failure); `close` runs once
 * every client stopped.
 */
export function clientLoops (opts: ClosedLoopOptions, sendOne: () => Promise<Outcome>, close: () => Promise<void> | void): Load {
  let stopping = false
  const abort = new AbortController()
  // Every client sleeps on this one signal.
  setMaxListeners(0, abort.signal)
  const think = opts.thinkMs ?? 0
  // Resolved once: every client of this load draws from the same source.
  const random = opts.random ?? Math.random
  const client = async (): Promise<void> => {
    while (!stopping) {
      const outcome = await sendOne()
      const failed = outcome.kind !== 'response' || outcome.status >= 300
      const pause = (failed ? BACKOFF_MS : 0) + (think > 0 ? random() * think : 0)
      if (pause > 0) await sleep(pause, undefined, { signal: abort.signal }).catch(() => {})
    }
  }
  const clients = Array.from({ length: opts.connections }, client)
  return {
    async stop () {
      stopping = true
      abort.abort()
      await Promise.all(clients)
      await close()
    }
  }
}
