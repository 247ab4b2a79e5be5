/**
 * One measured run: deploy v1, start the scenario's load, roll the Deployment
 * one or more times, wait until no pod is terminating, stop the load and
 * account for every request.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Cluster } from '../cluster/deployment.js'
import { ClusterEventLog } from '../cluster/events.js'
import type { ClusterSpec } from '../cluster/spec.js'
import { Recorder } from '../load/accounting.js'
import { loadShape, type Scenario } from '../load/scenarios.js'
import type { Load } from '../load/target.js'
import type { Balancer } from '../network/balancer.js'
import { L4Balancer } from '../network/l4-balancer.js'
import { LOOPBACK } from '../network/loopback.js'
import { podEndings } from '../cluster/drain-report.js'
import { resultOf, type Progress, type RunResult } from './result.js'

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
