/**
 * How each pod's connections ended, from the `stopped` line of the pod's own
 * drain timeline (pino JSON on stdout): retired after a `Connection: close`
 * response, closed by its client, idle-closed by the drain, closed with
 * incomplete headers (stalled), or cut at the deadline. Services that do not
 * log that line (the baseline) show none.
 */
import type { TimelineEvent } from './events.js'

export interface ConnectionEndings {
  readonly retired: number
  readonly closedByClient: number
  readonly idleClosed: number
  readonly stalledClosed: number
  readonly forced: number
}

export interface PodEndings {
  readonly pod: string
  /** From the pod's deletion to its exit, ms (undefined when it was not deleted during the run). */
  readonly goneAfterDeletionMs?: number
  /** From its drain report; undefined when the pod logged none. */
  readonly endings?: ConnectionEndings
  /** Requests the drain reported cut. */
  readonly cut?: number
}

const count = (v: unknown): number => typeof v === 'number' && Number.isFinite(v) ? v : 0

/** The drain's `stopped` report in one log line, or undefined (any other line, or not JSON). */
export function stoppedReport (line: string): { endings: ConnectionEndings, cut: number } | undefined {
  if (!line.includes('"stopped"')) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch {
    return undefined
  }
  const r = parsed as { drain?: unknown, connections?: Record<string, unknown>, cut?: unknown }
  if (r.drain !== 'stopped' || typeof r.connections !== 'object' || r.connections === null) return undefined
  const c = r.connections
  return {
    endings: { retired: count(c.retired), closedByClient: count(c.closedByClient), idleClosed: count(c.idleClosed), stalledClosed: count(c.stalledClosed), forced: count(c.forced) },
    cut: Array.isArray(r.cut) ? r.cut.length : 0
  }
}

/** One row per pod: its endings and how long after deletion it was gone. */
export function podEndings (pods: ReadonlyArray<{ readonly name: string, readonly drainReport?: { endings: ConnectionEndings, cut: number } }>, events: readonly TimelineEvent[]): PodEndings[] {
  return pods.map((p) => {
    const deleted = events.find((e) => e.pod === p.name && e.type === 'deleted')
    const exited = events.find((e) => e.pod === p.name && e.type === 'exited')
    return {
      pod: p.name,
      ...(deleted !== undefined && exited !== undefined ? { goneAfterDeletionMs: Math.round(exited.at - deleted.at) } : {}),
      ...(p.drainReport === undefined ? {} : { endings: p.drainReport.endings, cut: p.drainReport.cut })
    }
  })
}

/** `web-v1-1: gone 10.1 s after deletion; 41 retired, 2 closed by client, 17 idle-closed, 0 stalled, 0 cut` */
export function describeEndings (p: PodEndings): string {
  const gone = p.goneAfterDeletionMs === undefined ? 'not deleted' : `gone ${(p.goneAfterDeletionMs / 1000).toFixed(1)} s after deletion`
  const e = p.endings
  if (e === undefined) return `${p.pod}: ${gone}; no drain report`
  return `${p.pod}: ${gone}; ${e.retired} retired, ${e.closedByClient} closed by client, ${e.idleClosed} idle-closed, ${e.stalledClosed} stalled, ${e.forced} cut (${p.cut ?? 0} request(s))`
}
