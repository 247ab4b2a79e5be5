/**
 * The HTML report a person reads. Per run: req/s and drops over a time axis in
 * seconds, and under it one lane per pod with its lifecycle events labelled
 * and every dropped request on the lane of the pod that dropped it, so which
 * step of which pod lost what shows at a glance. Runs of one scenario share
 * the time scale and sit side by side (service next to baseline) when the
 * window is wide enough. Inline SVG and CSS only, no script and nothing
 * fetched: the file opens from disk or from a CI artifact as it is.
 */
import type { PodEndings } from '../cluster/drain-report.js'
import type { PodEventType, TimelineEvent } from '../cluster/events.js'
import { BIN_MS, type FailureRecord } from '../load/accounting.js'
import { describe } from './failure-groups.js'
import { ran, type ReportFile } from './json.js'
import { describeMoves } from './shares.js'
import { sharesSvg } from './shares-html.js'
import { describeBalancer, endpointErrorLines, kinds, ms, notRunLine } from './text.js'

type Run = ReportFile['runs'][number]

/** The lane of failures whose pod the client cannot know (L7, `check`, undici). */
export const UNKNOWN_POD = '?'

/** What each pod event is called on its lane, and its colour. */
export const POD_EVENTS: Readonly<Partial<Record<PodEventType, { readonly label: string, readonly colour: string }>>> = Object.freeze({
  created: { label: 'created', colour: '#64748b' },
  ready: { label: 'ready', colour: '#16a34a' },
  unready: { label: 'unready', colour: '#ca8a04' },
  'endpoint-added': { label: 'endpoint added', colour: '#059669' },
  'endpoint-removed': { label: 'endpoint removed', colour: '#7c3aed' },
  deleted: { label: 'deleted', colour: '#d97706' },
  sigterm: { label: 'SIGTERM', colour: '#dc2626' },
  sigkill: { label: 'SIGKILL', colour: '#000000' },
  exited: { label: 'exited', colour: '#475569' }
})

const DROP = '#dc2626'
const RATE = '#2563eb'

// Geometry, in SVG user units (the page scales the drawing to its column).
const W = 1000
const LEFT = 130
const RIGHT = 60
const PLOT = W - LEFT - RIGHT
const TOP = 22
const CHART_H = 110
const LANES_TOP = TOP + CHART_H + 14
const ROW_H = 13
const BAR_H = 10
const DROP_H = 16
const LANE_GAP = 6
const AXIS_H = 34
/** A rough advance per character of the 11-unit label font, to keep labels apart. */
const CHAR_W = 6.3

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const f1 = (n: number): string => n.toFixed(1)
const seconds = (at: number): string => `${(at / 1000).toFixed(2)} s`

/** A round ceiling for an axis: 1, 2 or 5 times a power of ten. */
function niceCeil (v: number): number {
  const p = 10 ** Math.floor(Math.log10(v))
  return ([1, 2, 5, 10].find((m) => m * p >= v) as number) * p
}

interface Label { readonly at: number, readonly text: string, row: number }

/** Where a label's text goes: right of its marker, or left of it where it would leave the drawing. */
function extent (l: Pick<Label, 'at' | 'text'>): { start: number, end: number, anchor: 'start' | 'end', textX: number } {
  const width = l.text.length * CHAR_W + 8
  return l.at + width <= W
    ? { start: l.at, end: l.at + width, anchor: 'start', textX: l.at + 3 }
    : { start: l.at - width, end: l.at, anchor: 'end', textX: l.at - 3 }
}

/** Puts each label in the first row where it does not run into the previous one. */
function packRows (labels: Label[]): number {
  const ends: number[] = []
  for (const l of [...labels].sort((a, b) => extent(a).start - extent(b).start)) {
    const { start, end } = extent(l)
    let row = ends.findIndex((e) => e <= start)
    if (row === -1) row = ends.push(0) - 1
    ends[row] = end
    l.row = row
  }
  return Math.max(1, ends.length)
}

const labelText = (l: Label, y: number, attrs: string, text: string): string => {
  const { anchor, textX } = extent(l)
  return `<text x="${f1(textX)}" y="${f1(y)}" text-anchor="${anchor}" ${attrs}>${escape(text)}</text>`
}

/** Drops of one pod in one run, per 250 ms bin, and in clusters of neighbouring bins. */
interface DropBin { readonly bin: number, readonly failures: FailureRecord[] }

function dropBins (failures: readonly FailureRecord[]): DropBin[] {
  const bins = new Map<number, FailureRecord[]>()
  for (const f of failures) {
    const bin = Math.floor(f.at / BIN_MS)
    bins.set(bin, [...(bins.get(bin) ?? []), f])
  }
  return [...bins].sort((a, b) => a[0] - b[0]).map(([bin, list]) => ({ bin, failures: list }))
}

/** Bins at most one empty bin apart form one cluster, labelled once. */
function clusters (bins: readonly DropBin[]): DropBin[][] {
  const out: DropBin[][] = []
  for (const b of bins) {
    const last = out.at(-1)
    if (last !== undefined && b.bin - (last.at(-1) as DropBin).bin <= 2) last.push(b)
    else out.push([b])
  }
  return out
}

/** `12 reset, 3 status 503` */
function byKind (failures: readonly FailureRecord[]): string {
  const counts = new Map<string, number>()
  for (const f of failures) counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1)
  return [...counts].map(([kind, n]) => `${n} ${kind}`).join(', ')
}

function eventLabel (e: TimelineEvent, lane: readonly TimelineEvent[]): string {
  const label = (POD_EVENTS[e.type] as { label: string }).label
  if (e.type !== 'exited' || e.detail === undefined) return label
  // The kit kills the pods still running when a run ends: not a grace-period SIGKILL.
  if (e.detail === 'SIGKILL' && !lane.some((x) => x.type === 'deleted')) return `${label} (killed at end of run)`
  return `${label} (${e.detail})`
}

interface Lane { readonly pod: string, readonly events: TimelineEvent[], readonly failures: FailureRecord[] }

/** One lane per pod, in the order the pods appeared; the unknown-pod lane last, when a failure needs it. */
export function lanesOf (run: Pick<Run, 'events' | 'failures'>): Lane[] {
  const lanes = new Map<string, Lane>()
  const lane = (pod: string): Lane => {
    const existing = lanes.get(pod)
    if (existing !== undefined) return existing
    const created: Lane = { pod, events: [], failures: [] }
    lanes.set(pod, created)
    return created
  }
  for (const e of run.events) if (e.type in POD_EVENTS) lane(e.pod).events.push(e)
  const known = run.failures.filter((f) => f.pod !== undefined)
  for (const f of known) lane(f.pod as string).failures.push(f)
  const unknown = run.failures.filter((f) => f.pod === undefined)
  if (unknown.length > 0) lane(UNKNOWN_POD).failures.push(...unknown)
  return [...lanes.values()]
}

/** Spans of a lane between a start event and the next end event (or the end of the run). */
function spans (events: readonly TimelineEvent[], start: PodEventType, ends: readonly PodEventType[], endMs: number): Array<[number, number]> {
  const out: Array<[number, number]> = []
  let from: number | undefined
  for (const e of events) {
    if (e.type === start && from === undefined) from = e.at
    else if (ends.includes(e.type) && from !== undefined) {
      out.push([from, e.at])
      from = undefined
    }
  }
  if (from !== undefined) out.push([from, endMs])
  return out
}

interface Scale { readonly x: (at: number) => number, readonly endMs: number }

function laneSvg (lane: Lane, index: number, top: number, scale: Scale, maxBin: number): { svg: string, height: number } {
  const { x, endMs } = scale
  const labels: Array<Label & { readonly svg: (y: number, barY: number) => string }> = []
  for (const e of lane.events) {
    const { colour } = POD_EVENTS[e.type] as { colour: string }
    const text = eventLabel(e, lane.events)
    const ex = x(e.at)
    const label: Label = { at: ex, text, row: 0 }
    labels.push({
      ...label,
      svg: (y, barY) => `<g class="event" data-type="${e.type}" data-at="${e.at}"><line x1="${f1(ex)}" x2="${f1(ex)}" y1="${f1(y - 9)}" y2="${f1(barY + BAR_H)}" stroke="${colour}" stroke-width="1.5"/>${labelText(label, y, `fill="${colour}"`, text)}<title>${escape(`${seconds(e.at)}: ${lane.pod} ${text}${e.detail === undefined || e.type === 'exited' ? '' : ` (${e.detail})`}`)}</title></g>`
    })
  }
  const bins = dropBins(lane.failures)
  for (const group of clusters(bins)) {
    const failures = group.flatMap((b) => b.failures)
    const text = `${failures.length} dropped: ${byKind(failures)}`
    const gx = x((group[0] as DropBin).bin * BIN_MS)
    const label: Label = { at: gx, text, row: 0 }
    labels.push({
      ...label,
      svg: (y, barY) => `<g class="drop-label"><line x1="${f1(gx)}" x2="${f1(gx)}" y1="${f1(y - 9)}" y2="${f1(barY + BAR_H + DROP_H)}" stroke="${DROP}" stroke-dasharray="2,2"/>${labelText(label, y, `fill="${DROP}" font-weight="600"`, text)}</g>`
    })
  }
  const rows = packRows(labels)
  const barY = top + rows * ROW_H + 2
  const height = rows * ROW_H + 2 + BAR_H + DROP_H + LANE_GAP
  const life = lane.events.length === 0 ? [] : spans(lane.events, lane.events[0]!.type, ['exited'], endMs)
  const band = (cls: string, [from, to]: [number, number], fill: string, y: number, h: number): string =>
    `<rect class="${cls}" x="${f1(x(from))}" y="${f1(y)}" width="${f1(Math.max(1, x(to) - x(from)))}" height="${h}" fill="${fill}"/>`
  const binW = Math.max(2, x(BIN_MS) - x(0))
  const name = lane.pod === UNKNOWN_POD ? 'unknown pod' : lane.pod
  const parts = [
    `<g class="lane" data-pod="${escape(lane.pod)}">`,
    `<rect x="0" y="${f1(top - 2)}" width="${W}" height="${f1(height)}" fill="${index % 2 === 0 ? '#f8fafc' : '#ffffff'}"/>`,
    `<text class="lane-name" x="${LEFT - 8}" y="${f1(barY + BAR_H - 1)}" text-anchor="end">${escape(name)}</text>`,
    lane.pod === UNKNOWN_POD ? `<text class="lane-note" x="${LEFT - 8}" y="${f1(barY + BAR_H + 12)}" text-anchor="end">client cannot tell</text>` : '',
    ...life.map((s) => band('life', s, '#cbd5e1', barY + BAR_H / 2 - 1, 2)),
    ...spans(lane.events, 'endpoint-added', ['endpoint-removed', 'exited'], endMs).map((s) => band('in-endpoints', s, '#86efac', barY + 1, BAR_H - 2)),
    ...spans(lane.events, 'deleted', ['exited'], endMs).map((s) => band('terminating', s, 'url(#hatch)', barY, BAR_H)),
    ...labels.map((l) => l.svg(top + (l.row + 1) * ROW_H - 2, barY)),
    ...bins.map((b) => {
      const h = Math.max(3, DROP_H * Math.sqrt(b.failures.length / maxBin))
      return `<rect class="drop" data-pod="${escape(lane.pod)}" data-count="${b.failures.length}" x="${f1(x(b.bin * BIN_MS))}" y="${f1(barY + BAR_H + DROP_H - h)}" width="${f1(binW)}" height="${f1(h)}" fill="${DROP}"><title>${escape(`${b.failures.length} dropped on ${name} at ${seconds(b.bin * BIN_MS)}-${seconds((b.bin + 1) * BIN_MS)}: ${byKind(b.failures)}`)}</title></rect>`
    }),
    '</g>'
  ]
  return { svg: parts.join(''), height }
}

/** One run: the req/s and drops chart, the rollouts, the pod lanes and the time axis. */
export function runSvg (run: Run, endMs: number): string {
  const scale: Scale = { x: (at) => LEFT + Math.min(at, endMs) / endMs * PLOT, endMs }
  const { x } = scale
  const perS = 1000 / BIN_MS
  const rate = run.throughput.map((n) => n * perS)
  const maxRate = niceCeil(Math.max(1, ...rate))
  const maxDrop = niceCeil(Math.max(1, ...run.drops))
  const chartBottom = TOP + CHART_H
  const yRate = (v: number): number => chartBottom - v / maxRate * CHART_H
  const yDrop = (v: number): number => chartBottom - v / maxDrop * CHART_H
  const binW = Math.max(2, x(BIN_MS) - x(0))
  const lanes = lanesOf(run)
  const maxBin = Math.max(1, ...lanes.flatMap((l) => dropBins(l.failures).map((b) => b.failures.length)))
  let y = LANES_TOP
  const laneParts = lanes.map((lane, i) => {
    const drawn = laneSvg(lane, i, y, scale, maxBin)
    y += drawn.height
    return drawn.svg
  })
  const lanesBottom = y
  const H = lanesBottom + AXIS_H
  // A round step (1, 2 or 5 times a power of ten) that puts at most 12 ticks on the axis.
  const step = niceCeil(endMs / 1000 / 12)
  const ticks = Array.from({ length: Math.floor(endMs / 1000 / step + 1e-9) + 1 }, (_, i) => i * step)
  const rollouts = run.events.filter((e) => e.type === 'rollout-started').map((start, i) => {
    const end = run.events.find((e) => (e.type === 'rollout-complete' || e.type === 'rollout-stopped') && e.version === start.version && e.at >= start.at)
    // The first rollout of a run that created its pods is the first Deployment coming up (v1, or blue).
    const firstPod = run.events.find((e) => e.type === 'created')
    const text = i === 0 && firstPod !== undefined && firstPod.at >= start.at ? `deploying ${start.version}` : `rollout to ${start.version}`
    return { start, end, label: { at: x(start.at), text, row: 0 } }
  })
  // Short rollouts close together: later labels go lower, into the band.
  packRows(rollouts.map((r) => r.label))
  const rolloutParts = rollouts.map(({ start, end, label }) => {
    const x2 = x(end?.at ?? endMs)
    return `<g class="rollout"><rect x="${f1(label.at)}" y="${TOP}" width="${f1(Math.max(1, x2 - label.at))}" height="${CHART_H}" fill="#f1f5f9"/>${labelText(label, TOP - 6 + label.row * ROW_H, 'class="rollout-label"', label.text)}<title>${escape(`${label.text}: ${seconds(start.at)} to ${end === undefined ? 'end of run' : seconds(end.at)}`)}</title></g>`
  })
  const area = [`${f1(x(0))},${f1(chartBottom)}`, ...rate.map((v, i) => `${f1(x((i + 0.5) * BIN_MS))},${f1(yRate(v))}`), `${f1(x(rate.length * BIN_MS))},${f1(chartBottom)}`].join(' ')
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${f1(H)}" class="timeline" role="img" aria-label="${escape(`${run.scenario} / ${run.label}: requests per second, drops and pod events over time`)}">`,
    ...rolloutParts,
    ...ticks.map((s) => `<line class="grid" x1="${f1(x(s * 1000))}" x2="${f1(x(s * 1000))}" y1="${TOP}" y2="${f1(lanesBottom)}"/>`),
    `<polygon class="rate" points="${area}" fill="${RATE}" fill-opacity="0.15" stroke="${RATE}" stroke-width="1.5"/>`,
    ...run.drops.map((n, i) => n > 0 ? `<rect class="drops-total" x="${f1(x(i * BIN_MS))}" y="${f1(yDrop(n))}" width="${f1(binW)}" height="${f1(chartBottom - yDrop(n))}" fill="${DROP}"><title>${n} dropped at ${seconds(i * BIN_MS)}</title></rect>` : ''),
    `<line x1="${LEFT}" x2="${LEFT + PLOT}" y1="${chartBottom}" y2="${chartBottom}" stroke="#94a3b8"/>`,
    `<text x="${LEFT - 6}" y="${TOP - 8}" text-anchor="end" fill="${RATE}">req/s</text>`,
    `<text x="${LEFT - 6}" y="${TOP + 8}" text-anchor="end" fill="${RATE}">${maxRate}</text>`,
    `<text x="${LEFT - 6}" y="${chartBottom}" text-anchor="end" fill="${RATE}">0</text>`,
    `<text x="${W - 2}" y="${TOP - 8}" text-anchor="end" fill="${DROP}">drops / ${BIN_MS} ms</text>`,
    `<text x="${LEFT + PLOT + 6}" y="${TOP + 8}" fill="${DROP}">${maxDrop}</text>`,
    `<text x="${LEFT + PLOT + 6}" y="${chartBottom}" fill="${DROP}">0</text>`,
    ...laneParts,
    `<g class="axis"><line x1="${LEFT}" x2="${LEFT + PLOT}" y1="${f1(lanesBottom)}" y2="${f1(lanesBottom)}" stroke="#475569"/>`,
    ...ticks.map((s) => `<line x1="${f1(x(s * 1000))}" x2="${f1(x(s * 1000))}" y1="${f1(lanesBottom)}" y2="${f1(lanesBottom + 5)}" stroke="#475569"/><text class="tick" x="${f1(x(s * 1000))}" y="${f1(lanesBottom + 17)}" text-anchor="middle">${Number(s.toFixed(1))}</text>`),
    `<text x="${LEFT + PLOT / 2}" y="${f1(lanesBottom + 31)}" text-anchor="middle" class="small">seconds since the run started</text></g>`,
    '</svg>'
  ].join('')
}

/** Per deleted pod: how long it took to go and how its connections (and, if any pod served HTTP/2, its sessions) ended. */
function endingsTable (r: Run): string {
  const drained = r.pods.filter((p) => p.goneAfterDeletionMs !== undefined)
  if (drained.length === 0) return ''
  const cell = (n: number | undefined): string => `<td>${n === undefined ? '-' : n}</td>`
  const h2 = drained.some((p) => p.http2 !== undefined)
  const h2Head = h2 ? '<th>HTTP/2 sessions</th><th>told to go away (idle)</th><th>sessions cut</th><th>streams served in the drain</th>' : ''
  const h2Cells = (p: PodEndings): string => !h2 ? '' : p.http2 === undefined ? '<td>-</td><td>-</td><td>-</td><td>-</td>' : `${cell(p.http2.sessions)}<td>${p.http2.goaways} (${p.http2.idleClosed})</td>${cell(p.http2.forced)}${cell(p.http2.streamsServed)}`
  const counts = (p: PodEndings): string => p.drainReportProblem === undefined
    ? `${cell(p.endings?.retired)}${cell(p.endings?.closedByClient)}${cell(p.endings?.idleClosed)}${cell(p.endings?.stalledClosed)}${cell(p.endings?.forced)}${cell(p.cut)}${h2Cells(p)}`
    : `<td class="problem" colspan="${h2 ? 10 : 6}">${escape(p.drainReportProblem)}</td>`
  const rows = drained.map((p) => `<tr><td>${escape(p.pod)}</td><td>${((p.goneAfterDeletionMs as number) / 1000).toFixed(1)} s</td>${counts(p)}</tr>`)
  return `<table class="endings"><tr><th>pod</th><th>gone after deletion</th><th>retired (Connection: close)</th><th>closed by client</th><th>idle-closed</th><th>stalled</th><th>cut</th><th>requests cut</th>${h2Head}</tr>${rows.join('')}</table>`
}

/** What a run's numbers cannot say: endpoint updates its balancer failed, pods whose drain report could not be read. */
function runNotes (r: Run): string {
  const notes = [...endpointErrorLines(r), ...r.pods.filter((p) => p.drainReportProblem !== undefined).map((p) => `pod ${p.pod}: ${p.drainReportProblem as string}`)]
  return notes.length === 0 ? '' : `<ul class="notes problem">${notes.map((n) => `<li>${escape(n)}</li>`).join('')}</ul>`
}

/** Where the run counted requests per pod: the shares over time against what the Service asked for, and each move. */
function sharesSection (r: Run, endMs: number): string {
  if (r.shares === undefined) return ''
  const axis = { width: W, left: LEFT, plot: PLOT, x: (at: number) => LEFT + Math.min(at, endMs) / endMs * PLOT }
  const moves = describeMoves(r.shares)
  return sharesSvg(r.shares, r.events, axis, `${r.scenario} / ${r.label}`) + `<ul class="moves">${moves.map((m) => `<li>${escape(m)}</li>`).join('')}</ul>`
}

/** The run's requests by kind (`GET /`, a requests file's names). */
function requestsTable (r: Run): string {
  const rows = Object.entries(r.byRequest ?? {}).map(([kind, c]) => `<tr class="${c.dropped > 0 ? 'dropped' : ''}"><td>${escape(kind)}</td><td>${c.sent}</td><td>${c.ok}</td><td>${c.dropped}</td></tr>`)
  return rows.length === 0 ? '' : `<table class="requests"><tr><th>request</th><th>sent</th><th>2xx</th><th>dropped</th></tr>${rows.join('')}</table>`
}

/** What the preflight kept out: a route the service does not have is never counted as drops. */
function notRunList (report: ReportFile): string {
  if (report.notRun.length === 0) return ''
  return `<h2 id="not-run">Not run</h2><p>The preflight tried each scenario's requests once against one replica before any load; these routes are not there, so the scenarios were left out rather than counted as drops.</p><ul class="not-run">${report.notRun.map((n) => `<li>${escape(notRunLine(n))}</li>`).join('')}</ul>`
}

function runSection (r: Run, endMs: number, underTest: string): string {
  const verdictClass = r.error !== undefined || (r.label === underTest && r.dropped > 0) ? 'bad' : r.dropped > 0 ? 'dropped' : 'clean'
  return [
    `<section class="run ${verdictClass}" data-scenario="${escape(r.scenario)}" data-label="${escape(r.label)}">`,
    `<h3>${escape(r.label)}${r.label === underTest ? ' <span class="tag">under test</span>' : ''}: ${r.dropped} dropped of ${r.counts.sent}</h3>`,
    `<p class="cmd">${escape(r.command.join(' '))} via ${escape(r.proxy)}${r.balancer === undefined ? '' : ` · ${describeBalancer(r.balancer)}`}${r.error === undefined ? '' : ` — <b>run failed: ${escape(r.error)}</b>`}</p>`,
    runNotes(r),
    requestsTable(r),
    runSvg(r, endMs),
    sharesSection(r, endMs),
    r.failureGroups.length === 0 ? '<p>No dropped requests.</p>' : `<ul class="groups">${r.failureGroups.map((g) => `<li>${g.count} × ${escape(describe(g))}</li>`).join('')}</ul>`,
    endingsTable(r),
    '</section>'
  ].join('')
}

const swatch = (svg: string): string => `<svg viewBox="0 0 24 14" width="24" height="14" aria-hidden="true">${svg}</svg>`

function legend (): string {
  const items = [
    [swatch(`<polyline points="0,12 8,4 16,8 24,2" fill="none" stroke="${RATE}" stroke-width="2"/>`), 'requests per second (answered, per 250 ms)'],
    [swatch(`<rect x="8" y="3" width="6" height="11" fill="${DROP}"/>`), 'dropped requests (chart: all; lanes: that pod\'s)'],
    [swatch('<rect x="0" y="0" width="24" height="14" fill="#f1f5f9" stroke="#cbd5e1"/>'), 'a rollout, until its last new pod is available'],
    [swatch('<rect x="0" y="3" width="24" height="8" fill="#86efac"/>'), 'pod is an endpoint (the balancer sends it traffic)'],
    [swatch('<rect x="0" y="2" width="24" height="10" fill="url(#hatch)"/>'), 'pod is terminating (deleted, not exited yet)'],
    ...Object.values(POD_EVENTS).map((e) => [swatch(`<line x1="12" x2="12" y1="0" y2="14" stroke="${e.colour}" stroke-width="2"/>`), `<span style="color:${e.colour}">${escape(e.label)}</span>`])
  ]
  return `<ul class="legend">${items.map(([s, t]) => `<li>${s as string}${t as string}</li>`).join('')}</ul>`
}

/** Shared by every drawing on the page (one definition: ids must be unique in a document). */
const PATTERNS = '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fde68a"/><line x1="0" y1="0" x2="0" y2="6" stroke="#d97706" stroke-width="2"/></pattern></defs></svg>'

const STYLE = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#0f172a}
h1{font-size:1.4em}h2{font-size:1.2em;margin:1.6em 0 .2em}h3{font-size:1em;margin:.4em 0}
table{border-collapse:collapse;margin:.5em 0;font-size:.92em}.endings th{white-space:normal;vertical-align:bottom}td,th{padding:3px 10px;white-space:nowrap;border-bottom:1px solid #e2e8f0;text-align:left}
tr.bad,section.bad{background:#fef2f2}tr.dropped td{color:#b91c1c}
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.3em 1.4em}.legend li{display:flex;align-items:center;gap:.4em}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(880px,1fr));gap:1em}
section.run{border:1px solid #e2e8f0;border-radius:6px;padding:.5em .8em}
.tag{font-size:.8em;background:#e0e7ff;border-radius:4px;padding:0 .4em}
.cmd{color:#475569;font-size:.9em;margin:0 0 .3em;word-break:break-all}
svg.timeline{width:100%;height:auto;display:block}
svg.timeline text{font-size:11px;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
svg.timeline .small{font-size:10px;fill:#475569}svg.timeline .tick{fill:#334155}
svg.timeline .lane-name{font-weight:600;fill:#0f172a}svg.timeline .lane-note{font-size:10px;fill:#64748b}
svg.timeline .rollout-label{fill:#334155}svg.timeline .grid{stroke:#e2e8f0}
.groups{margin:.3em 0}.problem{color:#b91c1c;font-weight:600}
`

function headline (report: ReportFile, underTest: string): string {
  if (report.ok) return 'no request dropped by the service under test'
  return ran(report.runs, underTest) ? 'requests dropped' : 'no scenario could run against the service under test'
}

export function htmlReport (report: ReportFile, underTest: string): string {
  const rows = report.runs.map((r) => `<tr class="${r.label === underTest && r.dropped > 0 ? 'bad' : ''}"><td>${escape(r.scenario)}</td><td>${escape(r.label)}</td><td>${r.counts.sent}</td><td>${r.counts.ok}</td><td>${r.dropped}</td><td>${escape(kinds(r))}</td><td>${ms(r.latencyMs.p50)}</td><td>${ms(r.latencyMs.p99)}</td></tr>`)
  const scenarios = [...new Set(report.runs.map((r) => r.scenario))].map((name) => {
    const runs = report.runs.filter((r) => r.scenario === name)
    // One time scale for the runs of a scenario, so service and baseline compare point by point.
    const endMs = Math.max(1000, ...runs.map((r) => r.durationMs))
    return `<h2 id="${escape(encodeURIComponent(name))}">${escape(name)}</h2><p>${escape((runs[0] as Run).description)}</p><div class="pair">${runs.map((r) => runSection(r, endMs, underTest)).join('')}</div>`
  })
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Rollout report</title><style>${STYLE}</style></head><body>
${PATTERNS}
<h1>Rolling update: ${headline(report, underTest)}</h1>
<p>Generated ${escape(report.generatedAt)}. Service under test: <b>${escape(underTest)}</b>.</p>
<table><tr><th>scenario</th><th>target</th><th>sent</th><th>2xx</th><th>dropped</th><th>by kind</th><th>p50</th><th>p99</th></tr>${rows.join('')}</table>
${notRunList(report)}
<h2>How to read the timelines</h2>
<p>Each run: requests per second and drops on top; under it one lane per pod, in the order the pods were created, with its events labelled and the requests it dropped as red bars on its lane (the label says how many and what kind). Drops whose pod the client cannot know (through an L7 proxy, undici, <code>check</code>) go on the <i>unknown pod</i> lane. Time runs left to right in seconds since the run started, on one scale for all runs of a scenario. Hover over anything for exact times.</p>
${legend()}
${scenarios.join('\n')}
</body></html>
`
}
