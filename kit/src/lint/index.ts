/**
 * `fastify-zero-downtime lint`: finds the Kubernetes manifest mistakes that drop
 * requests during rollouts, drains and evictions. Rules live in ./rules, one
 * file per concern; each reports a rule id, the object and field, why it
 * matters and the fix.
 */
import { DEFAULTS, DRAIN_DEFAULTS, errorCodes } from 'fastify-zero-downtime'
import { createContext } from './context.js'
import { formatPath, objectRef } from './object.js'
import { RULES } from './rules/index.js'
import type { Finding, LintOptions, LintUnit } from './types.js'

export { loadInputs } from './load.js'
export { LintInputError, parseManifests } from './parse.js'
export { renderKustomization } from './kustomize.js'
export { formatHuman, formatJson } from './format.js'
export { RULES }
export type { Finding, LintOptions, LintUnit, RuleMeta, Severity, SourcedObject } from './types.js'

/**
 * The service's timing the rules compare manifests with: the plugin's own
 * defaults. Pass the values your service configures when they differ.
 */
export const LINT_DEFAULTS: LintOptions = Object.freeze({
  requestTimeoutMs: DRAIN_DEFAULTS.requestTimeoutMs,
  checkTimeoutMs: DEFAULTS.checkTimeoutMs,
  cleanupTimeoutMs: DRAIN_DEFAULTS.cleanupTimeoutMs,
  marginMs: DRAIN_DEFAULTS.marginMs,
  drainDelayMs: DRAIN_DEFAULTS.delayWithoutPreStopMs,
  // Fastify's default keepAliveTimeout, which the plugin keeps.
  keepAliveTimeoutMs: 72_000,
  disable: Object.freeze([]) as readonly string[]
})

const DURATION_KEYS = ['requestTimeoutMs', 'checkTimeoutMs', 'cleanupTimeoutMs', 'marginMs', 'drainDelayMs', 'keepAliveTimeoutMs'] as const

/** Validates lint options once into a frozen config; a coded TypeError (see the plugin's docs/errors.md) naming the option otherwise. */
export function resolveLintOptions (input: Partial<LintOptions> = {}): LintOptions {
  for (const key of Object.keys(input)) {
    if (key !== 'disable' && !(DURATION_KEYS as readonly string[]).includes(key)) throw new errorCodes.FST_ZD_UNKNOWN_OPTION(`unknown lint option "${key}" (known: ${[...DURATION_KEYS, 'disable'].join(', ')})`)
  }
  const resolved: Record<string, unknown> = { ...LINT_DEFAULTS }
  for (const key of DURATION_KEYS) {
    const value = input[key]
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new errorCodes.FST_ZD_INVALID_OPTION(`lint option "${key}" must be a non-negative number of milliseconds, got ${String(value)}`)
    }
    resolved[key] = value
  }
  const known = new Set(RULES.map((r) => r.meta.id))
  for (const id of input.disable ?? []) {
    if (!known.has(id)) throw new errorCodes.FST_ZD_INVALID_OPTION(`lint option "disable" names an unknown rule "${id}" (known: ${[...known].join(', ')})`)
  }
  resolved.disable = Object.freeze([...(input.disable ?? [])])
  return Object.freeze(resolved) as unknown as LintOptions
}

/** Runs every enabled rule on each unit. */
export function lint (units: readonly LintUnit[], options: LintOptions = LINT_DEFAULTS): Finding[] {
  const findings: Finding[] = []
  for (const unit of units) {
    const ctx = createContext(unit, options)
    for (const rule of RULES) {
      if (options.disable.includes(rule.meta.id)) continue
      rule.check(ctx, (target, path, message) => {
        const line = target.line?.(path)
        findings.push({
          rule: rule.meta.id,
          severity: rule.meta.severity,
          file: target.file,
          ...(line === undefined ? {} : { line }),
          ...(target.via === undefined ? {} : { via: target.via }),
          object: objectRef(target),
          path: formatPath(path),
          message,
          why: rule.meta.why,
          fix: rule.meta.fix
        })
      })
    }
  }
  return findings
}
