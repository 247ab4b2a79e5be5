import { invalid, isPlainObject, rejectUnknownKeys } from '../options.js'

/**
 * The part of a prom-client `Registry` the plugin uses, typed structurally so
 * that prom-client stays out of the plugin's types (it is an optional peer).
 */
export interface MetricsRegistry {
  registerMetric: (metric: never) => void
  getSingleMetric: (name: string) => unknown
  removeSingleMetric: (name: string) => void
}

export interface MetricsOptions {
  /** The prom-client `Registry` to register the `zero_downtime_*` metrics on (e.g. `client.register`). */
  registry: MetricsRegistry
}

export interface ResolvedMetrics {
  readonly registry: MetricsRegistry
}

const KEYS = new Set(['registry'])

export function resolveMetrics (input: unknown): ResolvedMetrics | false {
  if (input === undefined || input === false) return false
  if (!isPlainObject(input)) throw invalid('metrics', 'an object { registry } with a prom-client Registry, or false', input)
  rejectUnknownKeys(input, KEYS, 'metrics.')
  const { registry } = input as { registry?: unknown }
  const r = registry as Partial<Record<'registerMetric' | 'getSingleMetric' | 'removeSingleMetric' | 'metrics', unknown>> | null | undefined
  if (typeof r !== 'object' || r === null || typeof r.registerMetric !== 'function' || typeof r.getSingleMetric !== 'function' ||
    typeof r.removeSingleMetric !== 'function' || typeof r.metrics !== 'function') {
    throw invalid('metrics.registry', 'a prom-client Registry (e.g. `register` or `new Registry()` from prom-client)', registry)
  }
  return Object.freeze({ registry: registry as MetricsRegistry })
}
