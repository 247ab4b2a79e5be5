/**
 * Time as the plugin's timing logic sees it, injectable so that state
 * machines driven by timers (the check runner) are unit-tested with a fake
 * clock instead of sleeps. Production code uses `SYSTEM_CLOCK`.
 */
import { performance } from 'node:perf_hooks'

export interface Clock {
  /** Monotonic milliseconds, for durations. */
  readonly now: () => number
  /** Wall-clock time, ISO 8601, for results a human reads. */
  readonly isoNow: () => string
  /**
   * Calls `fn` once after `ms`; returns a function that cancels it.
   * `keepAlive: false` (unref'ed) lets the process exit while it waits.
   */
  readonly after: (ms: number, fn: () => void, keepAlive: boolean) => () => void
}

export const SYSTEM_CLOCK: Clock = Object.freeze({
  now: () => performance.now(),
  isoNow: () => new Date().toISOString(),
  after: (ms: number, fn: () => void, keepAlive: boolean) => {
    const timer = setTimeout(fn, ms)
    if (!keepAlive) timer.unref()
    return () => { clearTimeout(timer) }
  }
})
