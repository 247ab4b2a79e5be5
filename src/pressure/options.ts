/**
 * The load-shedding part of the plugin options, validated once into a frozen
 * config. The plugin's own options (plugin-options.ts) compose it with the
 * other parts.
 */
import { invalid, isPlainObject, limitOrFalse, MAX_TIMER_MS, milliseconds, oneOf, refusedOption, rejectUnknownKeys, wholeSeconds } from '../options.js'

/** How saturation shows on readiness (`pressure.readiness`). */
export type PressureReadiness = ResolvedPressure['readiness']

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

/** The defaults of `pressure` (part of the plugin's `DEFAULTS`). */
export const PRESSURE_DEFAULTS = Object.freeze({
  maxEventLoopDelayMs: 1000,
  maxEventLoopUtilization: false,
  maxHeapUsedBytes: false,
  maxRssBytes: false,
  sampleIntervalMs: 1000,
  retryAfterSeconds: 10,
  readiness: 'warn'
} as const)

const PRESSURE_KEYS = new Set(Object.keys(PRESSURE_DEFAULTS))

/** The resolution of under-pressure's event-loop histogram: it ticks every 10 ms. */
export const HISTOGRAM_RESOLUTION_MS = 10
/**
 * Shortest sample window: an idle loop must tick the histogram a few times in
 * every window, or an idle window would read as a stuck one (see limits.ts);
 * at 10 and 20 ms idle windows come out empty.
 */
export const MIN_SAMPLE_INTERVAL_MS = 5 * HISTOGRAM_RESOLUTION_MS

function sampleInterval (value: unknown, fallback: number): number {
  const ms = milliseconds(value, 'pressure.sampleIntervalMs') ?? fallback
  if (ms < MIN_SAMPLE_INTERVAL_MS) {
    throw invalid('pressure.sampleIntervalMs', `at least ${MIN_SAMPLE_INTERVAL_MS} milliseconds (the event-loop histogram ticks every ${HISTOGRAM_RESOLUTION_MS} ms: a shorter window is empty even on an idle loop, and an empty window reads as a stuck loop)`, value)
  }
  return ms
}

export function resolvePressure (input: unknown): ResolvedPressure | false {
  if (input === false) return false
  const p = input ?? {}
  if (!isPlainObject(p)) throw invalid('pressure', 'false or an object of load-shedding limits', input)
  rejectUnknownKeys(p, PRESSURE_KEYS, 'pressure.')
  const d = PRESSURE_DEFAULTS
  const sampleIntervalMs = sampleInterval(p.sampleIntervalMs, d.sampleIntervalMs)
  const maxEventLoopDelayMs = limitOrFalse(p.maxEventLoopDelayMs, 'pressure.maxEventLoopDelayMs', d.maxEventLoopDelayMs, MAX_TIMER_MS, 'milliseconds')
  // A window in which the loop never turned is over the limit whatever its
  // length (limits.ts): with a limit longer than the window, a stall shorter
  // than the limit would shed.
  if (maxEventLoopDelayMs > sampleIntervalMs) {
    throw refusedOption(`option "pressure.maxEventLoopDelayMs" (${maxEventLoopDelayMs} ms) must be at most "pressure.sampleIntervalMs" (${sampleIntervalMs} ms): a sample window in which the event loop never turned counts as over the limit, so a limit longer than the window cannot be honoured; raise pressure.sampleIntervalMs or lower the limit`)
  }
  return Object.freeze({
    maxEventLoopDelayMs,
    maxEventLoopUtilization: limitOrFalse(p.maxEventLoopUtilization, 'pressure.maxEventLoopUtilization', d.maxEventLoopUtilization, 1, 'utilization'),
    maxHeapUsedBytes: limitOrFalse(p.maxHeapUsedBytes, 'pressure.maxHeapUsedBytes', d.maxHeapUsedBytes, Number.MAX_SAFE_INTEGER, 'bytes'),
    maxRssBytes: limitOrFalse(p.maxRssBytes, 'pressure.maxRssBytes', d.maxRssBytes, Number.MAX_SAFE_INTEGER, 'bytes'),
    sampleIntervalMs,
    retryAfterSeconds: wholeSeconds(p.retryAfterSeconds ?? d.retryAfterSeconds, 'pressure.retryAfterSeconds'),
    readiness: oneOf(p.readiness, 'pressure.readiness', ['warn', 'fail'], d.readiness)
  })
}
