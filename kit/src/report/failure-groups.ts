/**
 * Dropped requests grouped by kind, pod and the pod event they followed, so a
 * burst of resets reads as "19 × reset on web-v1-2, 0.00-0.02 s after sigterm".
 */
import type { TimelineEvent } from '../cluster/events.js'
import type { FailureRecord } from '../load/accounting.js'
import type { RunResult } from '../run/result.js'

/** Pod events a failure is placed against. */
const ANCHORS = new Set(['deleted', 'sigterm', 'sigkill', 'exited', 'endpoint-removed', 'endpoint-added', 'ready', 'created'])

/** The last event of the failure's pod (or of any pod) at or before the failure. */
export function anchorOf (failure: FailureRecord, events: readonly TimelineEvent[]): TimelineEvent | undefined {
  let best: TimelineEvent | undefined
  for (const e of events) {
    if (e.at > failure.at || !ANCHORS.has(e.type)) continue
    if (failure.pod !== undefined && e.pod !== failure.pod) continue
    best = e
  }
  return best
}

export interface FailureGroup {
  readonly count: number
  readonly kind: string
  /** The pod the connection was pinned to; '?' when the balancer cannot know (L7, check). */
  readonly pod: string
  /**
   * The pod event the failures followed: `sigterm`, `endpoint-removed`, ...
   * (`sigterm of web-v1-2` when the failing pod is unknown), or `start`.
   */
  readonly after: string
  /** Seconds after that event, first and last failure. */
  readonly fromS: number
  readonly toS: number
}

/** Failures grouped by kind, pod and the pod event they followed. */
export function groupFailures (result: Pick<RunResult, 'failures' | 'events'>): FailureGroup[] {
  const groups = new Map<string, { count: number, kind: string, pod: string, after: string, fromS: number, toS: number }>()
  for (const f of result.failures) {
    const anchor = anchorOf(f, result.events)
    const offset = (f.at - (anchor?.at ?? 0)) / 1000
    const pod = f.pod ?? '?'
    const after = anchor === undefined ? 'start' : f.pod === undefined ? `${anchor.type} of ${anchor.pod}` : anchor.type
    const key = `${f.kind}|${pod}|${after}`
    const g = groups.get(key)
    if (g === undefined) groups.set(key, { count: 1, kind: f.kind, pod, after, fromS: offset, toS: offset })
    else {
      g.count++
      g.fromS = Math.min(g.fromS, offset)
      g.toS = Math.max(g.toS, offset)
    }
  }
  return [...groups.values()]
}

/** `reset on web-v1-2, 0.01-0.02 s after sigterm` */
export function describe (g: FailureGroup): string {
  return `${g.kind}${g.pod === '?' ? '' : ` on ${g.pod}`}, ${g.fromS.toFixed(2)}-${g.toS.toFixed(2)} s after ${g.after}`
}
