/**
 * The rollout's preflight: one replica of a target started on its own, the
 * scenarios' requests tried against it (load/preflight.ts), the replica gone
 * again; then which runs the command makes. The service under test decides
 * which scenarios run at all; the baseline (the example's routes only) may
 * keep out more of its own runs.
 */
import { ClusterEventLog } from '../cluster/events.js'
import { Pod } from '../cluster/pod.js'
import type { ClusterSpec } from '../cluster/spec.js'
import { preflight, type NotRun, type Preflight } from '../load/preflight.js'
import type { Scenario } from '../load/scenarios.js'
import type { Traffic } from '../load/traffic.js'
import { LOOPBACK_NETWORK } from '../network/loopback.js'
import type { PodAddress } from '../network/pod-network.js'

/** How long the preflight replica may take to become ready before the preflight gives up. */
export const PREFLIGHT_READY_MS = 60_000

export interface PreflightTarget {
  readonly label: string
  readonly cluster: ClusterSpec
}

/** Resolves with the pod's address once it is ready; undefined when it exited or took too long (a pod whose network cannot tell where it listens never gets ready). */
async function readyAddress (pod: Pod, changes: EventTarget, readyMs: number): Promise<PodAddress | undefined> {
  return await new Promise((resolve) => {
    const finish = (): void => {
      clearTimeout(timer)
      changes.removeEventListener('change', check)
      resolve(pod.ready ? pod.address : undefined)
    }
    const check = (): void => {
      if (pod.ready || pod.exited) finish()
    }
    const timer = setTimeout(finish, readyMs).unref()
    changes.addEventListener('change', check)
  })
}

/**
 * Tries the scenarios against one replica of `target`. A replica that does
 * not become ready is not the preflight's to judge: every scenario runs, and
 * its runs fail with the pod's own output, as they would without a preflight.
 */
export async function preflightTarget (target: PreflightTarget, scenarios: readonly Scenario[], traffic: Traffic, requestTimeoutMs: number, readyMs = PREFLIGHT_READY_MS): Promise<Preflight> {
  const changes = new EventTarget()
  const pod = new Pod(`${target.label}-preflight`, 'preflight', target.cluster.pod, LOOPBACK_NETWORK.place('preflight'), new ClusterEventLog(), () => { changes.dispatchEvent(new Event('change')) })
  try {
    const address = await readyAddress(pod, changes, readyMs)
    return address === undefined ? { runnable: scenarios, notRun: [] } : await preflight(address, scenarios, traffic, target.label, requestTimeoutMs)
  } finally {
    pod.kill()
    await pod.done
  }
}

/** The runs to make, in order (scenario by scenario, the targets in their order), and what is not run. */
export function runPlan (scenarios: readonly Scenario[], targets: readonly PreflightTarget[], preflights: readonly Preflight[]): { runs: Array<{ scenario: Scenario, target: PreflightTarget }>, notRun: NotRun[] } {
  const [service] = preflights as [Preflight]
  const runs = scenarios.flatMap((scenario) => targets.flatMap((target, i) => {
    const runnable = (preflights[i] as Preflight).runnable.includes(scenario) && service.runnable.includes(scenario)
    return runnable ? [{ scenario, target }] : []
  }))
  const notRun = preflights.flatMap((p, i) => i === 0 ? p.notRun : p.notRun.filter((n) => service.runnable.some((s) => s.name === n.scenario)))
  return { runs, notRun }
}

/** Preflights every target at once (one replica each), unless told not to, then plans the runs. */
export async function planRuns (targets: readonly PreflightTarget[], scenarios: readonly Scenario[], traffic: Traffic, requestTimeoutMs: number, tryFirst = true): Promise<ReturnType<typeof runPlan>> {
  const preflights = tryFirst
    ? await Promise.all(targets.map(async (t) => await preflightTarget(t, scenarios, traffic, requestTimeoutMs)))
    : targets.map(() => ({ runnable: scenarios, notRun: [] }))
  return runPlan(scenarios, targets, preflights)
}
