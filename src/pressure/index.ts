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
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { errorCodes } from '../errors.js'
import { overLimit, readLimits, type Measurement, type PressureSample } from './limits.js'
import type { ResolvedPressure } from './options.js'

export type { Measurement } from './limits.js'

export interface PressureMonitor {
  /** The configured limits with their latest samples; empty when shedding is off. */
  measurements: () => readonly Measurement[]
  /** Requests answered 503 by load shedding since registration (counted on shed requests only). */
  shed: () => number
}

const NONE: PressureMonitor = Object.freeze({ measurements: () => [], shed: () => 0 })

/** A route's own `config.pressureHandler`, as @fastify/under-pressure defines it (the probes' lets them through). */
type RoutePressureHandler = (request: FastifyRequest, reply: FastifyReply, type: string, value: number) => unknown

/** What the plugin uses of under-pressure's decorators. */
interface Sampler {
  isUnderPressure: () => boolean
  memoryUsage: () => PressureSample
}

export async function installPressure (app: FastifyInstance, config: ResolvedPressure | false): Promise<PressureMonitor> {
  if (config === false) return NONE
  if (app.hasDecorator('isUnderPressure')) {
    throw new errorCodes.FST_ZD_PRESSURE_CONFLICT('@fastify/under-pressure is already registered on this instance; pass option "pressure: false" to keep yours (probes stay exempt from it), or remove it and configure "pressure"')
  }
  // under-pressure samples and judges; the plugin sheds. Its own onRequest
  // hook reads `request.routeOptions` on every request, which Fastify builds
  // as a new object of 12 fields each time: registered in a context of its
  // own that has no routes, that hook never runs, and the app's requests pay
  // one call to its `isUnderPressure()` (a few comparisons of cached
  // samples) in the hook below. Measured in docs/benchmarks.md.
  let sampler: Sampler | undefined
  await app.register(async (own) => {
    await own.register(underPressure, {
      maxEventLoopDelay: config.maxEventLoopDelayMs,
      maxEventLoopUtilization: config.maxEventLoopUtilization,
      maxHeapUsedBytes: config.maxHeapUsedBytes,
      maxRssBytes: config.maxRssBytes,
      sampleInterval: config.sampleIntervalMs,
      // Per sample window: the default, cumulative since registration, barely
      // moves after a process has been up a while, so the limit would never trip.
      eventLoopUtilizationMode: 'interval'
    })
    sampler = { isUnderPressure: own.isUnderPressure, memoryUsage: own.memoryUsage }
  })
  const { isUnderPressure, memoryUsage } = sampler!
  // The app keeps under-pressure's API, as when it is registered on the app.
  app.decorate('isUnderPressure', isUnderPressure)
  app.decorate('memoryUsage', memoryUsage)

  let shed = 0
  app.addHook('onRequest', (request, reply, done) => {
    if (!isUnderPressure()) {
      done()
      return
    }
    // Over a limit, a stuck loop (Infinity) included: see limits.ts. Only now
    // is the route looked at: its own pressureHandler (the probes') decides
    // first, as under-pressure lets it.
    const over = overLimit(memoryUsage(), config)
    // Unreachable: isUnderPressure() just judged the same cached sample (no
    // sample can come between, both run in this tick). Kept for the type.
    /* c8 ignore next 4 */
    if (over === undefined) {
      done()
      return
    }
    const own = (request.routeOptions.config as { pressureHandler?: RoutePressureHandler }).pressureHandler
    if (typeof own === 'function') {
      const result = own(request, reply, over.type, over.value)
      if (result instanceof Promise) result.then(() => { done() }, done)
      else if (result === undefined || result === null) done()
      else reply.send(result)
      return
    }
    shed++
    reply.code(503).header('retry-after', String(config.retryAfterSeconds)).send({
      statusCode: 503, code: 'FST_UNDER_PRESSURE', error: 'Service Unavailable', message: `Service Unavailable: ${over.type} over its limit`
    })
  })
  return Object.freeze({
    shed: () => shed,
    measurements: () => readLimits(memoryUsage(), config)
  })
}
