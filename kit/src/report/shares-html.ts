/**
 * The HTML report's share chart: per group, the share of requests it answered
 * per window (solid) and the share the Service asked for (dashed), on the
 * run's time axis, with the operator's actions marked. Where the solid line
 * stays away from its dashed one, traffic did not follow.
 */
import type { TimelineEvent } from '../cluster/events.js'
import type { ShareSeries, TrafficSummary } from './shares.js'

/** The run's horizontal geometry, shared with its timeline so both read on one axis. */
export interface ShareAxis {
  readonly width: number
  readonly left: number
  readonly plot: number
  readonly x: (at: number) => number
}

const COLOURS = ['#2563eb', '#16a34a', '#d97706', '#7c3aed', '#db2777', '#0891b2']
const TOP = 20
const CHART_H = 90
const LEGEND_H = 18

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const f1 = (n: number): string => n.toFixed(1)

/** Polyline runs of a series' values, one point per window middle; a gap (null) breaks the line. */
function lines (values: ReadonlyArray<number | null>, bounds: readonly number[], x: (at: number) => number, y: (v: number) => number, step: boolean): string[] {
  const runs: string[][] = [[]]
  values.forEach((v, i) => {
    const from = bounds[i] as number
    const to = bounds[i + 1] as number
    if (v === null) { runs.push([]); return }
    const run = runs[runs.length - 1] as string[]
    // A target holds over its whole window (a step); a share is one value per window (its middle).
    if (step) run.push(`${f1(x(from))},${f1(y(v))}`, `${f1(x(to))},${f1(y(v))}`)
    else run.push(`${f1(x((from + to) / 2))},${f1(y(v))}`)
  })
  return runs.filter((r) => r.length > 0).map((r) => r.join(' '))
}

function seriesSvg (s: ShareSeries, colour: string, bounds: readonly number[], axis: ShareAxis, y: (v: number) => number): string {
  const target = lines(s.targets, bounds, axis.x, y, true).map((p) => `<polyline class="target" points="${p}" fill="none" stroke="${colour}" stroke-width="1.5" stroke-dasharray="5 3"/>`)
  const share = lines(s.shares, bounds, axis.x, y, false).map((p) => `<polyline class="share" points="${p}" fill="none" stroke="${colour}" stroke-width="2"/>`)
  return `<g data-group="${escape(s.name)}"><title>${escape(s.name)}: share of requests (solid) and share asked for (dashed)</title>${target.join('')}${share.join('')}</g>`
}

/** The chart, or nothing when no request was counted per pod. */
export function sharesSvg (summary: TrafficSummary, events: readonly TimelineEvent[], axis: ShareAxis, title: string): string {
  if (summary.bounds.length < 2) return ''
  const bottom = TOP + CHART_H
  const y = (v: number): number => bottom - v * CHART_H
  const acts = events.filter((e) => e.type === 'operator')
  const legend = summary.groups.map((g, i) => `<text x="${f1(axis.left + i * 150)}" y="${bottom + LEGEND_H}" fill="${COLOURS[i % COLOURS.length] as string}">— ${escape(g.name)}</text>`)
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${axis.width} ${bottom + LEGEND_H + 6}" class="timeline shares" role="img" aria-label="${escape(`${title}: share of requests per group over time, against the share asked for`)}">`,
    `<text x="${axis.left - 6}" y="${TOP - 6}" text-anchor="end">share</text>`,
    ...[0, 0.5, 1].map((v) => `<line class="grid" x1="${axis.left}" x2="${axis.left + axis.plot}" y1="${f1(y(v))}" y2="${f1(y(v))}"/><text x="${axis.left - 6}" y="${f1(y(v) + 4)}" text-anchor="end" class="small">${v * 100} %</text>`),
    ...acts.map((e) => `<g class="operator"><line x1="${f1(axis.x(e.at))}" x2="${f1(axis.x(e.at))}" y1="${TOP}" y2="${bottom}" stroke="#475569" stroke-dasharray="2 2"/><text x="${f1(axis.x(e.at) + 3)}" y="${TOP - 6}" class="small">${escape(e.detail ?? '')}</text></g>`),
    ...summary.groups.map((g, i) => seriesSvg(g, COLOURS[i % COLOURS.length] as string, summary.bounds, axis, y)),
    ...legend,
    '</svg>'
  ].join('')
}
