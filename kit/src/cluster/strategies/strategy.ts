/**
 * A strategy is what the operator does to a running Deployment: a rolling
 * update, a scale-up or scale-down, a blue-green switch, a canary, an undo.
 * `deploy` builds what runs before the load starts; `move` makes the changes
 * under load. Each change of the Service's endpoints is recorded by the
 * cluster (what traffic should follow); the strategy names the groups the
 * report compares (`added`, `green`, `canary`, ...) and what it did, on the
 * timeline.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Cluster } from '../deployment.js'
import type { Pod } from '../pod.js'

export interface StrategyContext {
  readonly cluster: Cluster
  /** How long each traffic move is watched before the next one. */
  readonly holdMs: number
  /** Rolling updates back to back (`--rollouts`). */
  readonly rollouts: number
  /** Shows what the run is doing (the progress line). */
  phase: (text: string) => void
}

export interface Strategy {
  readonly name: string
  readonly description: string
  /** Moves traffic by weights: only an L7 proxy can (kube-proxy has no weights). */
  readonly needsL7?: boolean
  readonly deploy: (ctx: StrategyContext, moves: Moves) => Promise<void>
  readonly move: (ctx: StrategyContext, moves: Moves) => Promise<void>
}

/** What a strategy leaves for the report: the group of each pod it named, and its actions on the timeline. */
export class Moves {
  readonly #groups = new Map<string, string>()

  /** Names the group the report puts these pods in (default: their version). */
  label (pods: readonly Pod[], group: string): void {
    for (const p of pods) this.#groups.set(p.name, group)
  }

  /** Every pod's group, for the report. */
  groups (pods: readonly Pod[]): Record<string, string> {
    return Object.fromEntries(pods.map((p) => [p.name, this.#groups.get(p.name) ?? p.version]))
  }

  /** What the operator did, on the timeline and the progress line. */
  act (ctx: StrategyContext, what: string): void {
    ctx.cluster.timeline.add('operator', 'operator', '', what)
    ctx.phase(what)
  }

  /** Lets traffic follow the last change for the hold time. */
  async hold (ctx: StrategyContext): Promise<void> {
    await sleep(ctx.holdMs)
    ctx.cluster.assertRunning()
  }
}
