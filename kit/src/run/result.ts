/** What one measured run leaves behind (the same shape for `rollout` and `check`), and what it shows while it runs. */
import type { ClusterEventLog, TimelineEvent } from '../cluster/events.js'
import { percentile, type Counts, type RequestCounts, type FailureRecord, type Recorder } from '../load/accounting.js'
import type { Scenario } from '../load/scenarios.js'
import type { BalancerStats } from '../network/balancer.js'
import type { PodEndings } from '../cluster/drain-report.js'
import type { TrafficRecord } from '../report/shares.js'

export interface Progress {
  readonly scenario: string
  readonly label: string
  /** What the run is doing: `deploying v1`, `steady`, `rollout to v2`, `draining old pods`, `stopping`. */
  readonly phase: string
  readonly pods: ReadonlyArray<{ readonly name: string, readonly version: string, readonly ready: boolean, readonly terminating: boolean }>
  readonly requestsPerSecond: number
  readonly sent: number
  readonly dropped: number
}

export interface RunResult {
  readonly scenario: string
  readonly description: string
  readonly label: string
  readonly command: readonly string[]
  readonly proxy: string
  /** Which data path carried the traffic (absent under `check`); each pod's address is in its `ready` event. */
  readonly dataPath?: string
  readonly durationMs: number
  readonly counts: Counts
  /** Sent, 2xx and dropped per request kind (`GET /`, a requests file's names); every measured run has it. */
  readonly byRequest?: Readonly<Record<string, RequestCounts>>
  readonly dropped: number
  /** Sent minus settled: must be 0, or the accounting itself is broken. */
  readonly unsettled: number
  readonly latencyMs: { readonly p50: number, readonly p99: number }
  readonly failures: readonly FailureRecord[]
  readonly events: readonly TimelineEvent[]
  readonly throughput: readonly number[]
  readonly drops: readonly number[]
  /** The balancer's own counters (absent under `check`, where no balancer of the kit's is in the path). */
  readonly balancer?: BalancerStats
  /** Endpoint updates the balancer failed (absent under `check`); a run with any is a failed run. */
  readonly endpointErrors?: readonly string[]
  /** Per pod: how its connections ended and how long after deletion it was gone (empty under `check`). */
  readonly pods: readonly PodEndings[]
  /** The think-time seed (`--seed`), when one was given: rerun with it to get the same think times. */
  readonly seed?: number
  /** Set when the run could not complete (a pod crashed, the command failed to start). */
  readonly error?: string
  /** Requests each pod answered over time and what the Service asked for (absent under `check`). */
  readonly traffic?: TrafficRecord
}

/** Freezes what one scenario's recorder saw into a RunResult (shared with `check`). */
export function resultOf (r: {
  scenario: Pick<Scenario, 'name' | 'description'>, label: string, command: readonly string[], proxy: string,
  timeline: ClusterEventLog, recorder: Recorder, dataPath?: string | undefined, balancer?: BalancerStats, endpointErrors?: readonly string[],
  error: string | undefined, pods?: readonly PodEndings[], seed?: number | undefined, traffic?: TrafficRecord
}): RunResult {
  const { recorder, timeline, error } = r
  const result: RunResult = {
    scenario: r.scenario.name,
    description: r.scenario.description,
    label: r.label,
    command: r.command,
    proxy: r.proxy,
    ...(r.dataPath === undefined ? {} : { dataPath: r.dataPath }),
    durationMs: Math.round(timeline.now()),
    counts: recorder.counts,
    byRequest: recorder.byRequest,
    dropped: recorder.dropped,
    unsettled: recorder.counts.sent - recorder.settled,
    latencyMs: { p50: percentile(recorder.latencies, 50), p99: percentile(recorder.latencies, 99) },
    failures: recorder.failures,
    events: timeline.events,
    throughput: recorder.throughput,
    drops: recorder.drops,
    ...(r.balancer === undefined ? {} : { balancer: r.balancer }),
    ...(r.endpointErrors === undefined ? {} : { endpointErrors: r.endpointErrors }),
    pods: r.pods ?? [],
    ...(r.seed === undefined ? {} : { seed: r.seed }),
    ...(r.traffic === undefined ? {} : { traffic: r.traffic })
  }
  return error === undefined ? result : { ...result, error }
}
