/**
 * A Deployment, its pods, and the endpoint controller in front of a balancer.
 * Rolling updates follow the Deployment controller's rules: new pods up to
 * replicas + maxSurge (terminating pods do not count, as in Kubernetes), old
 * pods deleted only while at least replicas - maxUnavailable pods are
 * available (ready for minReadySeconds).
 */
import { resolveStrategyCounts, type ClusterSpec } from './spec.js'
import type { Balancer, Endpoint } from '../network/balancer.js'
import { LOOPBACK_NETWORK } from '../network/loopback.js'
import type { PodAddress, PodNetwork } from '../network/pod-network.js'
import type { ClusterEventLog } from './events.js'
import { Pod } from './pod.js'

/** The Service's endpoint set as the operator left it, each with the share of requests it was meant to get. */
export interface ServiceChange {
  readonly at: number
  /** Pod name -> the fraction of requests the Service's configuration gives it (they sum to 1). */
  readonly intended: Readonly<Record<string, number>>
}

export class Cluster {
  readonly spec: ClusterSpec
  readonly timeline: ClusterEventLog
  readonly balancer: Balancer
  readonly network: PodNetwork
  readonly pods: Pod[] = []
  /** Every change of the endpoint set (or of its weights), when the EndpointSlice changed: what traffic should follow. */
  readonly serviceChanges: ServiceChange[] = []
  readonly #readySince = new Map<Pod, number>()
  readonly #timers = new Set<NodeJS.Timeout>()
  #known: readonly Endpoint[] = []
  #selector: (pod: Pod) => boolean = () => true
  #weight: ((pod: Pod) => number) | undefined
  #desired: string | undefined
  #wake: () => void = () => {}
  #serial = 0
  #closed = false

  constructor (spec: ClusterSpec, timeline: ClusterEventLog, balancer: Balancer, network: PodNetwork = LOOPBACK_NETWORK) {
    this.spec = spec
    this.timeline = timeline
    this.balancer = balancer
    this.network = network
  }

  /** Pods not marked for deletion. */
  get live (): Pod[] {
    return this.pods.filter((p) => !p.terminating && !p.exited)
  }

  #after (ms: number, fn: () => void): void {
    const timer = setTimeout(() => { this.#timers.delete(timer); fn() }, ms)
    timer.unref()
    this.#timers.add(timer)
  }

  /** A pod changed: recompute the endpoints and let the balancer learn it late. */
  #changed (): void {
    // A ready pod has an address: readiness is what found it.
    const selected = this.pods.filter((p) => p.ready && !p.terminating && !p.exited && this.#selector(p))
    const weigh = this.#weight
    const endpoints: Endpoint[] = selected.map((p) => ({ name: p.name, ...p.address as PodAddress, ...(weigh === undefined ? {} : { weight: weigh(p) }) }))
    const names = new Set(endpoints.map((e) => e.name))
    const before = new Set(this.#known.map((e) => e.name))
    const key = (list: readonly Endpoint[]): string => list.map((e) => `${e.name}=${e.weight ?? 1}`).join(',')
    if (key(endpoints) !== key(this.#known)) {
      const added = endpoints.filter((e) => !before.has(e.name))
      const removed = this.#known.filter((e) => !names.has(e.name))
      this.#known = endpoints
      this.serviceChanges.push({ at: this.timeline.now(), intended: intendedShares(endpoints) })
      this.#after(this.spec.propagationMs, () => {
        if (this.#closed) return
        void this.balancer.setEndpoints(endpoints)
        for (const e of added) this.timeline.add('endpoint-added', e.name, this.#versionOf(e.name))
        for (const e of removed) this.timeline.add('endpoint-removed', e.name, this.#versionOf(e.name))
      })
    }
    this.#wake()
  }

  /** The Service's selector (blue-green): only the pods it matches become endpoints. */
  select (selector: (pod: Pod) => boolean): void {
    this.#selector = selector
    this.#changed()
  }

  /** Relative weights per endpoint (a weighted canary through an L7 proxy); undefined: every endpoint alike. */
  weigh (weight: ((pod: Pod) => number) | undefined): void {
    this.#weight = weight
    this.#changed()
  }

  /** Pods of `version` outside any rollout (a scale-up, a second Deployment), available or not. */
  createPods (version: string, count: number): Pod[] {
    return Array.from({ length: count }, () => this.#createPod(version))
  }

  /** Resolves when every one of `pods` is available (ready for minReadySeconds); throws if one crashed. */
  async available (pods: readonly Pod[]): Promise<void> {
    while (!pods.every((p) => this.#available(p, this.timeline.now()))) {
      this.assertRunning()
      await this.#nextChange()
    }
  }

  #versionOf (name: string): string {
    return (this.pods.find((p) => p.name === name) as Pod).version
  }

  #createPod (version: string): Pod {
    const name = `web-${version}-${++this.#serial}`
    const pod = new Pod(name, version, this.spec.pod, this.network.place(name), this.timeline, () => {
      if (pod.ready) this.#readySince.set(pod, this.timeline.now())
      else this.#readySince.delete(pod)
      this.#changed()
    })
    this.pods.push(pod)
    return pod
  }

  #available (pod: Pod, now: number): boolean {
    const since = this.#readySince.get(pod)
    return since !== undefined && !pod.terminating && now - since >= this.spec.strategy.minReadyMs
  }

  /** Waits for the next pod change, or a short tick so minReadySeconds can elapse. */
  async #nextChange (): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#wake = resolve
      this.#after(100, resolve)
    })
  }

  /** Throws when a pod exited without being deleted (a crash), or its network could not tell where it listens. */
  assertRunning (): void {
    const lost = this.pods.find((p) => p.failure !== undefined)
    if (lost !== undefined) throw new Error(`pod ${lost.name}: ${lost.failure as string}`)
    const crashed = this.pods.find((p) => p.exited && !p.terminating)
    if (crashed === undefined) return
    // The usual reason one replica of several cannot bind: the service does not listen on $PORT.
    const { env } = crashed.placement
    const hint = /EADDRINUSE/.test(crashed.logTail) ? `\n(each replica is started with HOST=${env.HOST} PORT=${env.PORT} and must listen there: a service that listens on a fixed port cannot run as several replicas)` : ''
    throw new Error(`pod ${crashed.name} exited before it was deleted; its last output:\n${crashed.logTail}${hint}`)
  }

  /**
   * Rolls the Deployment to `version` (the first call creates it) and resolves
   * when every replica runs `version` and is available. Terminating pods may
   * still be draining; see `settled()`.
   */
  async rollout (version: string): Promise<void> {
    const { replicas } = this.spec.strategy
    const { surge, unavailable } = resolveStrategyCounts(this.spec.strategy)
    this.timeline.add('rollout-started', 'deployment/web', version)
    this.#desired = version
    for (;;) {
      this.assertRunning()
      // A newer rollout (an undo) took over this one's pods: the Deployment controller follows the newest template.
      if (this.#desired !== version) {
        this.timeline.add('rollout-stopped', 'deployment/web', version)
        return
      }
      const now = this.timeline.now()
      const live = this.live
      const fresh = live.filter((p) => p.version === version)
      const old = live.filter((p) => p.version !== version)
      const available = live.filter((p) => this.#available(p, now)).length
      if (old.length === 0 && fresh.length === replicas && available === replicas) break
      const create = Math.min(replicas - fresh.length, replicas + surge - live.length)
      for (let i = 0; i < create; i++) this.#createPod(version)
      // Unavailable old pods go first: deleting them costs no capacity.
      const byAvailability = [...old].sort((a, b) => Number(this.#available(a, now)) - Number(this.#available(b, now)))
      let budget = available - (replicas - unavailable)
      for (const pod of byAvailability) {
        const costs = this.#available(pod, now)
        if (costs && budget <= 0) break
        if (costs) budget--
        pod.delete()
      }
      await this.#nextChange()
    }
    this.timeline.add('rollout-complete', 'deployment/web', version)
  }

  /** Resolves when no pod is terminating any more (the last old pod has exited). */
  async settled (): Promise<void> {
    await Promise.all(this.pods.filter((p) => p.terminating).map(async (p) => await p.done))
  }

  /** When pods became ready, for the ReplicaSet controller's choice of which pods to delete on a scale-down. */
  readySince (pod: Pod): number | undefined {
    return this.#readySince.get(pod)
  }

  async close (): Promise<void> {
    this.#closed = true
    for (const timer of this.#timers) clearTimeout(timer)
    for (const pod of this.pods) pod.kill()
    await Promise.all(this.pods.map(async (p) => await p.done))
    await this.balancer.close()
  }
}

/** Each endpoint's share of requests: alike, or in proportion to its weight. */
export function intendedShares (endpoints: readonly Endpoint[]): Record<string, number> {
  const total = endpoints.reduce((n, e) => n + (e.weight ?? 1), 0)
  return Object.fromEntries(endpoints.map((e) => [e.name, total === 0 ? 0 : (e.weight ?? 1) / total]))
}
