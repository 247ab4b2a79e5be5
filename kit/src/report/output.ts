/** Where a finished command's words go: the summary on stdout, the report files on disk. */
import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { NotRun } from '../load/preflight.js'
import type { RunResult } from '../run/result.js'
import { htmlReport } from './html.js'
import { jsonReport, ran } from './json.js'
import { textReport } from './text.js'

/** The two streams a command writes to; injectable so tests read them. */
export interface Io {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean, columns?: number }
}

/** Creates the report directory up front, so a bad --out fails before minutes of load. */
export async function prepareOut (dir: string): Promise<void> {
  await mkdir(resolve(dir), { recursive: true })
}

/** Writes report.json and report.html under `dir`; returns their paths. */
export async function writeReports (dir: string, results: readonly RunResult[], underTest: string, notRun: readonly NotRun[] = []): Promise<{ json: string, html: string }> {
  const out = resolve(dir)
  const report = jsonReport(results, underTest, new Date(), notRun)
  const json = join(out, 'report.json')
  const html = join(out, 'report.html')
  await writeFile(json, JSON.stringify(report, null, 2) + '\n')
  await writeFile(html, htmlReport(report, underTest))
  return { json, html }
}

/** The exit code of a command whose preflight left the service under test nothing to run. */
export const NOTHING_RAN = 3

/**
 * Prints the summary and writes the files; returns the exit code: 1 when the
 * service under test dropped a request (or a run failed), NOTHING_RAN when
 * the preflight kept out every scenario (no verdict either way).
 */
export async function finish (io: Io, dir: string, results: readonly RunResult[], underTest: string, notRun: readonly NotRun[] = []): Promise<number> {
  io.stdout.write('\n' + textReport(results, notRun))
  const files = await writeReports(dir, results, underTest, notRun)
  const report = `\nreport: ${files.json}\n        ${files.html}\n`
  if (!ran(results, underTest)) {
    io.stdout.write(report)
    io.stderr.write(`ERROR: no scenario could run against ${underTest}: the preflight found none of their routes (see "not run" above); point the scenarios at your routes (--fast-path, --slow-path, ... or --requests) or pick others with --scenarios\n`)
    return NOTHING_RAN
  }
  const ok = jsonReport(results, underTest).ok
  io.stdout.write(`${report}${ok ? `PASS: ${underTest} dropped no request` : `FAIL: ${underTest} dropped requests (or a run failed)`}\n`)
  return ok ? 0 : 1
}
