/**
 * Reading a drain's pino timeline in tests: which steps happened, in which
 * order, and durations only against the run's own logged budget (the
 * `signal` line), never against a fixed number of milliseconds.
 */
import type { Test } from 'tap'
import type { LogLine } from '../fixtures/drain/harness.js'

/** The `signal` line: what this run was configured with. */
export interface SignalLine extends LogLine {
  readonly reason: string
  readonly delayMs: number
  readonly idleCloseMs: number
  readonly deadlineMs: number
}

export function signalLine (logs: readonly LogLine[]): SignalLine {
  const line = logs.find((l) => l.drain === 'signal')
  if (line === undefined) throw new Error('no "signal" line: the drain never started')
  return line as SignalLine
}

/** The first line of `step`, or undefined. */
export function step (logs: readonly LogLine[], name: string): LogLine | undefined {
  return logs.find((l) => l.drain === name)
}

/** The drain steps among `names` in the order they were first logged. */
export function stepOrder (logs: readonly LogLine[], names: readonly string[]): string[] {
  const seen: string[] = []
  for (const l of logs) if (l.drain !== undefined && names.includes(l.drain) && !seen.includes(l.drain)) seen.push(l.drain)
  return seen
}

/**
 * Ended by its last connection or stream ("no connection left"), not by idle
 * closing or the deadline: both come later than the drain took, by this run's
 * own config.
 */
export function checkPromptEnd (t: Test, logs: readonly LogLine[]): void {
  const started = signalLine(logs)
  const drained = step(logs, 'http-drained')
  t.ok(drained, 'HTTP drained: no connection left')
  t.notOk(logs.some((l) => l.drain === 'deadline' || l.drain === 'cut' || l.drain === 'idle-closed'), 'neither the deadline nor idle closing ended it')
  t.ok((drained?.drainMs ?? Infinity) < Math.min(started.idleCloseMs, started.deadlineMs), 'drained before idle closing or the deadline were due')
}
