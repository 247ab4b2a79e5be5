/**
 * The connection max age's options, resolved once at registration. Kept apart
 * from the drain's: the age works while the pod serves, the drain when it
 * stops, and only the HTTP/2 grace depends on a drain option (the longest
 * request the service lets finish).
 */
import { MAX_TIMER_MS, invalid, milliseconds } from '../options.js'

/** The single source of the defaults (docs/drain.md and README mirror them; bench/max-age.ts measured them). */
export const CONNECTION_AGE_DEFAULTS = Object.freeze({
  /**
   * 30 s (27-33 s with jitter): pooled traffic follows a scale-up or a
   * blue-green switch within about a minute (95 % within 0.6-1.5 ages in
   * bench/max-age.ts), while each connection reconnects only once per 30 s
   * (a TLS reconnect measured at 1.6-8 ms of server CPU: about 1-2 % of a
   * core per 100 TLS connections; docs/benchmarks.md, "Connection max age").
   */
  maxAgeMs: 30000,
  /** ±10 %, as gRPC's MAX_CONNECTION_AGE: connections opened together do not all reconnect in the same instant. */
  jitter: 0.1
})

/**
 * Below this an age retires nearly every connection after one request:
 * keep-alive turned off at the price of a reconnect per request, which
 * `Connection: close` from the app says more honestly.
 */
export const MIN_MAX_AGE_MS = 1000

export interface ConnectionAgeConfig {
  /** 0: off. */
  readonly maxAgeMs: number
  /** ± this fraction of `maxAgeMs`, drawn per connection. */
  readonly jitter: number
  /** HTTP/2: how long a session told to go away for its age may finish its streams before it is closed. */
  readonly graceMs: number
}

/**
 * `requestTimeoutMs`: the drain's longest request; the default HTTP/2 grace,
 * and its lower bound: a shorter grace would cut requests the service
 * promises to let finish.
 */
export function resolveConnectionAge (maxAge: unknown, grace: unknown, requestTimeoutMs: number): ConnectionAgeConfig {
  const maxAgeMs = milliseconds(maxAge, 'connectionMaxAgeMs', true) ?? CONNECTION_AGE_DEFAULTS.maxAgeMs
  if (maxAgeMs > 0 && maxAgeMs < MIN_MAX_AGE_MS) {
    throw invalid('connectionMaxAgeMs', `0 (off) or at least ${MIN_MAX_AGE_MS} milliseconds (shorter retires almost every connection after one request)`, maxAgeMs)
  }
  const graceMs = milliseconds(grace, 'connectionMaxAgeGraceMs', false) ?? requestTimeoutMs
  if (graceMs < requestTimeoutMs) {
    throw invalid('connectionMaxAgeGraceMs', `at least drain.requestTimeoutMs (${requestTimeoutMs} ms): a shorter grace cuts HTTP/2 streams the service lets run that long`, graceMs)
  }
  // The jittered age ends up compared against a clock, and the grace in a timer.
  if (maxAgeMs * (1 + CONNECTION_AGE_DEFAULTS.jitter) > MAX_TIMER_MS) {
    throw invalid('connectionMaxAgeMs', `at most ${Math.floor(MAX_TIMER_MS / (1 + CONNECTION_AGE_DEFAULTS.jitter))} milliseconds (with its 10 % jitter)`, maxAgeMs)
  }
  return Object.freeze({ maxAgeMs, jitter: CONNECTION_AGE_DEFAULTS.jitter, graceMs })
}
