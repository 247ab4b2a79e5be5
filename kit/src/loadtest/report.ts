/**
 * The report of a rollout run: a text summary for the terminal, a JSON file
 * and a self-contained HTML page with one timeline chart per run.
 */
import type { FailureRecord } from './accounting.js'
import { BIN_MS } from './accounting.js'
import { describeEndings } from './endings.js'
import type { TimelineEvent } from './events.js'
import type { RunResult } from './run.js'

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

const kinds = (r: RunResult): string => {
  const parts = [...Object.entries(r.counts.statuses).map(([s, n]) => `${n}×${s}`), ...Object.entries(r.counts.failed).map(([k, n]) => `${n}×${k}`)]
  return parts.length === 0 ? '-' : parts.join(' ')
}

const ms = (n: number): string => `${n.toFixed(1)}ms`

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

const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)

const EVENT_COLOURS: Record<string, string> = { deleted: '#d97706', sigterm: '#dc2626', exited: '#6b7280', 'endpoint-removed': '#7c3aed', 'endpoint-added': '#059669', sigkill: '#000' }

/** One run's timeline: req/s (blue area), drops (red bars), pod events (vertical lines). */
export function timelineSvg (r: RunResult): string {
  const W = 900
  const H = 180
  const pad = 30
  const throughput = dense(r.throughput)
  const drops = dense(r.drops)
  const bins = Math.max(throughput.length, drops.length, Math.ceil(r.durationMs / BIN_MS), 1)
  const x = (bin: number): number => pad + bin * (W - 2 * pad) / bins
  const perS = 1000 / BIN_MS
  const maxRate = Math.max(1, ...throughput) * perS
  const maxDrop = Math.max(1, ...drops)
  const y = (v: number, max: number): number => H - pad - v * (H - 2 * pad) / max
  const area = throughput.map((n, i) => `${x(i).toFixed(1)},${y(n * perS, maxRate).toFixed(1)}`).join(' ')
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">`,
    `<title>${escape(`${r.scenario} / ${r.label}`)}</title>`,
    `<polyline fill="none" stroke="#2563eb" stroke-width="1.5" points="${area}"/>`,
    ...drops.map((n, i) => n > 0 ? `<rect x="${x(i).toFixed(1)}" y="${y(n, maxDrop).toFixed(1)}" width="${Math.max(2, x(1) - x(0)).toFixed(1)}" height="${(H - pad - y(n, maxDrop)).toFixed(1)}" fill="#dc2626"><title>${n} dropped at ${(i * BIN_MS / 1000).toFixed(2)} s</title></rect>` : ''),
    ...r.events.filter((e) => e.type in EVENT_COLOURS).map((e) => {
      const ex = x(e.at / BIN_MS).toFixed(1)
      return `<line x1="${ex}" x2="${ex}" y1="${pad}" y2="${H - pad}" stroke="${EVENT_COLOURS[e.type] as string}" stroke-dasharray="3,3"><title>${escape(`${(e.at / 1000).toFixed(2)} s ${e.type} ${e.pod}`)}</title></line>`
    }),
    `<line x1="${pad}" x2="${W - pad}" y1="${H - pad}" y2="${H - pad}" stroke="#999"/>`,
    `<text x="${pad}" y="${pad - 8}" font-size="11" fill="#2563eb">${Math.round(maxRate)} req/s</text>`,
    `<text x="${W - pad}" y="${pad - 8}" font-size="11" fill="#dc2626" text-anchor="end">drops (max ${maxDrop} per ${BIN_MS} ms)</text>`,
    `<text x="${W - pad}" y="${H - 8}" font-size="11" text-anchor="end">${(r.durationMs / 1000).toFixed(1)} s</text>`,
    '</svg>'
  ]
  return parts.join('')
}

/** Per deleted pod: how long it took to go and how its connections ended. */
function endingsTable (r: RunResult): string {
  const drained = r.pods.filter((p) => p.goneAfterDeletionMs !== undefined)
  if (drained.length === 0) return ''
  const cell = (n: number | undefined): string => `<td>${n === undefined ? '-' : n}</td>`
  const rows = drained.map((p) => `<tr><td>${escape(p.pod)}</td><td>${((p.goneAfterDeletionMs as number) / 1000).toFixed(1)} s</td>${cell(p.endings?.retired)}${cell(p.endings?.closedByClient)}${cell(p.endings?.idleClosed)}${cell(p.endings?.stalledClosed)}${cell(p.endings?.forced)}${cell(p.cut)}</tr>`)
  return `<table class="endings"><tr><th>pod</th><th>gone after deletion</th><th>retired (Connection: close)</th><th>closed by client</th><th>idle-closed</th><th>stalled</th><th>cut</th><th>requests cut</th></tr>${rows.join('')}</table>`
}

export function htmlReport (report: ReportFile, underTest: string): string {
  const rows = report.runs.map((r) => `<tr class="${r.label === underTest && r.dropped > 0 ? 'bad' : ''}"><td>${escape(r.scenario)}</td><td>${escape(r.label)}</td><td>${r.counts.sent}</td><td>${r.counts.ok}</td><td>${r.dropped}</td><td>${escape(kinds(r))}</td><td>${ms(r.latencyMs.p50)}</td><td>${ms(r.latencyMs.p99)}</td></tr>`)
  const sections = report.runs.map((r) => [
    `<section><h2>${escape(r.scenario)} / ${escape(r.label)}</h2><p>${escape(r.description)} — ${escape(r.command.join(' '))} via ${r.proxy}${r.error === undefined ? '' : ` — <b>run failed: ${escape(r.error)}</b>`}</p>`,
    timelineSvg(r),
    endingsTable(r),
    r.failureGroups.length === 0 ? '<p>No dropped requests.</p>' : `<ul>${r.failureGroups.map((g) => `<li>${g.count} × ${escape(describe(g))}</li>`).join('')}</ul>`,
    '</section>'
  ].join(''))
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Rollout report</title><style>
body{font:14px system-ui,sans-serif;margin:2em;color:#111}table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}tr.bad{background:#fee2e2}.legend span{margin-right:1em}</style></head><body>
<h1>Rolling update: ${report.ok ? 'no request dropped by the service under test' : 'requests dropped'}</h1>
<p>Generated ${escape(report.generatedAt)}. Service under test: <b>${escape(underTest)}</b>.</p>
<table><tr><th>scenario</th><th>target</th><th>sent</th><th>2xx</th><th>dropped</th><th>by kind</th><th>p50</th><th>p99</th></tr>${rows.join('')}</table>
<p class="legend">${Object.entries(EVENT_COLOURS).map(([k, c]) => `<span style="color:${c}">┊ ${k}</span>`).join('')}<span style="color:#2563eb">— req/s</span><span style="color:#dc2626">▮ drops</span></p>
${sections.join('\n')}
</body></html>
`
}
