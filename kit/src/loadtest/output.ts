/** Where a run's words go: the live progress line, the summary, the report files. */
import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { htmlReport, jsonReport, textReport } from './report.js'
import type { Progress, RunResult } from './run.js'

/** The two streams a command writes to; injectable so tests read them. */
export interface Io {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean }
}

/** One line summing up a run in progress. */
export function progressLine (p: Progress): string {
  const versions = new Map<string, number>()
  for (const pod of p.pods) if (!pod.terminating) versions.set(pod.version, (versions.get(pod.version) ?? 0) + 1)
  const terminating = p.pods.filter((pod) => pod.terminating).length
  const ready = p.pods.filter((pod) => pod.ready && !pod.terminating).length
  const byVersion = [...versions].map(([v, n]) => `${v}:${n}`).join(' ')
  return `[${p.scenario} · ${p.label}] pods ${ready} ready (${byVersion}${terminating > 0 ? `, ${terminating} terminating` : ''}) · ${Math.round(p.requestsPerSecond)} req/s · sent ${p.sent} · dropped ${p.dropped}`
}

/** Rewrites one status line in place on a terminal; silent otherwise (logs stay clean). */
export function progressPrinter (io: Io): { update: (p: Progress) => void, clear: () => void } {
  const tty = io.stderr.isTTY === true
  return {
    update: (p) => { if (tty) io.stderr.write(`\r\x1b[K${progressLine(p)}`) },
    clear: () => { if (tty) io.stderr.write('\r\x1b[K') }
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
