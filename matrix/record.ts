/**
 * What a matrix run leaves in its output folder: `matrix.json` (the sessions
 * that ran, the machine, the versions, and every kit call with where its
 * report.json is) next to one folder per kit call. The document is rendered
 * from that folder alone, so recorded runs can be rendered again
 * (`--render-only <dir>`) anywhere.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Machine, Versions } from './machine.js'
import { MatrixError } from './errors.js'
import type { Proxy, ScenarioName } from './plan.js'

export const RECORD_FILE = 'matrix.json'

export interface Session {
  /** The command as typed, e.g. `npm run matrix -- --recipes terminus`. */
  readonly command: string
  readonly startedAt: string
  finishedAt?: string
  readonly machine: Machine
  readonly versions: Versions
  /**
   * The data path asked of the kit: `kernel`, `userspace`, or the kit's
   * default. Which one each run took is in its report (`KitRun.dataPath`).
   */
  readonly network: string
  readonly rollouts: number
  /** Load average (1, 5, 15 min) when the session ended: a busy machine shows here. */
  loadAverageAtEnd?: readonly number[]
}

export interface KitCall {
  readonly session: number
  readonly recipe: string
  readonly proxy: Proxy
  readonly protocol: 'h1' | 'h2'
  readonly scenarios: readonly ScenarioName[]
  readonly repetition: number
  /** Relative to the output folder. */
  readonly dir: string
  readonly args: readonly string[]
  readonly startedAt: string
  readonly durationMs: number
  /** The kit's exit code: 0 nothing dropped, 1 something dropped or a run failed. */
  readonly exitCode: number
}

export interface MatrixRecord {
  readonly format: 1
  readonly sessions: Session[]
  readonly calls: KitCall[]
}

export function readRecord (dir: string): MatrixRecord {
  const file = join(dir, RECORD_FILE)
  if (!existsSync(file)) throw new MatrixError(`${file} does not exist: not the output folder of \`npm run matrix\``)
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as MatrixRecord
  if (parsed.format !== 1 || !Array.isArray(parsed.sessions) || !Array.isArray(parsed.calls)) {
    throw new MatrixError(`${file} is not a matrix record (format 1)`)
  }
  return parsed
}

export function emptyRecord (): MatrixRecord {
  return { format: 1, sessions: [], calls: [] }
}

/** Written after every kit call, so a matrix stopped half-way can still be rendered. */
export function writeRecord (dir: string, record: MatrixRecord): void {
  writeFileSync(join(dir, RECORD_FILE), JSON.stringify(record, null, 2) + '\n')
}

/** The fields of the kit's report.json the matrix reads (the kit keeps their names stable). */
export interface KitReport {
  readonly runs: readonly KitRun[]
}

export interface KitRun {
  readonly scenario: string
  readonly label: string
  readonly proxy: string
  /** Which data path the run took (the kit's words), where the kit records it. */
  readonly dataPath?: string
  readonly durationMs: number
  readonly counts: {
    readonly sent: number
    readonly ok: number
    readonly statuses: Readonly<Record<string, number>>
    readonly failed: Readonly<Record<string, number>>
    readonly retried: number
  }
  readonly dropped: number
  readonly unsettled: number
  readonly events: ReadonlyArray<{ readonly at: number, readonly type: string, readonly pod: string, readonly version: string, readonly detail?: string }>
  readonly pods: ReadonlyArray<{ readonly pod: string, readonly goneAfterDeletionMs?: number }>
  readonly error?: string
}

export function readKitReport (dir: string): KitReport | undefined {
  const file = join(dir, 'report.json')
  if (!existsSync(file)) return undefined
  return JSON.parse(readFileSync(file, 'utf8')) as KitReport
}
