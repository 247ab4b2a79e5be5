/**
 * How each pod's connections ended, from the `stopped` line of the pod's own
 * drain timeline (pino JSON on stdout): retired after a `Connection: close`
 * response, closed by its client, idle-closed by the drain, closed with
 * incomplete headers (stalled), or cut at the deadline; for a pod that served
 * HTTP/2, how its sessions ended too (told to go away, idle, cut) and how many
 * streams it served during the drain. Services that do not log that line (the
 * baseline) show none.
 *
 * The line is the plugin's `DrainReport`, and the fields read here are named
 * from that type: a field the plugin renames fails the kit's build. A pod
 * running another version of the plugin may still log a report without one of
 * them; that is said, never read as 0.
 */
import type { DrainReport } from 'fastify-zero-downtime'
import type { TimelineEvent } from './events.js'

const CONNECTION_FIELDS = ['retired', 'closedByClient', 'idleClosed', 'stalledClosed', 'forced'] as const satisfies ReadonlyArray<keyof DrainReport['connections']>
const HTTP2_FIELDS = ['sessions', 'goaways', 'idleClosed', 'streamsServed', 'forced'] as const satisfies ReadonlyArray<keyof DrainReport['http2']>

/** How a pod's HTTP/1.x connections ended, from `DrainReport.connections`. */
export type ConnectionEndings = Pick<DrainReport['connections'], typeof CONNECTION_FIELDS[number]>

/** How a pod's HTTP/2 sessions ended, from `DrainReport.http2`. */
export type Http2Endings = Pick<DrainReport['http2'], typeof HTTP2_FIELDS[number]>

/** What the kit keeps of a pod's `stopped` line. */
export interface PodDrainReport {
  readonly endings: ConnectionEndings
  /** Only for a pod that saw HTTP/2 sessions. */
  readonly http2?: Http2Endings
  /** Requests the drain reported cut. */
  readonly cut: number
}

/** A `stopped` line that lacks fields the kit reads: another version of the plugin. */
export interface UnreadableDrainReport {
  /** The missing or non-numeric fields, as paths: `connections.retired`. */
  readonly missing: readonly string[]
}

export type DrainReading = PodDrainReport | UnreadableDrainReport

export interface PodEndings {
  readonly pod: string
  /** From the pod's deletion to its exit, ms (undefined when it was not deleted during the run). */
  readonly goneAfterDeletionMs?: number
  /** From its drain report; undefined when the pod logged none. */
  readonly endings?: ConnectionEndings
  readonly http2?: Http2Endings
  /** Requests the drain reported cut. */
  readonly cut?: number
  /** Set when the pod's drain report lacked fields the kit reads: `drain report without connections.retired: plugin version mismatch?`. */
  readonly drainReportProblem?: string
}

/** The named numeric fields of `part`, or the paths of those missing or not a number. */
function numbers<K extends string> (part: unknown, path: string, fields: readonly K[]): { values: Record<K, number>, missing: string[] } {
  const values = {} as Record<K, number>
  const missing: string[] = []
  const record = typeof part === 'object' && part !== null ? part as Record<string, unknown> : {}
  for (const field of fields) {
    const v = record[field]
    if (typeof v === 'number' && Number.isFinite(v)) values[field] = v
    else missing.push(`${path}.${field}`)
  }
  return { values, missing }
}

/** The drain's `stopped` report in one log line, or undefined (any other line, or not JSON). */
export function stoppedReport (line: string): DrainReading | undefined {
  if (!line.includes('"stopped"')) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null || (parsed as { drain?: unknown }).drain !== 'stopped') return undefined
  const r = parsed as Partial<Record<keyof DrainReport, unknown>>
  const connections = numbers(r.connections, 'connections', CONNECTION_FIELDS)
  const http2 = numbers(r.http2, 'http2', HTTP2_FIELDS)
  const missing = [...connections.missing, ...http2.missing, ...(Array.isArray(r.cut) ? [] : ['cut'])]
  if (missing.length > 0) return { missing }
  return {
    endings: connections.values,
    // An HTTP/1.1-only pod reports zero sessions: nothing to show for it.
    ...(http2.values.sessions > 0 ? { http2: http2.values } : {}),
    cut: (r.cut as unknown[]).length
  }
}

/** What the report says of a pod whose drain report could not be read. */
export function drainReportProblem (reading: UnreadableDrainReport): string {
  return `drain report without ${reading.missing.join(', ')}: plugin version mismatch?`
}

function endingsOf (reading: DrainReading | undefined): Omit<PodEndings, 'pod' | 'goneAfterDeletionMs'> {
  if (reading === undefined) return {}
  if ('missing' in reading) return { drainReportProblem: drainReportProblem(reading) }
  return { endings: reading.endings, ...(reading.http2 === undefined ? {} : { http2: reading.http2 }), cut: reading.cut }
}

/** One row per pod: its endings and how long after deletion it was gone. */
export function podEndings (pods: ReadonlyArray<{ readonly name: string, readonly drainReport?: DrainReading | undefined }>, events: readonly TimelineEvent[]): PodEndings[] {
  return pods.map((p) => {
    const deleted = events.find((e) => e.pod === p.name && e.type === 'deleted')
    const exited = events.find((e) => e.pod === p.name && e.type === 'exited')
    return {
      pod: p.name,
      ...(deleted !== undefined && exited !== undefined ? { goneAfterDeletionMs: Math.round(exited.at - deleted.at) } : {}),
      ...endingsOf(p.drainReport)
    }
  })
}
