/**
 * The probes' part of the plugin options: the checks, the probe paths and
 * who sees probe detail, each validated once into frozen values. The plugin's
 * own options (plugin-options.ts) compose these with the other parts.
 */
import { fromLoopback, type DetailPolicy } from './trust.js'
import type { CheckFunction, ResolvedCheck } from './types.js'
import { boolean, callback, invalid, isPlainObject, milliseconds, nonEmptyString, refusedOption, rejectUnknownKeys } from '../options.js'

export interface ProbePathsOptions {
  /** Liveness paths (default `['/health', '/livez']`). */
  liveness?: string | readonly string[]
  /** Readiness paths (default `['/ready', '/readyz']`); each also serves `<path>/<check>`. */
  readiness?: string | readonly string[]
  /** Startup paths (default `['/startup']`). */
  startup?: string | readonly string[]
}

export interface ResolvedPaths {
  readonly liveness: readonly string[]
  readonly readiness: readonly string[]
  readonly startup: readonly string[]
}

/** The defaults of the probes' options (part of the plugin's `DEFAULTS`). */
export const HEALTH_DEFAULTS = Object.freeze({
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
  logProbes: false
} as const)

/** Check names end up in URLs (`/ready/<name>`) and health+json keys (`<name>:responseTime`). */
const CHECK_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/i
/** Names the plugin reports itself, so a user check cannot shadow them. */
const RESERVED_NAMES = new Set(['pressure'])
const PATH = /^\/[A-Za-z0-9._~/-]*$/
/** More paths per probe, or more checks, is a mistake (a generated list), not a configuration: refused before any is read. */
export const MAX_PATHS = 16
export const MAX_CHECKS = 100
const SPEC_KEYS = new Set(['check', 'critical', 'liveness', 'timeoutMs', 'intervalMs', 'componentType'])
const PATH_KEYS = new Set(['liveness', 'readiness', 'startup'])

function resolveCheck (name: string, input: unknown, option: string, timeoutMs: number, intervalMs: number): ResolvedCheck {
  const spec: Record<string, unknown> = typeof input === 'function' ? { check: input } : (input as Record<string, unknown>)
  if (!isPlainObject(spec)) throw invalid(option, 'a function or an object { check, critical?, liveness?, timeoutMs?, intervalMs?, componentType? }', input)
  rejectUnknownKeys(spec, SPEC_KEYS, `${option}.`)
  const check = callback<CheckFunction>(spec.check, `${option}.check`, 'a function', invalid)
  const componentType = nonEmptyString(spec.componentType ?? HEALTH_DEFAULTS.componentType, `${option}.componentType`, invalid)
  return Object.freeze({
    name,
    check,
    critical: boolean(spec.critical, `${option}.critical`, HEALTH_DEFAULTS.critical),
    liveness: boolean(spec.liveness, `${option}.liveness`, HEALTH_DEFAULTS.liveness),
    timeoutMs: milliseconds(spec.timeoutMs, `${option}.timeoutMs`) ?? timeoutMs,
    intervalMs: milliseconds(spec.intervalMs, `${option}.intervalMs`) ?? intervalMs,
    componentType
  })
}

/** `checks`, with each check's timeout and interval defaulting to the top-level ones. */
export function resolveChecks (input: unknown, timeoutMs: number, intervalMs: number): readonly ResolvedCheck[] {
  if (input === undefined) return Object.freeze([])
  const entries: Array<[name: unknown, spec: unknown, option: string]> = []
  const size = Array.isArray(input) ? input.length : isPlainObject(input) ? Object.keys(input).length : 0
  if (size > MAX_CHECKS) throw refusedOption(`option "checks" must hold at most ${MAX_CHECKS} checks, got ${size}`)
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
  if (list.length > MAX_PATHS) throw refusedOption(`option ${JSON.stringify(option)} must list at most ${MAX_PATHS} paths, got ${list.length}`)
  for (const path of list) {
    if (typeof path !== 'string' || !PATH.test(path) || path.length < 2 || path.endsWith('/') || path.includes('//')) {
      throw invalid(option, expected, path)
    }
  }
  return Object.freeze([...list as string[]])
}

export function resolvePaths (input: unknown): ResolvedPaths {
  if (input === undefined) return HEALTH_DEFAULTS.paths
  if (!isPlainObject(input)) throw invalid('paths', 'an object { liveness?, readiness?, startup? }', input)
  rejectUnknownKeys(input, PATH_KEYS, 'paths.')
  const paths = {
    liveness: resolvePathList(input.liveness, 'paths.liveness', HEALTH_DEFAULTS.paths.liveness),
    readiness: resolvePathList(input.readiness, 'paths.readiness', HEALTH_DEFAULTS.paths.readiness),
    startup: resolvePathList(input.startup, 'paths.startup', HEALTH_DEFAULTS.paths.startup)
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

export function resolveProbeDetail (value: unknown): DetailPolicy {
  if (value === undefined) return fromLoopback
  return callback<DetailPolicy>(value, 'probeDetail', 'a function (request) => boolean telling whether the caller may see probe detail', invalid)
}
