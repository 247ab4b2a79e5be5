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
import type { Load, Target } from '../load/target.js'
import type { Traffic } from '../load/traffic.js'
import type { Balancer, BalancerStats } from '../network/balancer.js'
import { L4Balancer } from '../network/l4-balancer.js'
import { LOOPBACK } from '../network/loopback.js'
import type { PodNetwork } from '../network/pod-network.js'
import { podEndings } from '../cluster/drain-report.js'
import { resultOf, type Progress, type RunResult } from './result.js'
import { Moves, type Strategy } from '../cluster/strategies/index.js'
import { rolling } from '../cluster/strategies/rolling.js'
import type { TrafficRecord } from '../report/shares.js'
import { sampleServed, type ServedSampler } from './served-sampler.js'

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
  /** The routes and the requests file's mix the scenario sends (default: the example service's routes). */
  readonly traffic?: Traffic
  /** Traffic before the first rollout and after the last pod exited. */
  readonly steadyMs: number
  /** Builds the balancer (the L7 modes pass HAProxy or nginx here; default: the L4 relay). */
  readonly balancer?: () => Promise<Balancer>
  /** Where the pods are placed on the network (default: the loopback network, PORT=0). */
  readonly network?: PodNetwork
  readonly onProgress?: (p: Progress) => void
  /** What the operator does under load (default: the rolling update, `rollouts` times). */
  readonly strategy?: Strategy
  /** How long the strategy watches each traffic move (default 0). */
  readonly holdMs?: number
}

const PROGRESS_MS = 500

/** What a run is doing, for the progress line, and the load once it runs. */
interface RunState {
  phase: string
  load: Load | undefined
  /** Requests per pod over time, from when the load starts. */
  sampler: ServedSampler | undefined
}

/** The cluster of the run: the scenario may override the preStop sleep (the no-prestop ones). */
function clusterOf (spec: RunSpec): ClusterSpec {
  return spec.scenario.preStopSleepMs === undefined
    ? spec.cluster
    : { ...spec.cluster, pod: { ...spec.cluster.pod, preStopSleepMs: spec.scenario.preStopSleepMs } }
}

/** Calls `onProgress` every PROGRESS_MS; returns the function that stops it. */
function reportProgress (spec: RunSpec, deployment: Cluster, recorder: Recorder, state: RunState): () => void {
  let lastSettled = 0
  const timer = setInterval(() => {
    const settled = recorder.settled
    spec.onProgress?.({
      scenario: spec.scenario.name,
      label: spec.label,
      phase: state.phase,
      pods: deployment.pods.filter((p) => !p.exited),
      requestsPerSecond: (settled - lastSettled) * 1000 / PROGRESS_MS,
      sent: recorder.counts.sent,
      dropped: recorder.dropped
    })
    lastSettled = settled
  }, PROGRESS_MS).unref()
  return () => { clearInterval(timer) }
}

/** The strategy's first Deployment up, the load on, its moves, until the last old pod is gone and a little after. */
async function rollUnderLoad (spec: RunSpec, deployment: Cluster, target: Target, state: RunState, moves: Moves): Promise<void> {
  const strategy = spec.strategy ?? rolling
  const ctx = { cluster: deployment, holdMs: spec.holdMs ?? 0, rollouts: spec.rollouts, phase: (text: string) => { state.phase = text } }
  await strategy.deploy(ctx, moves)
  // Let the balancer learn the first endpoints before traffic starts.
  await sleep(deployment.spec.propagationMs + 100)
  state.load = await spec.scenario.start(target, loadShape(spec.scale, spec.seed, spec.traffic))
  const { balancer, timeline } = deployment
  // The L7 proxies count per pod themselves; through the L4 relay the clients know each connection's pod.
  state.sampler = sampleServed(balancer.served === undefined ? async () => target.recorder.served : balancer.served.bind(balancer), () => timeline.now())
  state.phase = 'steady'
  await sleep(spec.steadyMs)
  await strategy.move(ctx, moves)
  state.phase = 'draining old pods'
  await deployment.settled()
  state.phase = 'steady'
  await sleep(spec.steadyMs)
  deployment.assertRunning()
}

/** A run whose balancer missed endpoint changes did not roll what it reports: it says so. */
function endpointProblem (errors: readonly string[]): string {
  return `${errors.length} endpoint update(s) failed, so the balancer did not follow the pods; the first: ${errors[0] as string}`
}

export async function runScenario (spec: RunSpec): Promise<RunResult> {
  const timeline = new ClusterEventLog()
  const cluster = clusterOf(spec)
  const balancer: Balancer = await (spec.balancer ?? L4Balancer.listen)()
  const deployment = new Cluster(cluster, timeline, balancer, spec.network)
  const recorder = new Recorder(() => timeline.now())
  const target: Target = { host: balancer.host ?? LOOPBACK, port: balancer.port, recorder, podFor: (p) => balancer.podFor(p), requestTimeoutMs: spec.requestTimeoutMs }
  const state: RunState = { phase: `deploying (${(spec.strategy ?? rolling).name})`, load: undefined, sampler: undefined }
  const moves = new Moves()
  const stopProgress = reportProgress(spec, deployment, recorder, state)
  const problems: string[] = []
  let stats: BalancerStats | undefined
  let samples: TrafficRecord['samples'] | undefined
  try {
    await rollUnderLoad(spec, deployment, target, state, moves)
  } catch (err) {
    problems.push((err as Error).message)
  } finally {
    state.phase = 'stopping'
    await state.load?.stop()
    samples = await state.sampler?.stop()
    stopProgress()
    stats = await balancer.stats().catch((err: Error) => { problems.push(`balancer counters unreadable: ${err.message}`); return undefined })
    await deployment.close()
  }
  const endpointErrors = [...balancer.endpointErrors]
  if (endpointErrors.length > 0) problems.push(endpointProblem(endpointErrors))
  return resultOf({
    scenario: spec.scenario, label: spec.label, command: cluster.pod.command, proxy: cluster.proxy, timeline, recorder, dataPath: deployment.network.dataPath,
    ...(stats === undefined ? {} : { balancer: stats }), endpointErrors,
    error: problems.length === 0 ? undefined : problems.join('; '),
    pods: podEndings(deployment.pods, timeline.events), seed: spec.seed,
    ...(samples === undefined ? {} : { traffic: { strategy: (spec.strategy ?? rolling).name, samples, changes: deployment.serviceChanges, groups: moves.groups(deployment.pods) } })
  })
}
