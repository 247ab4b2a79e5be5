/**
 * The picture of the table: an SVG heat map, one row per recipe and one
 * column per proxy and scenario, coloured by dropped requests per rollout
 * (green at zero, orange to dark red on a log scale), each cell labelled with
 * the mean and the slowest pod's exit. Plain SVG with inline styles: it shows
 * on GitHub and from disk without fonts or scripts.
 */
import { formatCount, formatSeconds } from './cells.js'
import { PROXY_SHORT } from './plan.js'
import type { Recipe } from './recipes.js'
import type { CellState, ProxyTable } from './table.js'

const LABEL_W = 250
const CELL_W = 84
const CELL_H = 40
const GAP = 10
const TOP = 84
const FONT = 'font-family="-apple-system,Segoe UI,Helvetica,Arial,sans-serif"'

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** Light orange for one drop to dark red for the worst cell, by log(1 + mean). */
const RAMP = [[255, 224, 178], [251, 140, 0], [229, 57, 53], [127, 0, 0]] as const

export function dropColour (mean: number, worst: number): string {
  const t = worst <= 0 ? 0 : Math.log1p(mean) / Math.log1p(worst)
  const x = Math.min(Math.max(t, 0), 1) * (RAMP.length - 1)
  const i = Math.min(Math.floor(x), RAMP.length - 2)
  const f = x - i
  const [a, b] = [RAMP[i]!, RAMP[i + 1]!]
  const c = a.map((v, k) => Math.round(v + (b[k]! - v) * f))
  return `rgb(${c.join(',')})`
}

/** White on the darker half of the ramp, dark brown on the lighter. */
const inkOn = (mean: number, worst: number): string => Math.log1p(mean) / Math.log1p(Math.max(worst, 1)) > 0.45 ? '#ffffff' : '#3e2723'

function cellMarkup (cell: CellState | undefined, x: number, y: number, worst: number): string {
  const rect = (fill: string, extra = ''): string => `<rect x="${x}" y="${y}" width="${CELL_W - 2}" height="${CELL_H - 2}" rx="3" fill="${fill}"${extra}/>`
  const text = (dy: number, s: string, size: number, fill: string, weight = 'normal'): string =>
    `<text x="${x + (CELL_W - 2) / 2}" y="${y + dy}" text-anchor="middle" font-size="${size}" font-weight="${weight}" fill="${fill}">${esc(s)}</text>`
  if (cell === undefined || cell.state === 'not run') return rect('#ffffff', ' stroke="#bdbdbd" stroke-dasharray="3,3"') + text(24, 'not run', 11, '#9e9e9e')
  if (cell.state === 'n/a') return `<g><title>${esc(`n/a: ${cell.why}`)}</title>${rect('#eeeeee')}${text(24, 'n/a', 12, '#757575')}</g>`
  const s = cell.summary
  if (s.rollouts === 0) return rect('#fce4ec') + text(24, 'run failed', 11, '#880e4f')
  const zero = s.max === 0
  const fill = zero ? '#c8e6c9' : dropColour(s.mean, worst)
  const ink = zero ? '#1b5e20' : inkOn(s.mean, worst)
  const slow = s.slowestGoneMs === undefined ? '' : formatSeconds(s.slowestGoneMs) + (s.killedAtDeadline > 0 ? ' †' : '')
  const tip = `${formatCount(s.mean)} dropped per rollout (${s.min}-${s.max}, ${s.rollouts} rollouts)${s.kinds.length > 0 ? ': ' + s.kinds.map(([k, n]) => `${n} ${k}`).join(', ') : ''}; slowest pod ${slow === '' ? '-' : slow}`
  return `<g><title>${esc(tip)}</title>${rect(fill)}${text(18, formatCount(s.mean), 15, ink, 'bold')}${text(32, slow, 10, ink)}</g>`
}

function worstMean (tables: readonly ProxyTable[]): number {
  let worst = 0
  for (const t of tables) for (const row of t.cells.values()) for (const c of row.values()) if (c.state === 'measured') worst = Math.max(worst, c.summary.mean)
  return worst
}

function legend (y: number, worst: number): string {
  const parts = [`<text x="0" y="${y + 13}" font-size="12" fill="#424242">dropped requests per rollout, mean (small: slowest pod, deletion to exit; † killed at the grace deadline)</text>`]
  const steps = [0, 1, 10, 100, 1000].filter((v) => v === 0 || v <= Math.max(worst, 1))
  steps.forEach((v, i) => {
    const x = i * 70
    parts.push(`<rect x="${x}" y="${y + 22}" width="60" height="18" rx="3" fill="${v === 0 ? '#c8e6c9' : dropColour(v, worst)}"/>`,
      `<text x="${x + 30}" y="${y + 35}" text-anchor="middle" font-size="11" fill="${v === 0 ? '#1b5e20' : inkOn(v, worst)}">${v}</text>`)
  })
  const x = steps.length * 70 + 20
  parts.push(`<rect x="${x}" y="${y + 22}" width="60" height="18" rx="3" fill="#eeeeee"/><text x="${x + 30}" y="${y + 35}" text-anchor="middle" font-size="11" fill="#757575">n/a</text>`,
    `<rect x="${x + 70}" y="${y + 22}" width="60" height="18" rx="3" fill="#ffffff" stroke="#bdbdbd" stroke-dasharray="3,3"/><text x="${x + 100}" y="${y + 35}" text-anchor="middle" font-size="11" fill="#9e9e9e">not run</text>`)
  return parts.join('')
}

export function heatmap (tables: readonly ProxyTable[], recipes: readonly Recipe[], title: string, subtitle: string): string {
  const worst = worstMean(tables)
  const parts: string[] = []
  let x = LABEL_W
  for (const t of tables) {
    const w = t.scenarios.length * CELL_W
    parts.push(`<text x="${x + w / 2}" y="${TOP - 30}" text-anchor="middle" font-size="12" font-weight="bold" fill="#212121">${esc(`through ${PROXY_SHORT[t.proxy]}`)}</text>`,
      `<line x1="${x}" x2="${x + w - 2}" y1="${TOP - 24}" y2="${TOP - 24}" stroke="#9e9e9e"/>`)
    t.scenarios.forEach((s, i) => parts.push(`<text x="${x + i * CELL_W + (CELL_W - 2) / 2}" y="${TOP - 8}" text-anchor="middle" font-size="11" fill="#424242">${esc(s)}</text>`))
    recipes.forEach((r, row) => {
      t.scenarios.forEach((s, i) => parts.push(cellMarkup(t.cells.get(r.id)?.get(s), x + i * CELL_W, TOP + row * CELL_H, worst)))
    })
    x += w + GAP
  }
  recipes.forEach((r, row) => parts.push(`<text x="${LABEL_W - 10}" y="${TOP + row * CELL_H + 24}" text-anchor="end" font-size="12" fill="#212121">${esc(r.title)}</text>`))
  const height = TOP + recipes.length * CELL_H + 56
  const width = Math.max(x, LABEL_W + 720)
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="0" y="18" font-size="14" font-weight="bold" fill="#212121">${esc(title)}</text>`,
    `<text x="0" y="34" font-size="11" fill="#616161">${esc(subtitle)}</text>`,
    ...parts,
    `<g transform="translate(${LABEL_W},${TOP + recipes.length * CELL_H + 6})">${legend(0, worst)}</g>`,
    '</svg>',
    ''
  ].join('\n')
}
