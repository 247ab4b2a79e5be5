/**
 * One cell of the table from the kit's runs of it: each run is one rollout
 * of a fresh Deployment (`--rollouts 1`), so each run's drop count is one
 * rollout's.
 */
import type { KitRun } from './record.js'

export interface CellSummary {
  /** Rollouts measured (runs that completed). */
  readonly rollouts: number
  /** Dropped requests of each rollout, in run order. */
  readonly dropped: readonly number[]
  readonly mean: number
  readonly min: number
  readonly max: number
  readonly sent: number
  /** The slowest pod of all the runs, from its deletion to its exit; undefined when no pod was deleted. */
  readonly slowestGoneMs?: number
  /** Pods still running at terminationGracePeriodSeconds, killed by the kit's SIGKILL. */
  readonly killedAtDeadline: number
  /** How the drops looked, most frequent first: `reset`, `503`, `timeout`, ... */
  readonly kinds: ReadonlyArray<readonly [string, number]>
  /** Runs that could not complete, with the kit's reason; not counted above. */
  readonly failedRuns: readonly string[]
  /** Requests the kit could not account for (must be 0). */
  readonly unsettled: number
}

/** `status 503` and `503` both read as `503`; transport failures keep their kind. */
const kindLabel = (kind: string): string => kind.replace(/^status /, '')

export function summarise (runs: readonly KitRun[]): CellSummary {
  const complete = runs.filter((r) => r.error === undefined)
  const dropped = complete.map((r) => r.dropped)
  const kinds = new Map<string, number>()
  let slowest: number | undefined
  let killed = 0
  for (const r of complete) {
    for (const [k, n] of [...Object.entries(r.counts.statuses), ...Object.entries(r.counts.failed)]) {
      kinds.set(kindLabel(k), (kinds.get(kindLabel(k)) ?? 0) + n)
    }
    for (const p of r.pods) {
      if (p.goneAfterDeletionMs !== undefined && (slowest === undefined || p.goneAfterDeletionMs > slowest)) slowest = p.goneAfterDeletionMs
    }
    killed += r.events.filter((e) => e.type === 'sigkill').length
  }
  const total = dropped.reduce((a, b) => a + b, 0)
  return {
    rollouts: complete.length,
    dropped,
    mean: complete.length === 0 ? 0 : total / complete.length,
    min: complete.length === 0 ? 0 : Math.min(...dropped),
    max: complete.length === 0 ? 0 : Math.max(...dropped),
    sent: complete.reduce((a, r) => a + r.counts.sent, 0),
    ...(slowest === undefined ? {} : { slowestGoneMs: slowest }),
    killedAtDeadline: killed,
    kinds: [...kinds.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
    failedRuns: runs.filter((r) => r.error !== undefined).map((r) => r.error as string),
    unsettled: runs.reduce((a, r) => a + r.unsettled, 0)
  }
}

/** `17` or `2.5`: whole numbers stay whole, a mean over rollouts gets one decimal. */
export const formatCount = (n: number): string => Number.isInteger(n) ? String(n) : n.toFixed(1)

export const formatSeconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`
