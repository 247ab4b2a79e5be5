/**
 * What a drain tells when it stops (the `stopped` timeline line, the
 * `drain()` promise, `DrainReport` in the kit) and, while it runs, what the
 * metrics read: counts of every transport, added up, beside HTTP/2's own.
 */
import type { CleanupResult } from './cleanup.js'
import type { ConnectionStats } from './connections.js'
import type { Http2Stats } from './http2-sessions.js'
import { totalEndings } from './run.js'
import type { CutRequest, TransportTracker } from './transport.js'

export interface DrainReport {
  /** True when nothing had to be cut at the deadline and every cleanup succeeded. */
  readonly clean: boolean
  readonly reason: string
  /** From drain start to stopped. */
  readonly durationMs: number
  /** HTTP/1.x responses and HTTP/2 streams answered in full after the drain started. */
  readonly servedDuringDrain: number
  readonly connections: Omit<ConnectionStats, 'servedDuringDrain'>
  /**
   * Requests still in flight when the deadline (or a second signal) cut them,
   * and pipelined ones read after their connection's last response (never answered).
   */
  readonly cut: readonly CutRequest[]
  /** HTTP/2 sessions and streams (all zero on an HTTP/1.1-only server); `connections` counts HTTP/1.x only. */
  readonly http2: Http2Stats
  /** Connections (sessions) told to leave, per reason: `drain`, or a caller's own (`retire(connection, reason)`), since the server started. */
  readonly retiredBy: Readonly<Record<string, number>>
  readonly cleanup: readonly CleanupResult[]
}

/** The drain's counts while it runs (the report's, before there is one): HTTP/1.x connections and HTTP/2 sessions together. */
export interface DrainProgress extends ConnectionStats {
  /** Since drain start; frozen at the report's value once stopped. */
  readonly durationMs: number
  /** Requests cut so far (see `DrainReport.cut`). */
  readonly cut: number
}

/** Connections told to leave per reason, every transport added up. */
export function retiredBy (trackers: readonly TransportTracker[]): Record<string, number> {
  const total: Record<string, number> = {}
  for (const tracker of trackers) {
    for (const [reason, n] of Object.entries(tracker.retiredBy)) total[reason] = (total[reason] ?? 0) + n
  }
  return total
}

export function drainProgress (trackers: readonly TransportTracker[], durationMs: number, cut: number): DrainProgress {
  const { served, ...endings } = totalEndings(trackers)
  return { servedDuringDrain: served, ...endings, durationMs, cut }
}

export interface ReportInput {
  readonly reason: string
  readonly durationMs: number
  readonly http1: { readonly stats: ConnectionStats }
  readonly http2: { readonly stats: Http2Stats }
  readonly trackers: readonly TransportTracker[]
  readonly cut: readonly CutRequest[]
  /** app.close() failed. */
  readonly closeFailed: boolean
  /** The dependencies' outcomes (closed even when app.close() failed). */
  readonly cleanup: readonly CleanupResult[]
}

export function buildReport (i: ReportInput): DrainReport {
  const { servedDuringDrain: _served, ...connections } = i.http1.stats
  const endings = totalEndings(i.trackers)
  return Object.freeze({
    clean: i.cut.length === 0 && endings.forced === 0 && !i.closeFailed && i.cleanup.every((r) => r.outcome === 'ok'),
    reason: i.reason,
    durationMs: i.durationMs,
    servedDuringDrain: endings.served,
    connections,
    cut: i.cut,
    http2: i.http2.stats,
    retiredBy: retiredBy(i.trackers),
    cleanup: i.cleanup
  })
}
