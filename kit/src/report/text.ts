/** The text summary a run prints on the terminal: one row per run, then what each run lost and why. */
import type { NotRun } from '../load/preflight.js'
import type { BalancerStats } from '../network/balancer.js'
import type { RunResult } from '../run/result.js'
import { describeEndings } from './endings.js'
import { describe, groupFailures } from './failure-groups.js'
import { trafficNotes } from './shares.js'

/** `56×reset 3×503` */
export const kinds = (r: RunResult): string => {
  const parts = [...Object.entries(r.counts.statuses).map(([s, n]) => `${n}×${s}`), ...Object.entries(r.counts.failed).map(([k, n]) => `${n}×${k}`)]
  return parts.length === 0 ? '-' : parts.join(' ')
}

export const ms = (n: number): string => `${n.toFixed(1)}ms`

/** Endpoint updates listed one per line, at most this many. */
const ENDPOINT_ERRORS_SHOWN = 5

/** `balancer: 412 connections, 3 without an endpoint, 0 upstream errors` */
export function describeBalancer (b: BalancerStats): string {
  return `balancer: ${b.connections} connections, ${b.noEndpoint} without an endpoint, ${b.upstreamErrors} upstream errors`
}

/** The endpoint updates a run's balancer failed, for the reports: each, up to a few. */
export function endpointErrorLines (r: Pick<RunResult, 'endpointErrors'>): string[] {
  const errors = r.endpointErrors ?? []
  const shown = errors.slice(0, ENDPOINT_ERRORS_SHOWN).map((e) => `endpoint update failed: ${e}`)
  return errors.length > ENDPOINT_ERRORS_SHOWN ? [...shown, `... and ${errors.length - ENDPOINT_ERRORS_SHOWN} more endpoint update(s) failed`] : shown
}

/** `web-v1-1 198.18.1.1:8080, ...`: each pod's address, from its ready event. */
const podAddresses = (r: RunResult): string => r.events.filter((e) => e.type === 'ready').map((e) => `${e.pod} ${String(e.detail)}`).join(', ') || 'none (no pod became ready)'

/** What the table cannot say about one run: failures of the run itself, then how its pods ended and what it dropped. */
function runNotes (r: RunResult): string[] {
  const name = `${r.scenario} / ${r.label}`
  const lines: string[] = []
  if (r.dataPath !== undefined) lines.push('', `${name}: data path ${r.dataPath}; pods at ${podAddresses(r)}`)
  if (r.error !== undefined) lines.push('', `${name}: RUN FAILED: ${r.error}`)
  for (const e of endpointErrorLines(r)) lines.push(`  ${e}`)
  if (r.unsettled !== 0) lines.push('', `${name}: ${r.unsettled} requests unaccounted for (accounting bug)`)
  if (r.counts.retried > 0) lines.push('', `${name}: ${r.counts.retried} retries of requests refused unprocessed (REFUSED_STREAM or GOAWAY; not drops)`)
  if (r.balancer !== undefined && (r.balancer.noEndpoint > 0 || r.balancer.upstreamErrors > 0)) lines.push('', `${name}: ${describeBalancer(r.balancer)}`)
  for (const p of r.pods) if (p.drainReportProblem !== undefined) lines.push('', `${name}: pod ${p.pod}: ${p.drainReportProblem}`)
  const drained = r.pods.filter((p) => p.goneAfterDeletionMs !== undefined)
  if (drained.length > 0) lines.push('', `${name}: how each pod's connections ended`, ...drained.map((p) => `  ${describeEndings(p)}`))
  if (r.dropped > 0) lines.push('', `${name}: ${r.dropped} dropped`, ...groupFailures(r).map((g) => `  ${String(g.count).padStart(5)} × ${describe(g)}`))
  lines.push(...trafficNotes(r))
  return lines
}

/** Rows under a header row and a rule, each column as wide as its widest cell. */
function table (rows: readonly string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)))
  const lines = rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd())
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '))
  return lines
}

/** Each run's requests by kind (`GET /`, a requests file's names): sent, 2xx, dropped. */
function requestTable (results: readonly RunResult[]): string[] {
  const rows = results.flatMap((r) => Object.entries(r.byRequest ?? {}).map(([kind, c]) => [r.scenario, r.label, kind, String(c.sent), String(c.ok), String(c.dropped)]))
  return rows.length === 0 ? [] : ['', 'by request', ...table([['scenario', 'target', 'request', 'sent', 'ok', 'dropped'], ...rows])]
}

/** `slow / service: not run: GET /slow answered 404; point it with --slow-path or leave it out` */
export const notRunLine = (n: NotRun): string => `${n.scenario} / ${n.label}: not run: ${n.reason}`

export function textReport (results: readonly RunResult[], notRun: readonly NotRun[] = []): string {
  const rows = [['scenario', 'target', 'sent', 'ok', 'dropped', 'by kind', 'p50', 'p99']]
  for (const r of results) rows.push([r.scenario, r.label, String(r.counts.sent), String(r.counts.ok), String(r.dropped), kinds(r), ms(r.latencyMs.p50), ms(r.latencyMs.p99)])
  const skipped = notRun.length === 0 ? [] : ['', ...notRun.map(notRunLine)]
  return [...(results.length === 0 ? [] : table(rows)), ...requestTable(results), ...skipped, ...results.flatMap(runNotes)].join('\n') + '\n'
}
