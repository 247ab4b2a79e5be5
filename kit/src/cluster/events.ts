/**
 * The run's event log (its timeline): every pod and rollout event with its time since the run
 * started, so each failed request can be placed relative to what the cluster
 * was doing at that moment.
 */
export type PodEventType =
  | 'created' | 'ready' | 'unready' | 'deleted' | 'sigterm' | 'sigkill' | 'exited'
  | 'endpoint-added' | 'endpoint-removed' | 'rollout-started' | 'rollout-complete'
  /** A rollout a newer one took over (an undo); the operator's moves of traffic (scale, switch, weights). */
  | 'rollout-stopped' | 'operator'

export interface TimelineEvent {
  /** Milliseconds since the run started. */
  readonly at: number
  readonly type: PodEventType
  /** Pod name, or the Deployment for rollout events. */
  readonly pod: string
  readonly version: string
  readonly detail?: string
}

export class ClusterEventLog {
  readonly #start = performance.now()
  readonly events: TimelineEvent[] = []

  /** Milliseconds since the run started. */
  now (): number {
    return performance.now() - this.#start
  }

  add (type: PodEventType, pod: string, version: string, detail?: string): TimelineEvent {
    const event: TimelineEvent = detail === undefined
      ? { at: this.now(), type, pod, version }
      : { at: this.now(), type, pod, version, detail }
    this.events.push(event)
    return event
  }
}
