/**
 * The simulated node's address plan, all inside 198.18.0.0/15 (RFC 2544's
 * range for benchmarking: no real network is ever addressed) and all inside
 * the run's own network namespaces:
 *
 * - 198.18.0.0/16, the pod network on the node's bridge: the node is
 *   198.18.0.1 (also the address NodePort-style SNAT rewrites clients to),
 *   pods get 198.18.1.1 onwards, never reused within a run;
 * - 198.19.0.10:80, the Service's virtual address (a ClusterIP): it belongs
 *   to no interface a client can reach, only the node's DNAT makes it answer;
 * - 198.19.1.0/24, the clients' namespace: 198.19.1.1 .. 198.19.1.N, the
 *   node's side 198.19.1.254;
 * - 198.19.2.0/24, the ingress namespace (HAProxy, nginx): 198.19.2.1, the
 *   node's side 198.19.2.254.
 *
 * Clients and the ingress sit on subnets of their own, routed through the
 * node, not on the bridge: a reply from a pod to a client on the same bridge
 * would be switched past the node's connection tracking and miss the
 * reverse NAT (a cluster needs br_netfilter for that case; a routed client
 * does not).
 */
export const POD_CIDR = '198.18.0.0/16'
export const NODE_ADDRESS = '198.18.0.1'
export const POD_PORT = 8080
export const SERVICE = Object.freeze({ host: '198.19.0.10', port: 80 })
export const CLIENT_GATEWAY = '198.19.1.254'
export const INGRESS = Object.freeze({ host: '198.19.2.1', port: 80, gateway: '198.19.2.254' })
/** The whole range, routed from the clients' and the ingress namespaces to the node. */
export const RANGE = '198.18.0.0/15'
/** At most this many client addresses (a /24 less the node's side). */
export const MAX_CLIENT_ADDRESSES = 250
const PODS_PER_OCTET = 250

/** The n-th client address, from 0. */
export const clientAddress = (n: number): string => `198.19.1.${n + 1}`

/** The n-th pod's address, from 0: 198.18.1.1 .. 198.18.1.250, then 198.18.2.1 ... */
export const podAddress = (n: number): string => `198.18.${1 + Math.floor(n / PODS_PER_OCTET)}.${1 + (n % PODS_PER_OCTET)}`
