/**
 * L7 mode: a real HAProxy in front of the replicas, with upstream keep-alive
 * (`http-reuse always`), the way ingress controllers pool connections to pods.
 * Endpoint changes reach it through the runtime API: new pods are added as
 * dynamic servers, removed pods are put in maintenance, which stops new
 * requests but — like an ingress — leaves their pooled idle connections open
 * until the pod closes them. With `protocol: 'h2'` it talks h2c to the pods
 * (`proto h2`: a few multiplexed sessions per pod, GOAWAY on drain); clients
 * may speak HTTP/1.1 or h2c to it (HAProxy detects the h2 preface itself).
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Balancer, BalancerStats, Endpoint } from './balancer.js'
import type { Protocol } from './protocol.js'
import { freePort, LOOPBACK } from './loopback.js'
import { startProxy } from './proxy-process.js'

/** Sends one command to HAProxy's runtime API and returns its answer. */
export async function runtimeCommand (socketPath: string, command: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    let answer = ''
    const socket = connect(socketPath, () => { socket.end(`${command}\n`) })
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => { answer += chunk })
    socket.on('end', () => { resolve(answer.trim()) })
    socket.on('error', reject)
  })
}

function config (port: number, socketPath: string): string {
  return `global
  stats socket ${socketPath} mode 600 level admin
  maxconn 4096
defaults
  mode http
  option http-keep-alive
  timeout connect 2s
  timeout client 75s
  timeout server 75s
  timeout http-keep-alive 75s
frontend fe
  bind ${LOOPBACK}:${port}
  default_backend pods
backend pods
  balance roundrobin
  http-reuse always
  # the readiness probe lives on the pod; the runtime API carries endpoint changes
  http-request return status 200 content-type text/plain string ok if { path /__haproxy_alive }
`
}

export class HaproxyBalancer implements Balancer {
  readonly port: number
  readonly stats: BalancerStats = { connections: 0, noEndpoint: 0, upstreamErrors: 0 }
  readonly #socket: string
  readonly #dir: string
  readonly #child: ChildProcess
  readonly #exited: Promise<void>
  /** Runtime-API commands that failed; an endpoint change must never crash the run. */
  readonly errors: string[] = []
  readonly #servers = new Set<string>()
  readonly #protocol: Protocol
  #queue: Promise<void> = Promise.resolve()

  private constructor (port: number, dir: string, child: ChildProcess, protocol: Protocol) {
    this.port = port
    this.#protocol = protocol
    this.#dir = dir
    this.#socket = join(dir, 'admin.sock')
    this.#child = child
    this.#exited = new Promise((resolve) => { child.on('exit', () => { resolve() }) })
  }

  /** Starts HAProxy (`haproxy` on PATH, or HAPROXY_BIN) and waits until it answers. */
  static async start (protocol: Protocol = 'h1'): Promise<HaproxyBalancer> {
    const dir = await mkdtemp(join(tmpdir(), 'fzd-haproxy-'))
    const port = await freePort()
    const file = join(dir, 'haproxy.cfg')
    await writeFile(file, config(port, join(dir, 'admin.sock')))
    const child = await startProxy({
      name: 'HAProxy', bin: process.env.HAPROXY_BIN ?? 'haproxy', args: ['-db', '-f', file], dir, port,
      alivePath: '/__haproxy_alive', hint: 'install it (Debian: apt-get install haproxy) or use --proxy l4'
    })
    return new HaproxyBalancer(port, dir, child, protocol)
  }

  podFor (): undefined {
    // A client connection's requests may go to any pod through L7.
    return undefined
  }

  /** Applies endpoint changes in order, one runtime-API command at a time. */
  async setEndpoints (endpoints: readonly Endpoint[]): Promise<void> {
    this.#queue = this.#queue.then(async () => {
      const wanted = new Set(endpoints.map((e) => e.name))
      for (const e of endpoints) {
        if (this.#servers.has(e.name)) continue
        this.#servers.add(e.name)
        await this.command(`add server pods/${e.name} ${LOOPBACK}:${e.port}${this.#protocol === 'h2' ? ' proto h2' : ''}`)
        await this.command(`enable server pods/${e.name}`)
      }
      for (const name of this.#servers) {
        if (wanted.has(name)) continue
        this.#servers.delete(name)
        await this.command(`set server pods/${name} state maint`)
      }
    }).catch((err: Error) => { this.errors.push(err.message) })
    await this.#queue
  }

  async command (command: string): Promise<string> {
    return await runtimeCommand(this.#socket, command)
  }

  async close (): Promise<void> {
    await this.#queue
    this.#child.kill('SIGKILL')
    await this.#exited
    await rm(this.#dir, { recursive: true, force: true })
  }
}
