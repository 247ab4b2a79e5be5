/**
 * What the rest of the kit needs from a balancer in front of the pods,
 * whichever it is: the kube-proxy-like L4 relay, HAProxy or nginx.
 */
import type { PodAddress } from './pod-network.js'

/** A ready pod, as the balancer knows it: its name and its address. */
export interface Endpoint extends PodAddress {
  readonly name: string
  /** Relative weight (a weighted canary through an L7 proxy); absent: like every other endpoint. */
  readonly weight?: number
}

/** The balancer's own counters over a run, read from it (the L4 relay, HAProxy's stats, nginx's Lua balancer). */
export interface BalancerStats {
  /** Client connections it accepted. */
  readonly connections: number
  /**
   * Traffic that found no endpoint: connections the L4 relay reset (kube-proxy
   * rejects those), requests HAProxy answered 503 and nginx 500.
   */
  readonly noEndpoint: number
  /** Connections to pods that failed or that the pod reset (through a proxy: each failed try). */
  readonly upstreamErrors: number
}

/** What the load generators and the report need from either balancer. */
export interface Balancer {
  /** Where clients connect (default: loopback). */
  readonly host?: string
  readonly port: number
  /**
   * Applies an endpoint change. Never rejects: an update that fails is kept
   * in `endpointErrors` and the run goes on, then says so.
   */
  setEndpoints (endpoints: readonly Endpoint[]): void | Promise<void>
  /** Endpoint updates that failed, in order (empty for the L4 relay, which cannot fail one). */
  readonly endpointErrors: readonly string[]
  /** The pod a client connection (by its local port) was sent to, when known. */
  podFor (clientPort: number | undefined): string | undefined
  /** Its counters so far. */
  stats (): Promise<BalancerStats>
  /**
   * Requests each pod answered so far, by pod name, counted by the balancer
   * itself (the L7 proxies: any request may go to any pod). Absent for the L4
   * relay: a connection is pinned to one pod, so the clients count by connection.
   */
  served?: () => Promise<Record<string, number>>
  close (): Promise<void>
}
