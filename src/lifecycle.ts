import { EventEmitter } from 'node:events'

/**
 * The pod's lifecycle as the probes and the drain see it.
 *
 * - `starting`: listening or about to; startup and readiness answer 503.
 * - `ready`: started; readiness follows the critical checks.
 * - `draining`: SIGTERM (or `drain()`) arrived; readiness answers 503 at once so
 *   the endpoint is removed, while every request is still served normally.
 * - `closing`: the drain delay is over; the listener is closed and keep-alive
 *   connections are being retired; in-flight requests finish.
 * - `stopped`: HTTP is drained and dependencies are closed.
 *
 * States only move forward: a pod that started draining never becomes ready
 * again (Kubernetes has already begun deleting it).
 */
export const LIFECYCLE_STATES = ['starting', 'ready', 'draining', 'closing', 'stopped'] as const
export type LifecycleState = (typeof LIFECYCLE_STATES)[number]

export interface LifecycleEvents {
  state: [state: LifecycleState, previous: LifecycleState]
}

export class Lifecycle extends EventEmitter<LifecycleEvents> {
  #state: LifecycleState = 'starting'

  get state (): LifecycleState {
    return this.#state
  }

  /** True from SIGTERM on: the pod must not receive new traffic. */
  get terminating (): boolean {
    return LIFECYCLE_STATES.indexOf(this.#state) >= LIFECYCLE_STATES.indexOf('draining')
  }

  /**
   * Moves to `next` if it lies ahead of the current state; returns whether it
   * moved. Going backwards is ignored rather than thrown: a late `started()`
   * call racing a SIGTERM must not resurrect readiness.
   */
  advance (next: LifecycleState): boolean {
    const from = this.#state
    if (LIFECYCLE_STATES.indexOf(next) <= LIFECYCLE_STATES.indexOf(from)) return false
    this.#state = next
    this.emit('state', next, from)
    return true
  }
}
