/**
 * Load shedding with @fastify/under-pressure: while the event loop (or memory)
 * is saturated, the app's own routes answer 503 + Retry-After at once instead
 * of queueing into timeouts, while the probes keep answering.
 *
 * Saturation and the probes:
 * - liveness never looks at load: a saturated pod restarted by the kubelet
 *   loses all its in-flight work and puts its load on the others;
 * - readiness reports `warn` (200) by default: when every pod is saturated at
 *   once (the usual case: a traffic spike), failing readiness would remove all
 *   endpoints and turn overload into a full outage that flaps with each probe
 *   period, while per-request shedding already reacts within one sample.
 *   `pressure.readiness: 'fail'` turns it 503 for fleets where other pods have
 *   headroom and steering traffic away is the better answer.
 */
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import { errorCodes } from '../errors.js'
import type { PressureReadiness, ResolvedPressure } from './options.js'

/** One configured limit with its latest sample, as readiness reports it (a `system` component). */
export interface Measurement {
  readonly key: string
  readonly observedValue: number
  readonly observedUnit: string
  /** `pass`, or `pressure.readiness` while over the limit. */
  readonly status: 'pass' | PressureReadiness
  readonly output?: string
}

export interface PressureMonitor {
  /** The configured limits with their latest samples; empty when shedding is off. */
  measurements: () => readonly Measurement[]
  /** Requests answered 503 by load shedding since registration (counted on shed requests only). */
  shed: () => number
}

const NONE: PressureMonitor = Object.freeze({ measurements: () => [], shed: () => 0 })

export async function installPressure (app: FastifyInstance, config: ResolvedPressure | false): Promise<PressureMonitor> {
  if (config === false) return NONE
  if (app.hasDecorator('isUnderPressure')) {
    throw new errorCodes.FST_ZD_PRESSURE_CONFLICT('@fastify/under-pressure is already registered on this instance; pass option "pressure: false" to keep yours (probes stay exempt from it), or remove it and configure "pressure"')
  }
  // Counted where under-pressure sheds, so requests it lets through pay nothing.
  let shed = 0
  await app.register(underPressure, {
    maxEventLoopDelay: config.maxEventLoopDelayMs,
    maxEventLoopUtilization: config.maxEventLoopUtilization,
    maxHeapUsedBytes: config.maxHeapUsedBytes,
    maxRssBytes: config.maxRssBytes,
    sampleInterval: config.sampleIntervalMs,
    retryAfter: config.retryAfterSeconds,
    pressureHandler: (_request, reply, type, value) => {
      // under-pressure reports an event-loop delay of Infinity when a sample
      // window recorded nothing (typically the first one, during boot): that
      // is no measurement, and shedding on it would drop the first requests
      // of a pod that just became ready.
      if (typeof value === 'number' && !Number.isFinite(value)) return
      shed++
      reply.code(503).header('retry-after', String(config.retryAfterSeconds))
      return { statusCode: 503, code: 'FST_UNDER_PRESSURE', error: 'Service Unavailable', message: `Service Unavailable: ${type} over its limit` } as never
    }
  })
  const saturated = config.readiness
  const limits = [
    ['pressure:eventLoopDelay', config.maxEventLoopDelayMs, 'ms', 'eventLoopDelay'],
    ['pressure:eventLoopUtilization', config.maxEventLoopUtilization, 'percent', 'eventLoopUtilized'],
    ['pressure:heapUsed', config.maxHeapUsedBytes, 'bytes', 'heapUsed'],
    ['pressure:rss', config.maxRssBytes, 'bytes', 'rssBytes']
  ] as const
  const active = limits.filter(([, max]) => max > 0)
  return Object.freeze({
    shed: () => shed,
    measurements: () => {
      const usage = app.memoryUsage()
      return active.map(([key, max, unit, field]): Measurement => {
        const value = usage[field]
        // No sample yet (see pressureHandler): report it as such, not as saturation.
        if (!Number.isFinite(value)) return { key, observedValue: 0, observedUnit: unit, status: 'pass', output: 'no sample yet' }
        const observedValue = unit === 'percent' ? Math.round(value * 10000) / 100 : Math.round(value * 100) / 100
        return { key, observedValue, observedUnit: unit, status: value > max ? saturated : 'pass' }
      })
    }
  })
}
