/**
 * What the rest of the kit needs from a balancer in front of the pods,
 * whichever it is: the kube-proxy-like L4 relay, HAProxy or nginx.
 */
export interface Endpoint {
  readonly name: string
  readonly port: number
}

export interface BalancerStats {
  connections: number
  /** Connections reset because no endpoint was known (kube-proxy rejects those). */
  noEndpoint: number
  /** Upstream connections that failed or were reset by the pod. */
  upstreamErrors: number
}

/** What the load generators and the report need from either balancer. */
export interface Balancer {
  readonly port: number
  readonly stats: BalancerStats
  setEndpoints (endpoints: readonly Endpoint[]): void | Promise<void>
  /** The pod a client connection (by its local port) was sent to, when known. */
  podFor (clientPort: number | undefined): string | undefined
  close (): Promise<void>
}
