/**
 * Does traffic follow the operator? Kubernetes balances connections, not
 * requests: after a scale-up, a selector switch or a canary's weight change,
 * pooled clients stay on the pods they are connected to until a connection
 * ends. This turns what a run counted (requests each pod answered, sampled
 * over time) and what the operator asked for (each endpoint set, with the
 * share of requests the Service's configuration gives each pod) into shares
 * over time, per pod and per group (a version, or a role such as `added` or
 * `canary`), and, per change, how long until the shares followed.
 */

/** Cumulative requests each pod answered, at one moment of the run. */
export interface ServedSample {
  readonly at: number
  readonly served: Readonly<Record<string, number>>
}

/** One change of what the Service asks for: pod name -> its intended share of requests (summing to 1). */
export interface IntendedShares {
  readonly at: number
  readonly intended: Readonly<Record<string, number>>
}

/** What a run records for the share report. */
export interface TrafficRecord {
  /** What the operator did (`rolling`, `scale-up`, ...). */
  readonly strategy: string
  readonly samples: readonly ServedSample[]
  /** Every change of the Service's endpoint set (or weights), in order. */
  readonly changes: readonly IntendedShares[]
  /** Pod name -> its group (its version unless the strategy named a role). */
  readonly groups: Readonly<Record<string, string>>
}

/** A share is on target when it is within this many points of it. */
export const FOLLOW_TOLERANCE = 0.1
/** The share reported at the end of a move is the mean over this much of its end. */
const END_MS = 5000

/** One pod's or group's share per window, and its target then. */
export interface ShareSeries {
  readonly name: string
  /** Per window: its share of the requests answered (null: no request answered in that window). */
  readonly shares: ReadonlyArray<number | null>
  /** Per window: the share asked for when the window started (null: before the first endpoint set). */
  readonly targets: ReadonlyArray<number | null>
}

/** How one group's traffic followed one change. */
export interface GroupFollow {
  readonly group: string
  readonly target: number
  /**
   * Time from the change to the end of the first window from which the share
   * stayed within FOLLOW_TOLERANCE of the target until the next change;
   * null when it never did (or no window fits before the next change).
   */
  readonly followedAfterMs: number | null
  /** The share over the last END_MS before the next change (or the end), null when nothing was answered then. */
  readonly endShare: number | null
}

export interface TrafficMove {
  readonly at: number
  /** How long this target held: until the next change or the end of the sampling. */
  readonly untilMs: number
  readonly groups: readonly GroupFollow[]
}

export interface TrafficSummary {
  /** Window boundaries: window i runs from bounds[i] to bounds[i + 1]. */
  readonly bounds: readonly number[]
  readonly groups: readonly ShareSeries[]
  readonly pods: readonly ShareSeries[]
  /** The changes made while traffic was measured that moved some group's target. */
  readonly moves: readonly TrafficMove[]
}

type Counts = Record<string, number>

/** Requests per name in each window between two samples (a counter that went back counts 0). */
function windowCounts (samples: readonly ServedSample[]): Counts[] {
  return samples.slice(1).map((s, i) => {
    const before = (samples[i] as ServedSample).served
    return Object.fromEntries(Object.entries(s.served).map(([pod, n]) => [pod, Math.max(0, n - (before[pod] ?? 0))]))
  })
}

const sum = (values: Iterable<number>): number => { let n = 0; for (const v of values) n += v; return n }

/** Per-pod counts summed into their groups. */
function byGroup (counts: Readonly<Counts>, groups: Readonly<Record<string, string>>): Counts {
  const out: Counts = {}
  for (const [pod, n] of Object.entries(counts)) {
    const g = groups[pod] ?? pod
    out[g] = (out[g] ?? 0) + n
  }
  return out
}

/** The change in force at `at` (the last one made at or before it). */
function inForce (changes: readonly IntendedShares[], at: number): IntendedShares | undefined {
  let found: IntendedShares | undefined
  for (const c of changes) if (c.at <= at) found = c
  return found
}

function series (names: readonly string[], counts: readonly Counts[], targetsAt: ReadonlyArray<Readonly<Counts> | undefined>): ShareSeries[] {
  return names.map((name) => ({
    name,
    shares: counts.map((c) => { const total = sum(Object.values(c)); return total === 0 ? null : (c[name] ?? 0) / total }),
    targets: targetsAt.map((t) => t === undefined ? null : t[name] ?? 0)
  }))
}

/**
 * How one group followed a target between `from` and `to`: the windows that
 * lie wholly in that span, the first from which every answered window stayed
 * on target, and the share at the end.
 */
function follow (group: string, target: number, from: number, to: number, bounds: readonly number[], counts: readonly Counts[]): GroupFollow {
  const inside = counts.map((c, i) => ({ c, start: bounds[i] as number, end: bounds[i + 1] as number })).filter((w) => w.start >= from && w.end <= to)
  const share = (ws: typeof inside): number | null => {
    const total = sum(ws.map((w) => sum(Object.values(w.c))))
    return total === 0 ? null : sum(ws.map((w) => w.c[group] ?? 0)) / total
  }
  let followedAfterMs: number | null = null
  for (let i = inside.length - 1; i >= 0; i--) {
    const s = share([inside[i] as typeof inside[number]])
    if (s !== null && Math.abs(s - target) > FOLLOW_TOLERANCE + 1e-9) break
    if (s !== null) followedAfterMs = (inside[i] as typeof inside[number]).end - from
  }
  const last = inside.filter((w) => w.end > to - END_MS)
  return { group, target, followedAfterMs, endShare: share(last) }
}

/** Shares over time per pod and group, and how each change that moved a group's target was followed. */
export function summarizeTraffic (t: TrafficRecord): TrafficSummary {
  const bounds = t.samples.map((s) => s.at)
  const podCounts = windowCounts(t.samples)
  const groupCounts = podCounts.map((c) => byGroup(c, t.groups))
  const podTargets = bounds.slice(0, -1).map((at) => inForce(t.changes, at)?.intended)
  const groupTargets = podTargets.map((x) => x === undefined ? undefined : byGroup(x, t.groups))
  const pods = [...new Set([...t.changes.flatMap((c) => Object.keys(c.intended)), ...podCounts.flatMap((c) => Object.keys(c))])]
  const groupNames = [...new Set(pods.map((p) => t.groups[p] ?? p))]
  const start = bounds[0] ?? 0
  const end = bounds[bounds.length - 1] ?? 0
  // The first change measured is the endpoint set in force when the load started.
  const first = inForce(t.changes, start)
  const measured = [...(first === undefined ? [] : [{ ...first, at: start }]), ...t.changes.filter((c) => c.at > start && c.at < end)]
  // A change that leaves every group's target as it was (a pod replaced within its group) is no move.
  const moving: Array<{ at: number, targets: Counts }> = []
  for (const c of measured) {
    const targets = byGroup(c.intended, t.groups)
    const last = moving[moving.length - 1]
    if (last === undefined || groupNames.some((g) => Math.abs((targets[g] ?? 0) - (last.targets[g] ?? 0)) > 1e-6)) moving.push({ at: c.at, targets })
  }
  const moves = moving.map((m, i): TrafficMove => {
    const to = moving[i + 1]?.at ?? end
    return { at: m.at, untilMs: to, groups: groupNames.map((g) => follow(g, m.targets[g] ?? 0, m.at, to, bounds, groupCounts)) }
  })
  return { bounds, groups: series(groupNames, groupCounts, groupTargets), pods: series(pods, podCounts, podTargets), moves }
}

const pct = (x: number): string => `${Math.round(x * 100)} %`
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

/**
 * One line per move that lasted long enough to measure (a change followed
 * within a window by the next, as pods become ready one by one, is left out):
 * `at 13.5 s for 60.0 s  original: asked 50 %, got 52 %, followed after 9.0 s · added: ...`.
 */
export function describeMoves (s: TrafficSummary): string[] {
  return s.moves.filter((m) => m.groups.some((g) => g.endShare !== null)).map((m) => {
    // A move with any answered window at its end has a share for every group.
    const groups = m.groups.map((g) => `${g.group}: asked ${pct(g.target)}, got ${pct(g.endShare as number)}, ${g.followedAfterMs === null ? 'not followed' : `followed after ${secs(g.followedAfterMs)}`}`)
    return `at ${secs(m.at)} for ${secs(m.untilMs - m.at)}  ${groups.join(' · ')}`
  })
}

/** The text report's lines for one run's traffic: what the operator asked for and whether traffic followed. */
export function trafficNotes (r: { readonly scenario: string, readonly label: string, readonly traffic?: TrafficRecord }): string[] {
  if (r.traffic === undefined) return []
  const lines = describeMoves(summarizeTraffic(r.traffic))
  if (lines.length === 0) return []
  return ['', `${r.scenario} / ${r.label}: traffic under ${r.traffic.strategy} (per group: the share the Service asked for, the share it got over the last ${END_MS / 1000} s, and when it came within ${FOLLOW_TOLERANCE * 100} points and stayed)`, ...lines.map((l) => `  ${l}`)]
}
