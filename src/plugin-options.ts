/**
 * The plugin's options, validated once at registration into a frozen resolved
 * config. Bad input is a TypeError naming the option and what it must be:
 * a typo in a probe option must fail the deploy, not silently fall back to a
 * default that drops requests later.
 */
import type { FastifyRequest } from 'fastify'
import { resolveConnectionAge, type ConnectionAgeConfig } from './connection-age/options.js'
import { resolveDrainConfig, type DrainConfig, type DrainOptions } from './drain/index.js'
import { HEALTH_DEFAULTS, resolveChecks, resolvePaths, resolveProbeDetail, type ProbePathsOptions, type ResolvedPaths } from './health/options.js'
import type { DetailPolicy } from './health/trust.js'
import type { CheckFunction, CheckSpec, NamedCheckSpec, ResolvedCheck } from './health/types.js'
import { resolveMetrics, type MetricsOptions, type ResolvedMetrics } from './metrics/options.js'
import { PRESSURE_DEFAULTS, resolvePressure, type PressureOptions, type ResolvedPressure } from './pressure/options.js'
import { boolean, describe, invalid, isPlainObject, milliseconds, oneOf, readOptions, refusedOption, rejectUnknownKeys } from './options.js'

export type { ProbePathsOptions, ResolvedPaths } from './health/options.js'
export type { PressureOptions, ResolvedPressure } from './pressure/options.js'

export interface ZeroDowntimeOptions {
  /** Dependency checks by name (or as an array of `{ name, check, ... }`). */
  checks?: Readonly<Record<string, CheckFunction | CheckSpec>> | readonly NamedCheckSpec[]
  /** Default timeout of one check run (ms). */
  checkTimeoutMs?: number
  /** Default pause between the end of one check run and the next (ms). */
  checkIntervalMs?: number
  paths?: ProbePathsOptions
  /** `listen`: started when the server listens; `manual`: when `app.zeroDowntime.started()` is called. */
  startup?: 'listen' | 'manual'
  /** Log probe requests like any other request (default false: probes every few seconds flood logs). */
  logProbes?: boolean
  /** Load shedding with @fastify/under-pressure; `false` turns it off. */
  pressure?: false | PressureOptions
  /** Drain options, validated by the drain (see docs/drain.md). */
  drain?: DrainOptions
  /**
   * Who gets probe detail (`?verbose`, a check's error text on
   * `/ready/<check>`) and may use `?exclude`: a function of the request
   * (default: requests from loopback, i.e. `kubectl exec` / `port-forward`).
   * Everyone else gets the status only; their parameters are ignored.
   */
  probeDetail?: (request: FastifyRequest) => boolean
  /** Prometheus metrics on your prom-client Registry (see docs/probes.md). */
  metrics?: MetricsOptions | false
  /**
   * Retire a connection once it is older than this (±10 % jitter), the way
   * the drain retires it: HTTP/1.1 `Connection: close` on its next response,
   * HTTP/2 the two-step GOAWAY. Idle connections are never closed for their
   * age. Lets traffic follow a scale-up or a blue-green switch (see
   * docs/drain.md). 0: off. Default 30000.
   */
  connectionMaxAgeMs?: number
  /** HTTP/2: how long a session retired for its age may finish its streams before it is closed. Default (and minimum): `drain.requestTimeoutMs`. */
  connectionMaxAgeGraceMs?: number
}

/** The single source of every default; docs/probes.md mirrors it (a test keeps them in step). */
export const DEFAULTS = Object.freeze({
  ...HEALTH_DEFAULTS,
  startup: 'listen',
  pressure: PRESSURE_DEFAULTS
} as const)

export interface ResolvedConfig {
  readonly checks: readonly ResolvedCheck[]
  readonly checkTimeoutMs: number
  readonly checkIntervalMs: number
  readonly paths: ResolvedPaths
  readonly startup: 'listen' | 'manual'
  readonly logProbes: boolean
  readonly pressure: ResolvedPressure | false
  /** `Retry-After` (seconds) on a 503 probe: about when a new check result can change it. */
  readonly probeRetryAfterSeconds: number
  readonly probeDetail: DetailPolicy
  readonly metrics: ResolvedMetrics | false
  /** The drain's timings and its timing budget (checked against the grace period at registration). */
  readonly drain: DrainConfig
  /** Connection max age (`maxAgeMs` 0: off) and the HTTP/2 grace. */
  readonly connectionAge: ConnectionAgeConfig
}

const TOP_KEYS = new Set([
  'checks', 'checkTimeoutMs', 'checkIntervalMs', 'paths', 'startup', 'logProbes', 'pressure', 'drain', 'probeDetail', 'metrics', 'connectionMaxAgeMs', 'connectionMaxAgeGraceMs'
])
/** Keys Fastify itself reads from `register(plugin, opts)`: not ours to reject. */
const FASTIFY_REGISTER_KEYS = new Set(['prefix', 'logLevel', 'logSerializers'])
/** Fastify calls options given as a function (`register(plugin, (parent) => opts)`) and passes on whatever it returns. */
export const OPTIONS_EXPECTED = 'an object (options given as a function must return one)'
const PREFIX_REFUSED = 'option "prefix" is not supported: Fastify ignores it for this plugin, which registers its probes on the instance it is given' +
  ' (it is wrapped with fastify-plugin). Put the prefix in "paths" instead, e.g. paths: { liveness: "/api/health", readiness: "/api/ready", startup: "/api/startup" }'

/**
 * Validates the plugin options into one frozen config, the drain's included;
 * `env` gives the pod's termination budget (see env.ts).
 */
export function resolveConfig (input: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  // Read once into plain data: getters and Proxy traps run here, and only here.
  const opts = readOptions(input ?? {})
  if (!isPlainObject(opts)) throw invalid('options', OPTIONS_EXPECTED, input)
  rejectUnknownKeys(opts, TOP_KEYS, '', FASTIFY_REGISTER_KEYS)
  // Silently serving the probes somewhere else than asked would fail every
  // probe of the pod, so a prefix is refused rather than ignored.
  if (opts.prefix !== undefined && opts.prefix !== '') throw refusedOption(`${PREFIX_REFUSED}, got ${describe(opts.prefix)}`)
  const checkTimeoutMs = milliseconds(opts.checkTimeoutMs, 'checkTimeoutMs') ?? DEFAULTS.checkTimeoutMs
  const checkIntervalMs = milliseconds(opts.checkIntervalMs, 'checkIntervalMs') ?? DEFAULTS.checkIntervalMs
  const drain = resolveDrainConfig(opts.drain, env)
  return Object.freeze({
    checks: resolveChecks(opts.checks, checkTimeoutMs, checkIntervalMs),
    checkTimeoutMs,
    checkIntervalMs,
    paths: resolvePaths(opts.paths),
    startup: oneOf(opts.startup, 'startup', ['listen', 'manual'], DEFAULTS.startup),
    logProbes: boolean(opts.logProbes, 'logProbes', DEFAULTS.logProbes),
    pressure: resolvePressure(opts.pressure),
    probeRetryAfterSeconds: Math.max(1, Math.ceil(checkIntervalMs / 1000)),
    probeDetail: resolveProbeDetail(opts.probeDetail),
    metrics: resolveMetrics(opts.metrics),
    drain,
    connectionAge: resolveConnectionAge(opts.connectionMaxAgeMs, opts.connectionMaxAgeGraceMs, drain.requestTimeoutMs)
  })
}
