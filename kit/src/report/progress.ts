/** What a terminal (or a log) shows while runs go on: a live status line, then one line per finished run. */
import type { Progress, RunResult } from '../run/result.js'
import type { Io } from './output.js'

/** One line summing up a run in progress. */
export function progressLine (p: Progress): string {
  const versions = new Map<string, number>()
  for (const pod of p.pods) if (!pod.terminating) versions.set(pod.version, (versions.get(pod.version) ?? 0) + 1)
  const terminating = p.pods.filter((pod) => pod.terminating).length
  const ready = p.pods.filter((pod) => pod.ready && !pod.terminating).length
  const byVersion = [...versions].map(([v, n]) => `${v}:${n}`).join(' ')
  return `[${p.scenario} · ${p.label}] ${p.phase} · pods ${ready} ready (${byVersion}${terminating > 0 ? `, ${terminating} terminating` : ''}) · ${Math.round(p.requestsPerSecond)} req/s · sent ${p.sent} · dropped ${p.dropped}`
}

/**
 * The line a finished run leaves behind, in logs too: one line, no control
 * characters (a crashed pod's output in the error would otherwise break it
 * up or colour the log; the whole output is in the report).
 */
export function runLine (r: Pick<RunResult, 'scenario' | 'label' | 'counts' | 'dropped' | 'durationMs' | 'error'>): string {
  const error = r.error === undefined ? '' : ` (run failed: ${(r.error.split('\n')[0] as string).replace(/\p{Cc}/gu, '')})`
  return `${r.scenario} / ${r.label}: sent ${r.counts.sent}, dropped ${r.dropped} in ${(r.durationMs / 1000).toFixed(1)} s${error}`
}

/**
 * On a terminal, one status line rewritten in place (cut to the terminal's
 * width: a wrapped line could not be rewritten with a carriage return); then
 * one plain line per run, which is all a log or a pipe gets.
 */
export function progressPrinter (io: Io): { update: (p: Progress) => void, done: (r: RunResult) => void } {
  const tty = io.stderr.isTTY === true
  const fit = (line: string): string => io.stderr.columns === undefined ? line : line.slice(0, Math.max(1, io.stderr.columns - 1))
  return {
    update: (p) => { if (tty) io.stderr.write(`\r\x1b[K${fit(progressLine(p))}`) },
    done: (r) => { io.stderr.write(`${tty ? '\r\x1b[K' : ''}${runLine(r)}\n`) }
  }
}
