/**
 * Prometheus metrics on the app's own prom-client Registry.
 *
 * Every value is read from state the plugin keeps anyway (cached check
 * results, the lifecycle, the drain's counters, the shed count) in prom-client
 * `collect()` callbacks, i.e. when the registry is scraped: nothing is added to
 * the request path. prom-client is an optional peer: it is imported here,
 * with `import()`, only when the `metrics` option is given.
 *
 * Labels carry only names the plugin validated (check names, lifecycle states,
 * connection outcomes), never a check's error text: an error can quote a
 * connection string, and labels end up in every dashboard and alert.
 */
import type { DrainProgress } from '../drain/index.js'
import { errorCodes } from '../errors.js'
import type { CheckResult } from '../health/types.js'
import { LIFECYCLE_STATES, type LifecycleState } from '../lifecycle.js'
import type { ResolvedMetrics } from './options.js'
import { requirePromClient, type PromClient } from './prom-client.js'

/** What the metrics read, at scrape time. */
export interface MetricSources {
  readonly lifecycle: () => LifecycleState
  readonly checks: () => readonly CheckResult[]
  readonly drain: () => DrainProgress | undefined
  /** Connections (sessions) told to leave per reason, since the server started. */
  readonly retired: () => Readonly<Record<string, number>>
  readonly shed: () => number
}

/** Every metric the plugin registers; docs/probes.md lists them (a test keeps them in step). */
export const METRIC_NAMES = Object.freeze([
  'zero_downtime_check_up',
  'zero_downtime_check_duration_seconds',
  'zero_downtime_lifecycle_state',
  'zero_downtime_drain_requests_served_total',
  'zero_downtime_drain_connections_total',
  'zero_downtime_drain_requests_cut_total',
  'zero_downtime_drain_duration_seconds',
  'zero_downtime_connections_retired_total',
  'zero_downtime_shed_requests_total'
] as const)

/** How a connection left during the drain, as the `outcome` label says it. */
const OUTCOMES = Object.freeze([
  ['retired', 'retired'], ['closed_by_client', 'closedByClient'], ['idle_closed', 'idleClosed'], ['stalled_closed', 'stalledClosed'], ['forced', 'forced']
] as const)

function loadPromClient (): PromClient {
  try {
    return requirePromClient()
  } catch (err) {
    throw new errorCodes.FST_ZD_PROM_CLIENT_MISSING('option "metrics" needs prom-client: npm install prom-client', { cause: err })
  }
}

/**
 * Marks a metric whose app has closed: it stays readable (a scrape during
 * the process's last moments reads the drain's final counts) until another
 * app registers on the same registry and replaces it.
 */
const RELEASED = Symbol('fastify-zero-downtime metrics released')

type Releasable = object & { [RELEASED]?: true }

/**
 * Registers the `zero_downtime_*` metrics on the configured registry; returns
 * the function that releases them on app.close(), so another app (a per-test
 * one, an in-process restart) can register on the same registry.
 */
export async function installMetrics (config: ResolvedMetrics, sources: MetricSources): Promise<() => void> {
  const { registry } = config
  const existing = METRIC_NAMES.map((name) => [name, registry.getSingleMetric(name) as Releasable | undefined] as const)
  const taken = existing.filter(([, metric]) => metric !== undefined && metric[RELEASED] !== true).map(([name]) => name)
  if (taken.length > 0) {
    throw new errorCodes.FST_ZD_METRICS_CONFLICT(`option "metrics.registry" already has ${taken.join(', ')}: give each app its own Registry (or register the plugin once)`)
  }
  for (const [name, metric] of existing) if (metric !== undefined) registry.removeSingleMetric(name)
  const { Counter, Gauge } = loadPromClient()
  const registers = [registry as never]

  new Gauge({
    name: 'zero_downtime_check_up',
    help: 'Whether the check passes (1; a warning counts as passing) or fails (0), from its latest cached run',
    labelNames: ['check'],
    registers,
    collect () {
      for (const r of sources.checks()) this.set({ check: r.name }, r.status === 'fail' ? 0 : 1)
    }
  })
  new Gauge({
    name: 'zero_downtime_check_duration_seconds',
    help: 'How long the latest run of the check took (a timed-out run: its timeout)',
    labelNames: ['check'],
    registers,
    collect () {
      for (const r of sources.checks()) {
        if (!r.pending) this.set({ check: r.name }, r.latencyMs / 1000)
      }
    }
  })
  new Gauge({
    name: 'zero_downtime_lifecycle_state',
    help: 'The pod lifecycle state: 1 for the current one (starting, ready, draining, closing, stopped), 0 for the others',
    labelNames: ['state'],
    registers,
    collect () {
      const current = sources.lifecycle()
      for (const state of LIFECYCLE_STATES) this.set({ state }, state === current ? 1 : 0)
    }
  })
  // Counters read from the drain's own counts: reset and set to the total, so
  // a scrape costs the same however many requests there were.
  new Counter({
    name: 'zero_downtime_drain_requests_served_total',
    help: 'HTTP/1.x responses and HTTP/2 streams answered in full after the drain started (a stream its client reset is not served)',
    registers,
    collect () {
      this.reset()
      this.inc(sources.drain()?.servedDuringDrain ?? 0)
    }
  })
  new Counter({
    name: 'zero_downtime_drain_connections_total',
    help: 'HTTP/1.x connections and HTTP/2 sessions that ended during the drain, by outcome: retired (after a Connection: close response or a GOAWAY), closed_by_client, idle_closed (idle for drain.idleCloseMs), stalled_closed (request headers incomplete for drain.idleCloseMs), forced (cut at the deadline)',
    labelNames: ['outcome'],
    registers,
    collect () {
      const drain = sources.drain()
      this.reset()
      for (const [outcome, field] of OUTCOMES) this.inc({ outcome }, drain?.[field] ?? 0)
    }
  })
  new Counter({
    name: 'zero_downtime_drain_requests_cut_total',
    help: 'Requests the drain could not answer: in flight at the deadline (or a second signal), or pipelined after their connection\'s last response',
    registers,
    collect () {
      this.reset()
      this.inc(sources.drain()?.cut ?? 0)
    }
  })
  new Gauge({
    name: 'zero_downtime_drain_duration_seconds',
    help: 'Time since the drain started, until it stopped (then its total); 0 before any drain',
    registers,
    collect () {
      this.set((sources.drain()?.durationMs ?? 0) / 1000)
    }
  })
  new Counter({
    name: 'zero_downtime_connections_retired_total',
    help: 'HTTP/1.x connections and HTTP/2 sessions told to leave gracefully (Connection: close on their next response, GOAWAY), by reason: drain, or the reason given to retire()',
    labelNames: ['reason'],
    registers,
    collect () {
      this.reset()
      // `drain` always has a series: 0 until a drain, so a dashboard finds it before the first one.
      for (const [reason, n] of Object.entries({ drain: 0, ...sources.retired() })) this.inc({ reason }, n)
    }
  })
  new Counter({
    name: 'zero_downtime_shed_requests_total',
    help: 'Requests answered 503 by load shedding (@fastify/under-pressure) since the app started',
    registers,
    collect () {
      this.reset()
      this.inc(sources.shed())
    }
  })
  const ours = METRIC_NAMES.map((name) => registry.getSingleMetric(name) as Releasable)
  return () => {
    for (const metric of ours) metric[RELEASED] = true
  }
}
