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
import type { ConnectionAgeConfig } from './options.js'

/** Why a connection (an HTTP/2 session) was retired outside the drain. */
export type RetireReason = 'max_age'
/** The `reason` label's values, in the metric's order. */
export const RETIRE_REASONS = Object.freeze(['max_age', 'max_age_grace_cut'] as const satisfies ReadonlyArray<keyof RetirementCounts>)

/** Connections and sessions retired, by reason, since the server started. */
export interface RetirementCounts {
  /** HTTP/1.x connections whose next response carried `Connection: close`, HTTP/2 sessions told to go away, for their age. */
  readonly max_age: number
  /**
   * HTTP/2 sessions retired for their age whose streams outlived
   * `connectionMaxAgeGraceMs`: destroyed with them (their streams cut).
   */
  readonly max_age_grace_cut: number
}

/** A connection that never reaches its age (max age off). */
const NEVER = Number.POSITIVE_INFINITY

export class ConnectionMaxAge {
  readonly config: ConnectionAgeConfig
  readonly #clock: Clock
  readonly #random: () => number

  /** `random`: in [0, 1), as Math.random; injectable so the jitter's bounds are tested exactly. */
  constructor (config: ConnectionAgeConfig, clock: Clock = SYSTEM_CLOCK, random: () => number = Math.random) {
    this.config = config
    this.#clock = clock
    this.#random = random
  }

  /** When a connection opened now reaches its age: `maxAgeMs` ± `jitter`, drawn per connection. */
  retireAt (): number {
    const { maxAgeMs, jitter } = this.config
    if (maxAgeMs === 0) return NEVER
    return this.#clock.now() + maxAgeMs * (1 - jitter + 2 * jitter * this.#random())
  }

  /** Whether a connection with this deadline is due, at a use happening now. */
  due (retireAt: number): boolean {
    return retireAt <= this.#clock.now()
  }

  /** HTTP/2: calls `close` once the grace is over; returns a function that cancels it (the session closed by itself). */
  afterGrace (close: () => void): () => void {
    // Unref'ed: a grace never holds a stopping process.
    return this.#clock.after(this.config.graceMs, close, false)
  }
}
