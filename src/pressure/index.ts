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
import { readLimits, type Measurement } from './limits.js'
import type { ResolvedPressure } from './options.js'

export type { Measurement } from './limits.js'

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
    // Per sample window: the default, cumulative since registration, barely
    // moves after a process has been up a while, so the limit would never trip.
    eventLoopUtilizationMode: 'interval',
    // Called only when a sample is over a limit, a stuck loop (Infinity) included: see limits.ts.
    pressureHandler: (_request, reply, type) => {
      shed++
      reply.code(503).header('retry-after', String(config.retryAfterSeconds))
      return { statusCode: 503, code: 'FST_UNDER_PRESSURE', error: 'Service Unavailable', message: `Service Unavailable: ${type} over its limit` } as never
    }
  })
  return Object.freeze({
    shed: () => shed,
    measurements: () => readLimits(app.memoryUsage(), config)
  })
}
