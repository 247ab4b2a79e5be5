/**
 * The drain's options, resolved once at registration into a frozen config, and
 * the timing-budget check that refuses to start a pod whose drain cannot finish
 * before Kubernetes' SIGKILL.
 */
import { timingBudget, type TimingBudget } from '../budget.js'
import { ENV, readSecondsAsMs } from '../env.js'
import { errorCodes } from '../errors.js'
import { durationMs, invalid, invalidArgument, isPlainObject, milliseconds, rejectUnknownKeys } from '../options.js'

/** What the user may pass as `drain` in the plugin options (all optional, milliseconds). */
export interface DrainOptions {
  /**
   * Serve normally this long after SIGTERM before closing the listener, so that
   * endpoint removal reaches kube-proxy and the ingress first. Default: 0 when
   * `PRESTOP_SLEEP_SECONDS` declares a preStop sleep (the delay already
   * happened before SIGTERM), else 5000.
   */
  delayMs?: number
  /** The longest request the service lets finish (budget input). Default 10000. */
  requestTimeoutMs?: number
  /** Time allowed to close dependencies after HTTP has drained. Default 5000. */
  cleanupTimeoutMs?: number
  /** Kept free before SIGKILL so the process exits on its own terms. Default 2000. */
  marginMs?: number
  /**
   * After the listener is closed, a connection that has carried no request for
   * this long (counted from the later of its last response and the drain start)
   * is closed. Longer spares pooled clients from a close-versus-send race;
   * shorter releases L7 proxies' pooled upstream sockets (never reused once the
   * endpoint is removed) sooner. Must be shorter than the HTTP deadline
   * (refused at start otherwise). Default 5000, or half the HTTP deadline
   * when that is shorter.
   */
  idleCloseMs?: number
  /**
   * The exit-time versus risk trade-off of closing idle connections: idle
   * connections of one client address are closed one at a time, least
   * recently used first, the next only once the client's own close of the
   * previous one arrived or after this long (a peer that never answers a
   * FIN); and none starts until that address sent no request for 4 x this
   * long (at most `idleCloseMs` more): a client walking into its pool retires
   * those sockets itself. Longer waits out slower clients (less risk of a request crossing
   * the close); 0 closes every due idle connection at once (fastest exit,
   * the most resets with LIFO pools such as Node's http.Agent). Default 250.
   */
  idleCloseSpacingMs?: number
  /** Overrides `TERMINATION_GRACE_PERIOD_SECONDS` (default 30 s). */
  gracePeriodMs?: number
  /** Overrides `PRESTOP_SLEEP_SECONDS` (default 0: no preStop). */
  preStopSleepMs?: number
  /**
   * h2 over TLS: put a JavaScript transport between each TLS socket and its
   * HTTP/2 session, so the drain can send the graceful first GOAWAY there
   * too (no stream refused). It costs CPU on every h2-over-TLS request
   * (docs/benchmarks.md); false keeps Node's native path, where the drain
   * sends the final GOAWAY alone and streams in flight towards the pod are
   * refused with REFUSED_STREAM (unprocessed, safe to retry; gRPC does).
   * Default true.
   */
  http2TlsTransport?: boolean
}

/** Resolved once at registration; never mutated. */
export interface DrainConfig {
  readonly delayMs: number
  readonly requestTimeoutMs: number
  readonly cleanupTimeoutMs: number
  readonly marginMs: number
  readonly idleCloseMs: number
  readonly idleCloseSpacingMs: number
  readonly gracePeriodMs: number
  readonly preStopSleepMs: number
  readonly http2TlsTransport: boolean
  /** Milliseconds after SIGTERM at which remaining HTTP work is cut. */
  readonly httpDeadlineMs: number
  readonly budget: TimingBudget
}

/** The single source of the drain's defaults (docs/drain.md mirrors them). */
export const DRAIN_DEFAULTS = Object.freeze({
  /** Drain delay when no preStop sleep is declared: covers endpoint propagation (~1-2 s, some ingresses more). */
  delayWithoutPreStopMs: 5000,
  requestTimeoutMs: 10000,
  cleanupTimeoutMs: 5000,
  marginMs: 2000,
  idleCloseMs: 5000,
  idleCloseSpacingMs: 250,
  gracePeriodSeconds: 30,
  preStopSleepSeconds: 0,
  http2TlsTransport: true
})

const KNOWN: ReadonlySet<string> = new Set<keyof DrainOptions>([
  'delayMs', 'requestTimeoutMs', 'cleanupTimeoutMs', 'marginMs', 'idleCloseMs', 'idleCloseSpacingMs', 'gracePeriodMs', 'preStopSleepMs', 'http2TlsTransport'
])

function duration (options: Record<string, unknown>, key: keyof DrainOptions, allowZero: boolean): number | undefined {
  return milliseconds(options[key], `drain.${key}`, allowZero)
}

/** Validates `drain` options (TypeError naming `drain.<key>`) and reads the env budget. */
export function resolveDrainConfig (input: unknown, env: NodeJS.ProcessEnv = process.env): DrainConfig {
  if (input !== undefined && !isPlainObject(input)) throw invalid('drain', 'an object', input)
  const options = input ?? {}
  rejectUnknownKeys(options, KNOWN, 'drain.')
  // The environment has the same bounds as the options of the same meaning.
  const gracePeriodMs = duration(options, 'gracePeriodMs', false) ??
    readSecondsAsMs(env, ENV.gracePeriodSeconds, false) ?? DRAIN_DEFAULTS.gracePeriodSeconds * 1000
  const preStopSleepMs = duration(options, 'preStopSleepMs', true) ??
    readSecondsAsMs(env, ENV.preStopSleepSeconds, true) ?? DRAIN_DEFAULTS.preStopSleepSeconds * 1000
  const delayMs = duration(options, 'delayMs', true) ?? (preStopSleepMs > 0 ? 0 : DRAIN_DEFAULTS.delayWithoutPreStopMs)
  const requestTimeoutMs = duration(options, 'requestTimeoutMs', false) ?? DRAIN_DEFAULTS.requestTimeoutMs
  const cleanupTimeoutMs = duration(options, 'cleanupTimeoutMs', false) ?? DRAIN_DEFAULTS.cleanupTimeoutMs
  const marginMs = duration(options, 'marginMs', true) ?? DRAIN_DEFAULTS.marginMs
  const givenIdleCloseMs = duration(options, 'idleCloseMs', true)
  const idleCloseSpacingMs = duration(options, 'idleCloseSpacingMs', true) ?? DRAIN_DEFAULTS.idleCloseSpacingMs
  const http2TlsTransport = options.http2TlsTransport === undefined ? DRAIN_DEFAULTS.http2TlsTransport : options.http2TlsTransport
  if (typeof http2TlsTransport !== 'boolean') throw invalid('drain.http2TlsTransport', 'true or false', http2TlsTransport)

  const budget = timingBudget({ gracePeriodMs, preStopSleepMs, drainDelayMs: delayMs, requestTimeoutMs, cleanupTimeoutMs, marginMs })
  if (!budget.fits) {
    // A drain that cannot fit is cut by SIGKILL mid-request on every rollout:
    // refuse to start so the deploy fails loudly instead.
    throw new errorCodes.FST_ZD_BUDGET_EXCEEDED(`${String(budget.problem)} (options: drain.delayMs, drain.requestTimeoutMs, drain.cleanupTimeoutMs, drain.marginMs; env: ${ENV.gracePeriodSeconds}, ${ENV.preStopSleepSeconds})`)
  }
  // Every idle pooled socket would wait past the deadline and be cut there:
  // each drain with an idle keep-alive client would end unclean. Given: refused;
  // the default: at most half the HTTP deadline (a short grace period).
  const idleCloseMs = givenIdleCloseMs ?? Math.min(DRAIN_DEFAULTS.idleCloseMs, Math.floor(budget.httpDeadlineMs / 2))
  if (idleCloseMs >= budget.httpDeadlineMs) {
    throw new errorCodes.FST_ZD_BUDGET_EXCEEDED(`drain.idleCloseMs (${idleCloseMs} ms) must be shorter than the HTTP deadline (${budget.httpDeadlineMs} ms after SIGTERM), or every idle keep-alive connection is cut there (options: drain.idleCloseMs, drain.gracePeriodMs, drain.cleanupTimeoutMs, drain.marginMs; env: ${ENV.gracePeriodSeconds}, ${ENV.preStopSleepSeconds})`)
  }
  return Object.freeze({
    delayMs,
    requestTimeoutMs,
    cleanupTimeoutMs,
    marginMs,
    idleCloseMs,
    idleCloseSpacingMs,
    gracePeriodMs,
    preStopSleepMs,
    http2TlsTransport,
    httpDeadlineMs: budget.httpDeadlineMs,
    budget: Object.freeze(budget)
  })
}

/** What `drain(reason, options)` may override for one run. */
export interface DrainRunOptions {
  /** Overrides the configured drain delay for this run (an uncaught error drains with 0). */
  delayMs?: number
  /** Overrides `drain.idleCloseMs` for this run (0: idle connections close at once). */
  idleCloseMs?: number
}

const RUN_KEYS: ReadonlySet<string> = new Set<keyof DrainRunOptions>(['delayMs', 'idleCloseMs'])

/**
 * Validates `drain()`'s options (TypeError naming the option), thrown at the
 * call: a delay past a timer's limit would fire at once, and an idle close
 * past the HTTP deadline would cut every idle pooled connection there.
 */
export function checkDrainRunOptions (input: unknown, config: DrainConfig): Readonly<DrainRunOptions> {
  if (input === undefined) return {}
  if (!isPlainObject(input)) throw invalidArgument('drain() options', 'an object { delayMs?, idleCloseMs? }', input)
  for (const key of Object.keys(input)) {
    if (!RUN_KEYS.has(key)) throw invalidArgument('drain() options', `only ${[...RUN_KEYS].join(', ')}`, key)
  }
  const delayMs = durationMs(input.delayMs, 'drain() option "delayMs"', true)
  const idleCloseMs = durationMs(input.idleCloseMs, 'drain() option "idleCloseMs"', true)
  if (idleCloseMs !== undefined && idleCloseMs >= config.httpDeadlineMs) {
    throw invalidArgument('drain() option "idleCloseMs"', `shorter than the HTTP deadline (${config.httpDeadlineMs} ms)`, idleCloseMs)
  }
  return { ...(delayMs === undefined ? {} : { delayMs }), ...(idleCloseMs === undefined ? {} : { idleCloseMs }) }
}
