/**
 * What one sample of @fastify/under-pressure says about each configured limit.
 *
 * How under-pressure (v9) samples: a `monitorEventLoopDelay` histogram with a
 * 10 ms resolution is read and reset every `sampleInterval`; the delay is the
 * histogram's mean minus that resolution. A reset also forgets the previous
 * tick, so the first tick after it is never recorded: a window in which the
 * loop turned at most once records nothing, and under-pressure reports the
 * mean of nothing (NaN) as Infinity. That is the stuck loop itself (one
 * block, or CPU-bound tasks back to back, filling the whole window), never a
 * missing measurement: under-pressure sheds on it, and so does the plugin.
 * Before the first sample every value is 0.
 */
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

/** `app.memoryUsage()` of under-pressure. */
export interface PressureSample {
  readonly eventLoopDelay: number
  readonly eventLoopUtilized: number
  readonly heapUsed: number
  readonly rssBytes: number
}

const LIMITS = [
  ['pressure:eventLoopDelay', 'maxEventLoopDelayMs', 'ms', 'eventLoopDelay'],
  ['pressure:eventLoopUtilization', 'maxEventLoopUtilization', 'percent', 'eventLoopUtilized'],
  ['pressure:heapUsed', 'maxHeapUsedBytes', 'bytes', 'heapUsed'],
  ['pressure:rss', 'maxRssBytes', 'bytes', 'rssBytes']
] as const

/** Each configured limit (0 is "no limit") with the sample's value and whether it is over. */
export function readLimits (sample: PressureSample, config: ResolvedPressure): Measurement[] {
  // A live process never has a resident set of 0: under-pressure has not sampled yet.
  const sampled = sample.rssBytes > 0
  return LIMITS.filter(([, option]) => config[option] > 0).map(([key, option, unit, field]): Measurement => {
    if (!sampled) return { key, observedValue: 0, observedUnit: unit, status: 'pass', output: 'no sample yet' }
    const value = sample[field]
    if (!Number.isFinite(value)) {
      // Only the delay is ever non-finite (see above): the window's length is what is known of the stall.
      return { key, observedValue: config.sampleIntervalMs, observedUnit: unit, status: config.readiness, output: `the event loop did not turn during a whole sample window (${config.sampleIntervalMs} ms or more)` }
    }
    const observedValue = unit === 'percent' ? Math.round(value * 10000) / 100 : Math.round(value * 100) / 100
    return { key, observedValue, observedUnit: unit, status: value > config[option] ? config.readiness : 'pass' }
  })
}

/** under-pressure's name of each limit (its `type`), in the order it checks them. */
const SHED_ORDER = [
  ['eventLoopDelay', 'maxEventLoopDelayMs', 'eventLoopDelay'],
  ['heapUsedBytes', 'maxHeapUsedBytes', 'heapUsed'],
  ['rssBytes', 'maxRssBytes', 'rssBytes'],
  ['eventLoopUtilization', 'maxEventLoopUtilization', 'eventLoopUtilized']
] as const

/**
 * The first configured limit the sample is over, named as under-pressure
 * names it (the shedding message says which); undefined when none is. The
 * hook asks only after `isUnderPressure()` said one is, on the same sample.
 */
export function overLimit (sample: PressureSample, config: ResolvedPressure): { type: string, value: number } | undefined {
  const over = SHED_ORDER.find(([, option, field]) => config[option] > 0 && sample[field] > config[option])
  return over === undefined ? undefined : { type: over[0], value: sample[over[2]] }
}
