/**
 * How each pod's connections ended, from the `stopped` line of the pod's own
 * drain timeline (pino JSON on stdout): retired after a `Connection: close`
 * response, closed by its client, idle-closed by the drain, closed with
 * incomplete headers (stalled), or cut at the deadline; for a pod that served
 * HTTP/2, how its sessions ended too (told to go away, idle, cut) and how many
 * streams it served during the drain. Services that do not log that line (the
 * baseline) show none.
 */
import type { TimelineEvent } from './events.js'

export interface ConnectionEndings {
  readonly retired: number
  readonly closedByClient: number
  readonly idleClosed: number
  readonly stalledClosed: number
  readonly forced: number
}

/** HTTP/2 sessions of a pod, from the `http2` part of its drain report. */
export interface Http2Endings {
  /** Sessions the pod saw. */
  readonly sessions: number
  /** Sessions told to go away (GOAWAY), idle ones included. */
  readonly goaways: number
  /** Of those, the ones told because they stayed idle for `idleCloseMs`. */
  readonly idleClosed: number
  /** Streams completed during the drain. */
  readonly streamsServed: number
  /** Sessions destroyed at the deadline. */
  readonly forced: number
}

/** What the kit keeps of a pod's `stopped` line. */
export interface DrainReport {
  readonly endings: ConnectionEndings
  /** Only for a pod that saw HTTP/2 sessions. */
  readonly http2?: Http2Endings
  /** Requests the drain reported cut. */
  readonly cut: number
}

export interface PodEndings {
  readonly pod: string
  /** From the pod's deletion to its exit, ms (undefined when it was not deleted during the run). */
  readonly goneAfterDeletionMs?: number
  /** From its drain report; undefined when the pod logged none. */
  readonly endings?: ConnectionEndings
  readonly http2?: Http2Endings
  /** Requests the drain reported cut. */
  readonly cut?: number
}

const count = (v: unknown): number => typeof v === 'number' && Number.isFinite(v) ? v : 0

/** The drain's `stopped` report in one log line, or undefined (any other line, or not JSON). */
export function stoppedReport (line: string): DrainReport | undefined {
  if (!line.includes('"stopped"')) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch {
    return undefined
  }
  const r = parsed as { drain?: unknown, connections?: Record<string, unknown>, http2?: Record<string, unknown> | null, cut?: unknown }
  if (r.drain !== 'stopped' || typeof r.connections !== 'object' || r.connections === null) return undefined
  const c = r.connections
  const h = typeof r.http2 === 'object' && r.http2 !== null ? r.http2 : {}
  const http2: Http2Endings = { sessions: count(h.sessions), goaways: count(h.goaways), idleClosed: count(h.idleClosed), streamsServed: count(h.streamsServed), forced: count(h.forced) }
  return {
    endings: { retired: count(c.retired), closedByClient: count(c.closedByClient), idleClosed: count(c.idleClosed), stalledClosed: count(c.stalledClosed), forced: count(c.forced) },
    // An HTTP/1.1-only pod reports zero sessions: nothing to show for it.
    ...(http2.sessions > 0 ? { http2 } : {}),
    cut: Array.isArray(r.cut) ? r.cut.length : 0
  }
}

/** One row per pod: its endings and how long after deletion it was gone. */
export function podEndings (pods: ReadonlyArray<{ readonly name: string, readonly drainReport?: DrainReport }>, events: readonly TimelineEvent[]): PodEndings[] {
  return pods.map((p) => {
    const deleted = events.find((e) => e.pod === p.name && e.type === 'deleted')
    const exited = events.find((e) => e.pod === p.name && e.type === 'exited')
    return {
      pod: p.name,
      ...(deleted !== undefined && exited !== undefined ? { goneAfterDeletionMs: Math.round(exited.at - deleted.at) } : {}),
      ...(p.drainReport === undefined ? {} : { endings: p.drainReport.endings, ...(p.drainReport.http2 === undefined ? {} : { http2: p.drainReport.http2 }), cut: p.drainReport.cut })
    }
  })
}
