/**
 * One measured run: deploy v1, start the scenario's load, roll the Deployment
 * one or more times, wait until no pod is terminating, stop the load and
 * account for every request.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { percentile, Recorder, type Counts, type FailureRecord } from '../load/accounting.js'
import { L4Balancer, type Balancer, type BalancerStats } from '../network/l4-balancer.js'
import { Cluster } from '../cluster/deployment.js'
import type { ClusterSpec } from '../cluster/spec.js'
import { ClusterEventLog, type TimelineEvent } from '../cluster/events.js'
import { podEndings, type PodEndings } from '../report/endings.js'
import { seededRandom, type Load } from '../load/http-client.js'
import { LOOPBACK } from '../cluster/pod.js'
import type { LoadShape, Scenario } from '../load/scenarios.js'

export interface RunSpec {
  readonly scenario: Scenario
  /** `service` or `baseline` (or any label the report shows). */
  readonly label: string
  readonly cluster: ClusterSpec
  readonly rollouts: number
  readonly requestTimeoutMs: number
  /** Load scale factor applied to the scenario's client counts. */
  readonly scale: number
  /** Draws the clients' think times from `seededRandom(seed)` (the same sequence every run) instead of Math.random. */
  readonly seed?: number
  /** Traffic before the first rollout and after the last pod exited. */
  readonly steadyMs: number
  /** Builds the balancer (the L7 mode passes HAProxy here). */
  readonly balancer?: () => Promise<Balancer>
  readonly onProgress?: (p: Progress) => void
}

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
  readonly durationMs: number
  readonly counts: Counts
  readonly dropped: number
  /** Sent minus settled: must be 0, or the accounting itself is broken. */
  readonly unsettled: number
  readonly latencyMs: { readonly p50: number, readonly p99: number }
  readonly failures: readonly FailureRecord[]
  readonly events: readonly TimelineEvent[]
  readonly throughput: readonly number[]
  readonly drops: readonly number[]
  readonly balancer: BalancerStats
  /** Per pod: how its connections ended and how long after deletion it was gone (empty under `check`). */
  readonly pods: readonly PodEndings[]
  /** The think-time seed (`--seed`), when one was given: rerun with it to get the same think times. */
  readonly seed?: number
  /** Set when the run could not complete (a pod crashed, the command failed to start). */
  readonly error?: string
}

const PROGRESS_MS = 500

export async function runScenario (spec: RunSpec): Promise<RunResult> {
  const timeline = new ClusterEventLog()
  const cluster: ClusterSpec = spec.scenario.preStopSleepMs === undefined
    ? spec.cluster
    : { ...spec.cluster, pod: { ...spec.cluster.pod, preStopSleepMs: spec.scenario.preStopSleepMs } }
  const balancer = await (spec.balancer ?? L4Balancer.listen)()
  const deployment = new Cluster(cluster, timeline, balancer)
  const recorder = new Recorder(() => timeline.now())
  const target = { host: LOOPBACK, port: balancer.port, recorder, podFor: (p: number | undefined) => balancer.podFor(p), requestTimeoutMs: spec.requestTimeoutMs }
  let load: Load | undefined
  let error: string | undefined
  let lastSettled = 0
  let phase = 'deploying v1'
  const progress = setInterval(() => {
    const settled = recorder.settled
    spec.onProgress?.({
      scenario: spec.scenario.name,
      label: spec.label,
      phase,
      pods: deployment.pods.filter((p) => !p.exited),
      requestsPerSecond: (settled - lastSettled) * 1000 / PROGRESS_MS,
      sent: recorder.counts.sent,
      dropped: recorder.dropped
    })
    lastSettled = settled
  }, PROGRESS_MS).unref()
  try {
    await deployment.rollout('v1')
    // Let the balancer learn the first endpoints before traffic starts.
    await sleep(cluster.propagationMs + 100)
    load = await spec.scenario.start(target, loadShape(spec.scale, spec.seed))
    phase = 'steady'
    await sleep(spec.steadyMs)
    for (let i = 1; i <= spec.rollouts; i++) {
      phase = `rollout to v${i + 1}${spec.rollouts > 1 ? ` (${i}/${spec.rollouts})` : ''}`
      await deployment.rollout(`v${i + 1}`)
    }
    phase = 'draining old pods'
    await deployment.settled()
    phase = 'steady'
    await sleep(spec.steadyMs)
    deployment.assertRunning()
  } catch (err) {
    error = (err as Error).message
  } finally {
    phase = 'stopping'
    await load?.stop()
    clearInterval(progress)
    await deployment.close()
  }
  const pods = podEndings(deployment.pods, timeline.events)
  return resultOf({ scenario: spec.scenario, label: spec.label, command: cluster.pod.command, proxy: cluster.proxy, timeline, recorder, balancer: balancer.stats, error, pods, seed: spec.seed })
}

/**
 * A scenario's scale and think-time source. Each run gets its own generator
 * from the seed, so a scenario draws the same think times whatever ran
 * before it (the service and the baseline alike). Only the think times
 * repeat: the order in which the clients' timers fire and the pods' timing
 * are still the machine's.
 */
export function loadShape (scale: number, seed: number | undefined): LoadShape {
  return { scale, random: seed === undefined ? Math.random : seededRandom(seed) }
}

/** Freezes what one scenario's recorder saw into a RunResult (shared with `check`). */
export function resultOf (r: {
  scenario: Scenario, label: string, command: readonly string[], proxy: string,
  timeline: ClusterEventLog, recorder: Recorder, balancer: BalancerStats, error: string | undefined, pods?: readonly PodEndings[], seed?: number | undefined
}): RunResult {
  const { recorder, timeline, error } = r
  const result: RunResult = {
    scenario: r.scenario.name,
    description: r.scenario.description,
    label: r.label,
    command: r.command,
    proxy: r.proxy,
    durationMs: Math.round(timeline.now()),
    counts: recorder.counts,
    dropped: recorder.dropped,
    unsettled: recorder.counts.sent - recorder.settled,
    latencyMs: { p50: percentile(recorder.latencies, 50), p99: percentile(recorder.latencies, 99) },
    failures: recorder.failures,
    events: timeline.events,
    throughput: recorder.throughput,
    drops: recorder.drops,
    balancer: r.balancer,
    pods: r.pods ?? [],
    ...(r.seed === undefined ? {} : { seed: r.seed })
  }
  return error === undefined ? result : { ...result, error }
}
