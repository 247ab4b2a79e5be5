/**
 * Connection max age: a connection older than its jittered age is retired the
 * way the drain retires every connection, so that traffic follows a change of
 * endpoints (a scale-up, a blue-green switch, a canary) instead of staying
 * pinned where kube-proxy's conntrack or a client's pool put it.
 *
 * Why by age and not by count (Node's `maxRequestsPerSocket`): a quiet
 * connection never reaches a count, and Node answers 503 to requests sent
 * after the limit. Why never close an idle connection for its age: closing a
 * socket that looks idle races a client that picks it at that instant
 * (ECONNRESET). So the age is only looked at when a connection is used: its
 * next response carries `Connection: close` (HTTP/1.1), or its session gets
 * the two-step GOAWAY (HTTP/2). An idle old connection retires when next
 * used, or by the keep-alive timeout. gRPC (A9), Envoy
 * (`max_connection_duration`) and nginx (`keepalive_time`) do the same.
 *
 * Timing on the injected clock: only a deadline per connection, compared on
 * use; the one timer is HTTP/2's grace, per retired session.
 */
import { SYSTEM_CLOCK, type Clock } from '../clock.js'
import type { TrackedConnection } from '../drain/transport.js'
import type { ConnectionAgeConfig } from './options.js'

/** The reason connections retired for their age are counted under (`retiredBy`, the metrics' `reason` label). */
export const MAX_AGE_REASON = 'max_age'

/** What the age needs of a transport tracker (drain/transport.ts): its graceful `retire`. */
export type Retire<C> = (connection: C, reason: string) => boolean

export class ConnectionMaxAge {
  readonly config: ConnectionAgeConfig
  readonly #clock: Clock
  readonly #random: () => number
  /** Each connection's own jittered deadline, drawn at its first use. */
  readonly #deadlines = new WeakMap<TrackedConnection, number>()
  #graceCut = 0

  /**
   * `clock`: the trackers' (their `openedAt` is read on it); `random`: in
   * [0, 1), as Math.random, injectable so the jitter's bounds are tested exactly.
   */
  constructor (config: ConnectionAgeConfig, clock: Clock = SYSTEM_CLOCK, random: () => number = Math.random) {
    this.config = config
    this.#clock = clock
    this.#random = random
  }

  /** HTTP/2 sessions retired for their age whose streams outlived the grace (destroyed with them). */
  get graceCut (): number {
    return this.#graceCut
  }

  /** When a connection opened at `openedAt` reaches its age: `maxAgeMs` ± `jitter`, drawn per connection. */
  retireAt (openedAt: number): number {
    const { maxAgeMs, jitter } = this.config
    return openedAt + maxAgeMs * (1 - jitter + 2 * jitter * this.#random())
  }

  /**
   * The hook a tracker calls on each use of a connection (a request read, a
   * stream opened) that is not leaving already: past its age, the connection
   * is retired through `retire` under `max_age`; `retired` follows (HTTP/2's
   * grace). Undefined when max age is off: nothing on the hot path then.
   */
  onUse<C extends TrackedConnection> (retire: Retire<C>, retired?: (connection: C) => void): ((connection: C) => void) | undefined {
    if (this.config.maxAgeMs === 0) return undefined
    return (c) => {
      let at = this.#deadlines.get(c)
      if (at === undefined) this.#deadlines.set(c, at = this.retireAt(c.openedAt))
      if (this.#clock.now() >= at && retire(c, MAX_AGE_REASON)) retired?.(c)
    }
  }

  /**
   * HTTP/2, after `retire`: gRPC's MAX_CONNECTION_AGE_GRACE. The session
   * serves its streams to the end; one still open after the grace is
   * destroyed with them (a stream that never ends must not pin the client
   * to this pod). Unref'ed, and cancelled when the session closes first.
   */
  graceFor (session: { destroy: () => void, once: (event: 'close', fn: () => void) => unknown }): void {
    const cancel = this.#clock.after(this.config.graceMs, () => {
      this.#graceCut++
      session.destroy()
    }, false)
    session.once('close', cancel)
  }
}
