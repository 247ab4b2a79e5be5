/** The text summary a run prints on the terminal: one row per run, then what each run lost and why. */
import type { RunResult } from '../run/result.js'
import { describeEndings } from './endings.js'
import { describe, groupFailures } from './failure-groups.js'

/** `56×reset 3×503` */
export const kinds = (r: RunResult): string => {
  const parts = [...Object.entries(r.counts.statuses).map(([s, n]) => `${n}×${s}`), ...Object.entries(r.counts.failed).map(([k, n]) => `${n}×${k}`)]
  return parts.length === 0 ? '-' : parts.join(' ')
}

export const ms = (n: number): string => `${n.toFixed(1)}ms`

export function textReport (results: readonly RunResult[]): string {
  const rows = [['scenario', 'target', 'sent', 'ok', 'dropped', 'by kind', 'p50', 'p99']]
  for (const r of results) rows.push([r.scenario, r.label, String(r.counts.sent), String(r.counts.ok), String(r.dropped), kinds(r), ms(r.latencyMs.p50), ms(r.latencyMs.p99)])
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)))
  const lines = rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd())
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '))
  for (const r of results) {
    if (r.error !== undefined) lines.push('', `${r.scenario} / ${r.label}: RUN FAILED: ${r.error}`)
    if (r.unsettled !== 0) lines.push('', `${r.scenario} / ${r.label}: ${r.unsettled} requests unaccounted for (accounting bug)`)
    if (r.counts.retried > 0) lines.push('', `${r.scenario} / ${r.label}: ${r.counts.retried} retries of requests refused unprocessed (REFUSED_STREAM or GOAWAY; not drops)`)
    for (const p of r.pods) if (p.drainReportProblem !== undefined) lines.push('', `${r.scenario} / ${r.label}: pod ${p.pod}: ${p.drainReportProblem}`)
    const drained = r.pods.filter((p) => p.goneAfterDeletionMs !== undefined)
    if (drained.length > 0) {
      lines.push('', `${r.scenario} / ${r.label}: how each pod's connections ended`)
      for (const p of drained) lines.push(`  ${describeEndings(p)}`)
    }
    if (r.dropped === 0) continue
    lines.push('', `${r.scenario} / ${r.label}: ${r.dropped} dropped`)
    for (const g of groupFailures(r)) {
      lines.push(`  ${String(g.count).padStart(5)} × ${describe(g)}`)
    }
  }
  return lines.join('\n') + '\n'
}
