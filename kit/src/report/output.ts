/** Where a run's words go: the live progress line, the summary, the report files. */
import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { htmlReport } from './html.js'
import { jsonReport, textReport } from './text.js'
import type { Progress, RunResult } from '../run/measured-run.js'

/** The two streams a command writes to; injectable so tests read them. */
export interface Io {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean, columns?: number }
}

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

/** Creates the report directory up front, so a bad --out fails before minutes of load. */
export async function prepareOut (dir: string): Promise<void> {
  await mkdir(resolve(dir), { recursive: true })
}

/** Writes report.json and report.html under `dir`; returns their paths. */
export async function writeReports (dir: string, results: readonly RunResult[], underTest: string): Promise<{ json: string, html: string }> {
  const out = resolve(dir)
  const report = jsonReport(results, underTest)
  const json = join(out, 'report.json')
  const html = join(out, 'report.html')
  await writeFile(json, JSON.stringify(report, null, 2) + '\n')
  await writeFile(html, htmlReport(report, underTest))
  return { json, html }
}

/** Prints the summary and writes the files; returns the exit code (1 when the service under test dropped a request). */
export async function finish (io: Io, dir: string, results: readonly RunResult[], underTest: string): Promise<number> {
  io.stdout.write('\n' + textReport(results))
  const files = await writeReports(dir, results, underTest)
  const ok = jsonReport(results, underTest).ok
  io.stdout.write(`\nreport: ${files.json}\n        ${files.html}\n${ok ? `PASS: ${underTest} dropped no request` : `FAIL: ${underTest} dropped requests (or a run failed)`}\n`)
  return ok ? 0 : 1
}
