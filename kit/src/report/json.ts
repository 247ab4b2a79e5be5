/** The JSON report (`report.json`): every run, with its failures grouped, and the verdict. */
import type { NotRun } from '../load/preflight.js'
import type { RunResult } from '../run/result.js'
import { groupFailures, type FailureGroup } from './failure-groups.js'
import { summarizeTraffic, type TrafficSummary } from './shares.js'

export interface ReportFile {
  readonly generatedAt: string
  readonly ok: boolean
  readonly summary: ReadonlyArray<{ readonly scenario: string, readonly label: string, readonly sent: number, readonly dropped: number, readonly retried: number }>
  /** Scenarios the preflight kept out, and why (a route the service does not have). */
  readonly notRun: readonly NotRun[]
  readonly runs: ReadonlyArray<RunResult & { readonly failureGroups: FailureGroup[], readonly shares?: TrafficSummary }>
}

/**
 * The JSON report; `ok` is false when the service under test dropped anything
 * or a run failed, and when the preflight left it no scenario to run.
 */
export function jsonReport (results: readonly RunResult[], underTest: string, now = new Date(), notRun: readonly NotRun[] = []): ReportFile {
  return {
    generatedAt: now.toISOString(),
    ok: verdict(results, underTest) && (notRun.length === 0 || ran(results, underTest)),
    summary: results.map((r) => ({ scenario: r.scenario, label: r.label, sent: r.counts.sent, dropped: r.dropped, retried: r.counts.retried })),
    notRun,
    runs: results.map((r) => ({
      ...r,
      throughput: dense(r.throughput),
      drops: dense(r.drops),
      failureGroups: groupFailures(r),
      ...(r.traffic === undefined ? {} : { shares: summarizeTraffic(r.traffic) })
    }))
  }
}

export function verdict (results: readonly RunResult[], underTest: string): boolean {
  return results.every((r) => r.error === undefined && r.unsettled === 0 && (r.label !== underTest || r.dropped === 0))
}

/** Whether the service under test ran at all. */
export const ran = (results: readonly RunResult[], underTest: string): boolean => results.some((r) => r.label === underTest)

const dense = (bins: readonly number[]): number[] => Array.from(bins, (n) => n ?? 0)
