/**
 * The report of a rollout run: a text summary for the terminal and a JSON
 * file (the HTML page a person reads is html-report.ts).
 */
import type { FailureRecord } from '../load/accounting.js'
import { describeEndings } from './endings.js'
import type { TimelineEvent } from '../cluster/events.js'
import type { RunResult } from '../run/measured-run.js'

/** Pod events a failure is placed against. */
const ANCHORS = new Set(['deleted', 'sigterm', 'sigkill', 'exited', 'endpoint-removed', 'endpoint-added', 'ready', 'created'])

/** The last event of the failure's pod (or of any pod) at or before the failure. */
export function anchorOf (failure: FailureRecord, events: readonly TimelineEvent[]): TimelineEvent | undefined {
  let best: TimelineEvent | undefined
  for (const e of events) {
    if (e.at > failure.at || !ANCHORS.has(e.type)) continue
    if (failure.pod !== undefined && e.pod !== failure.pod) continue
    best = e
  }
  return best
}

export interface FailureGroup {
  readonly count: number
  readonly kind: string
  /** The pod the connection was pinned to; '?' when the balancer cannot know (L7, check). */
  readonly pod: string
  /**
   * The pod event the failures followed: `sigterm`, `endpoint-removed`, ...
   * (`sigterm of web-v1-2` when the failing pod is unknown), or `start`.
   */
  readonly after: string
  /** Seconds after that event, first and last failure. */
  readonly fromS: number
  readonly toS: number
}

/** Failures grouped by kind, pod and the pod event they followed. */
export function groupFailures (result: Pick<RunResult, 'failures' | 'events'>): FailureGroup[] {
  const groups = new Map<string, { count: number, kind: string, pod: string, after: string, fromS: number, toS: number }>()
  for (const f of result.failures) {
    const anchor = anchorOf(f, result.events)
    const offset = (f.at - (anchor?.at ?? 0)) / 1000
    const pod = f.pod ?? '?'
    const after = anchor === undefined ? 'start' : f.pod === undefined ? `${anchor.type} of ${anchor.pod}` : anchor.type
    const key = `${f.kind}|${pod}|${after}`
    const g = groups.get(key)
    if (g === undefined) groups.set(key, { count: 1, kind: f.kind, pod, after, fromS: offset, toS: offset })
    else {
      g.count++
      g.fromS = Math.min(g.fromS, offset)
      g.toS = Math.max(g.toS, offset)
    }
  }
  return [...groups.values()]
}

/** `reset on web-v1-2, 0.01-0.02 s after sigterm` */
export function describe (g: FailureGroup): string {
  return `${g.kind}${g.pod === '?' ? '' : ` on ${g.pod}`}, ${g.fromS.toFixed(2)}-${g.toS.toFixed(2)} s after ${g.after}`
}

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

export interface ReportFile {
  readonly generatedAt: string
  readonly ok: boolean
  readonly summary: ReadonlyArray<{ readonly scenario: string, readonly label: string, readonly sent: number, readonly dropped: number, readonly retried: number }>
  readonly runs: ReadonlyArray<RunResult & { readonly failureGroups: FailureGroup[] }>
}

/** The JSON report; `ok` is false when the service under test dropped anything or a run failed. */
export function jsonReport (results: readonly RunResult[], underTest: string, now = new Date()): ReportFile {
  return {
    generatedAt: now.toISOString(),
    ok: verdict(results, underTest),
    summary: results.map((r) => ({ scenario: r.scenario, label: r.label, sent: r.counts.sent, dropped: r.dropped, retried: r.counts.retried })),
    runs: results.map((r) => ({ ...r, throughput: dense(r.throughput), drops: dense(r.drops), failureGroups: groupFailures(r) }))
  }
}

export function verdict (results: readonly RunResult[], underTest: string): boolean {
  return results.every((r) => r.error === undefined && r.unsettled === 0 && (r.label !== underTest || r.dropped === 0))
}

const dense = (bins: readonly number[]): number[] => Array.from(bins, (n) => n ?? 0)
