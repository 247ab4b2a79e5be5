/** One line per deleted pod: how long it took to go and how its connections ended. */
import type { PodEndings } from '../cluster/drain-report.js'

/**
 * `web-v1-1: gone 10.1 s after deletion; 41 retired, 2 closed by client, 17 idle-closed, 0 stalled, 0 cut (0 request(s))`,
 * then for a pod that served HTTP/2 `; HTTP/2: 4 session(s), 4 told to go away (1 idle), 0 cut, 812 stream(s) served in the drain`.
 */
export function describeEndings (p: PodEndings): string {
  const gone = p.goneAfterDeletionMs === undefined ? 'not deleted' : `gone ${(p.goneAfterDeletionMs / 1000).toFixed(1)} s after deletion`
  if (p.drainReportProblem !== undefined) return `${p.pod}: ${gone}; ${p.drainReportProblem}`
  const e = p.endings
  if (e === undefined) return `${p.pod}: ${gone}; no drain report`
  const h = p.http2
  const http2 = h === undefined ? '' : `; HTTP/2: ${h.sessions} session(s), ${h.goaways} told to go away (${h.idleClosed} idle), ${h.forced} cut, ${h.streamsServed} stream(s) served in the drain`
  return `${p.pod}: ${gone}; ${e.retired} retired, ${e.closedByClient} closed by client, ${e.idleClosed} idle-closed, ${e.stalledClosed} stalled, ${e.forced} cut (${p.cut ?? 0} request(s))${http2}`
}
