/**
 * A kube-proxy-like L4 balancer. Each NEW connection goes to one of the
 * endpoints the balancer currently knows (round robin); an established
 * connection stays pinned to its pod until one side closes it, like conntrack
 * keeps a ClusterIP flow on its backend after the endpoint is gone. Endpoint
 * changes arrive late: the caller applies them after the propagation delay.
 */
import { connect, createServer, type Server, type Socket } from 'node:net'
import type { Balancer, BalancerStats, Endpoint } from './balancer.js'
import { LOOPBACK } from './loopback.js'

export class L4Balancer implements Balancer {
  readonly endpointErrors: readonly string[] = []
  readonly #stats = { connections: 0, noEndpoint: 0, upstreamErrors: 0 }
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  readonly #pinned = new Map<number, string>()
  #endpoints: readonly Endpoint[] = []
  #next = 0

  private constructor (server: Server) {
    this.#server = server
    server.on('connection', (client) => { this.#route(client) })
  }

  static async listen (): Promise<L4Balancer> {
    const server = createServer({ allowHalfOpen: true })
    const balancer = new L4Balancer(server)
    await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve))
    return balancer
  }

  get port (): number {
    return (this.#server.address() as { port: number }).port
  }

  setEndpoints (endpoints: readonly Endpoint[]): void {
    this.#endpoints = [...endpoints]
  }

  async stats (): Promise<BalancerStats> {
    return { ...this.#stats }
  }

  podFor (clientPort: number | undefined): string | undefined {
    return clientPort === undefined ? undefined : this.#pinned.get(clientPort)
  }

  #route (client: Socket): void {
    this.#stats.connections++
    const endpoint = this.#endpoints[this.#next++ % Math.max(this.#endpoints.length, 1)]
    if (endpoint === undefined) {
      this.#stats.noEndpoint++
      client.resetAndDestroy()
      return
    }
    this.#pinned.set(client.remotePort as number, endpoint.name)
    const upstream = connect({ host: endpoint.host, port: endpoint.port, allowHalfOpen: true })
    this.#sockets.add(client).add(upstream)
    // Half-closes pass through (pipe ends the other side); a reset on one side
    // becomes a reset on the other, as it would through NAT.
    client.pipe(upstream)
    upstream.pipe(client)
    client.on('error', () => { upstream.resetAndDestroy() })
    upstream.on('error', () => {
      this.#stats.upstreamErrors++
      client.resetAndDestroy()
    })
    client.on('close', () => { this.#sockets.delete(client) })
    upstream.on('close', () => { this.#sockets.delete(upstream) })
  }

  async close (): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    await new Promise((resolve) => this.#server.close(resolve))
  }
}
