/**
 * The plugin's options, validated once at registration into a frozen resolved
 * config. Bad input is a TypeError naming the option and what it must be:
 * a typo in a probe option must fail the deploy, not silently fall back to a
 * default that drops requests later.
 */
import type { FastifyRequest } from 'fastify'
import { resolveDrainConfig, type DrainConfig, type DrainOptions } from './drain/index.js'
import { fromLoopback, type DetailPolicy } from './health/trust.js'
import { resolveMetrics, type MetricsOptions, type ResolvedMetrics } from './metrics/options.js'
import type { CheckFunction, CheckSpec, NamedCheckSpec, ResolvedCheck } from './health/types.js'
import { boolean, callback, describe, invalid, isPlainObject, limitOrFalse, MAX_TIMER_MS, milliseconds, nonEmptyString, oneOf, refusedOption, rejectUnknownKeys, wholeSeconds } from './options.js'

export interface ProbePathsOptions {
  /** Liveness paths (default `['/health', '/livez']`). */
  liveness?: string | readonly string[]
  /** Readiness paths (default `['/ready', '/readyz']`); each also serves `<path>/<check>`. */
  readiness?: string | readonly string[]
  /** Startup paths (default `['/startup']`). */
  startup?: string | readonly string[]
}

export interface PressureOptions {
  /** Shed app requests when the mean event-loop delay exceeds this (ms); `false`: no limit. */
  maxEventLoopDelayMs?: number | false
  /** Shed when event-loop utilization (0..1) exceeds this; `false`: no limit. */
  maxEventLoopUtilization?: number | false
  /** Shed when V8 heap used exceeds this many bytes; `false`: no limit. */
  maxHeapUsedBytes?: number | false
  /** Shed when the resident set exceeds this many bytes; `false`: no limit. */
  maxRssBytes?: number | false
  /** How often the process is sampled (ms). */
  sampleIntervalMs?: number
  /** `Retry-After` (seconds) on shed requests. */
  retryAfterSeconds?: number
  /**
   * How saturation shows on readiness: `warn` (200, reported in the body) or
   * `fail` (503, the balancer sends traffic to other pods).
   */
  readiness?: 'warn' | 'fail'
}

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
}

/** The single source of every default; docs/probes.md mirrors it (a test keeps them in step). */
export const DEFAULTS = Object.freeze({
  checkTimeoutMs: 1000,
  checkIntervalMs: 2000,
  critical: true,
  liveness: false,
  componentType: 'component',
  paths: Object.freeze({
    liveness: Object.freeze(['/health', '/livez']),
    readiness: Object.freeze(['/ready', '/readyz']),
    startup: Object.freeze(['/startup'])
  }),
  startup: 'listen',
  logProbes: false,
  pressure: Object.freeze({
    maxEventLoopDelayMs: 1000,
    maxEventLoopUtilization: false,
    maxHeapUsedBytes: false,
    maxRssBytes: false,
    sampleIntervalMs: 1000,
    retryAfterSeconds: 10,
    readiness: 'warn'
  })
} as const)

export interface ResolvedPaths {
  readonly liveness: readonly string[]
  readonly readiness: readonly string[]
  readonly startup: readonly string[]
}

export interface ResolvedPressure {
  /** 0 means "no limit", as @fastify/under-pressure reads it. */
  readonly maxEventLoopDelayMs: number
  readonly maxEventLoopUtilization: number
  readonly maxHeapUsedBytes: number
  readonly maxRssBytes: number
  readonly sampleIntervalMs: number
  readonly retryAfterSeconds: number
  readonly readiness: 'warn' | 'fail'
}

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
}

/** Check names end up in URLs (`/ready/<name>`) and health+json keys (`<name>:responseTime`). */
const CHECK_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/i
/** Names the plugin reports itself, so a user check cannot shadow them. */
const RESERVED_NAMES = new Set(['pressure'])
const PATH = /^\/[A-Za-z0-9._~/-]*$/

const TOP_KEYS = new Set(['checks', 'checkTimeoutMs', 'checkIntervalMs', 'paths', 'startup', 'logProbes', 'pressure', 'drain', 'probeDetail', 'metrics'])
/** Keys Fastify itself reads from `register(plugin, opts)`: not ours to reject. */
const FASTIFY_REGISTER_KEYS = new Set(['prefix', 'logLevel', 'logSerializers'])
/** Fastify calls options given as a function (`register(plugin, (parent) => opts)`) and passes on whatever it returns. */
export const OPTIONS_EXPECTED = 'an object (options given as a function must return one)'
const PREFIX_REFUSED = 'option "prefix" is not supported: Fastify ignores it for this plugin, which registers its probes on the instance it is given' +
  ' (it is wrapped with fastify-plugin). Put the prefix in "paths" instead, e.g. paths: { liveness: "/api/health", readiness: "/api/ready", startup: "/api/startup" }'
const SPEC_KEYS = new Set(['check', 'critical', 'liveness', 'timeoutMs', 'intervalMs', 'componentType'])
const PATH_KEYS = new Set(['liveness', 'readiness', 'startup'])
const PRESSURE_KEYS = new Set(Object.keys(DEFAULTS.pressure))

function resolveCheck (name: string, input: unknown, option: string, timeoutMs: number, intervalMs: number): ResolvedCheck {
  const spec: Record<string, unknown> = typeof input === 'function' ? { check: input } : (input as Record<string, unknown>)
  if (!isPlainObject(spec)) throw invalid(option, 'a function or an object { check, critical?, liveness?, timeoutMs?, intervalMs?, componentType? }', input)
  rejectUnknownKeys(spec, SPEC_KEYS, `${option}.`)
  const check = callback<CheckFunction>(spec.check, `${option}.check`, 'a function', invalid)
  const componentType = nonEmptyString(spec.componentType ?? DEFAULTS.componentType, `${option}.componentType`, invalid)
  return Object.freeze({
    name,
    check,
    critical: boolean(spec.critical, `${option}.critical`, DEFAULTS.critical),
    liveness: boolean(spec.liveness, `${option}.liveness`, DEFAULTS.liveness),
    timeoutMs: milliseconds(spec.timeoutMs, `${option}.timeoutMs`) ?? timeoutMs,
    intervalMs: milliseconds(spec.intervalMs, `${option}.intervalMs`) ?? intervalMs,
    componentType
  })
}

function resolveChecks (input: unknown, timeoutMs: number, intervalMs: number): readonly ResolvedCheck[] {
  if (input === undefined) return Object.freeze([])
  const entries: Array<[name: unknown, spec: unknown, option: string]> = []
  if (Array.isArray(input)) {
    input.forEach((item: unknown, i) => {
      if (!isPlainObject(item)) throw invalid(`checks[${i}]`, 'an object { name, check, ... }', item)
      const { name, ...spec } = item
      entries.push([name, spec, `checks[${i}]`])
    })
  } else if (isPlainObject(input)) {
    for (const [name, spec] of Object.entries(input)) entries.push([name, spec, `checks.${name}`])
  } else {
    throw invalid('checks', 'an object mapping names to checks, or an array of { name, check }', input)
  }
  const seen = new Set<string>()
  const checks = entries.map(([name, spec, option]) => {
    if (typeof name !== 'string' || !CHECK_NAME.test(name)) {
      throw invalid(Array.isArray(input) ? `${option}.name` : option, 'named with 1-63 letters, digits, "-" or "_", starting with a letter or digit (the name is used in URLs)', name)
    }
    // Probe URLs are matched case-insensitively by some proxies; "DB" and "db" would be ambiguous.
    const key = name.toLowerCase()
    if (RESERVED_NAMES.has(key)) throw refusedOption(`check name "${name}" is reserved (option "${option}")`)
    if (seen.has(key)) throw refusedOption(`duplicate check name "${name}" (option "${option}")`)
    seen.add(key)
    return resolveCheck(name, spec, option, timeoutMs, intervalMs)
  })
  return Object.freeze(checks)
}

function resolvePathList (value: unknown, option: string, fallback: readonly string[]): readonly string[] {
  if (value === undefined) return fallback
  const list: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [value]
  const expected = 'a path like "/ready" (or a non-empty array of them) using only letters, digits and -._~/'
  if (list.length === 0) throw invalid(option, expected, value)
  for (const path of list) {
    if (typeof path !== 'string' || !PATH.test(path) || path.length < 2 || path.endsWith('/') || path.includes('//')) {
      throw invalid(option, expected, path)
    }
  }
  return Object.freeze([...list as string[]])
}

function resolvePaths (input: unknown): ResolvedPaths {
  if (input === undefined) return DEFAULTS.paths
  if (!isPlainObject(input)) throw invalid('paths', 'an object { liveness?, readiness?, startup? }', input)
  rejectUnknownKeys(input, PATH_KEYS, 'paths.')
  const paths = {
    liveness: resolvePathList(input.liveness, 'paths.liveness', DEFAULTS.paths.liveness),
    readiness: resolvePathList(input.readiness, 'paths.readiness', DEFAULTS.paths.readiness),
    startup: resolvePathList(input.startup, 'paths.startup', DEFAULTS.paths.startup)
  }
  const seen = new Set<string>()
  for (const [probe, list] of Object.entries(paths)) {
    for (const path of list) {
      if (seen.has(path)) throw refusedOption(`option "paths.${probe}" repeats the path ${JSON.stringify(path)} already used by a probe`)
      seen.add(path)
    }
  }
  return Object.freeze(paths)
}

function resolvePressure (input: unknown): ResolvedPressure | false {
  if (input === false) return false
  const p = input ?? {}
  if (!isPlainObject(p)) throw invalid('pressure', 'false or an object of load-shedding limits', input)
  rejectUnknownKeys(p, PRESSURE_KEYS, 'pressure.')
  const d = DEFAULTS.pressure
  return Object.freeze({
    maxEventLoopDelayMs: limitOrFalse(p.maxEventLoopDelayMs, 'pressure.maxEventLoopDelayMs', d.maxEventLoopDelayMs, MAX_TIMER_MS, 'milliseconds'),
    maxEventLoopUtilization: limitOrFalse(p.maxEventLoopUtilization, 'pressure.maxEventLoopUtilization', d.maxEventLoopUtilization, 1, 'utilization'),
    maxHeapUsedBytes: limitOrFalse(p.maxHeapUsedBytes, 'pressure.maxHeapUsedBytes', d.maxHeapUsedBytes, Number.MAX_SAFE_INTEGER, 'bytes'),
    maxRssBytes: limitOrFalse(p.maxRssBytes, 'pressure.maxRssBytes', d.maxRssBytes, Number.MAX_SAFE_INTEGER, 'bytes'),
    sampleIntervalMs: milliseconds(p.sampleIntervalMs, 'pressure.sampleIntervalMs') ?? d.sampleIntervalMs,
    retryAfterSeconds: wholeSeconds(p.retryAfterSeconds ?? d.retryAfterSeconds, 'pressure.retryAfterSeconds'),
    readiness: oneOf(p.readiness, 'pressure.readiness', ['warn', 'fail'], d.readiness)
  })
}

function resolveProbeDetail (value: unknown): DetailPolicy {
  if (value === undefined) return fromLoopback
  return callback<DetailPolicy>(value, 'probeDetail', 'a function (request) => boolean telling whether the caller may see probe detail', invalid)
}

/**
 * Validates the plugin options into one frozen config, the drain's included;
 * `env` gives the pod's termination budget (see env.ts).
 */
export function resolveConfig (input: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const opts = input ?? {}
  if (!isPlainObject(opts)) throw invalid('options', OPTIONS_EXPECTED, input)
  rejectUnknownKeys(opts, TOP_KEYS, '', FASTIFY_REGISTER_KEYS)
  // Silently serving the probes somewhere else than asked would fail every
  // probe of the pod, so a prefix is refused rather than ignored.
  if (opts.prefix !== undefined && opts.prefix !== '') throw refusedOption(`${PREFIX_REFUSED}, got ${describe(opts.prefix)}`)
  const checkTimeoutMs = milliseconds(opts.checkTimeoutMs, 'checkTimeoutMs') ?? DEFAULTS.checkTimeoutMs
  const checkIntervalMs = milliseconds(opts.checkIntervalMs, 'checkIntervalMs') ?? DEFAULTS.checkIntervalMs
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
    drain: resolveDrainConfig(opts.drain, env)
  })
}
