/**
 * L7 mode: a real HAProxy in front of the replicas, with upstream keep-alive
 * (`http-reuse always`), the way ingress controllers pool connections to pods.
 * Endpoint changes reach it through the runtime API: new pods are added as
 * dynamic servers, removed pods are put in maintenance, which stops new
 * requests but — like an ingress — leaves their pooled idle connections open
 * until the pod closes them. With `protocol: 'h2'` it talks h2c to the pods
 * (`proto h2`: a few multiplexed sessions per pod, GOAWAY on drain); clients
 * may speak HTTP/1.1 or h2c to it (HAProxy detects the h2 preface itself).
 * Its counters come from the runtime API's `show stat`.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Balancer, BalancerStats, Endpoint } from './balancer.js'
import { listeningSocket, type HandedSocket } from './listen-socket.js'
import { LOOPBACK } from './loopback.js'
import { formatAddress } from './pod-network.js'
import type { Protocol } from './protocol.js'
import { startProxy } from './proxy-process.js'
import type { ProxyPlace } from './kernel/node.js'

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

/** How a proxy is started where it listens: with the kit's socket on loopback, under the ingress namespace's launcher on the kernel path. */
export const where = (place: ProxyPlace | undefined, listener: HandedSocket | undefined): { sockets: HandedSocket[] } | { launcher: readonly string[] } =>
  place === undefined ? { sockets: [listener as HandedSocket] } : { launcher: place.launcher }

const FRONTEND = 'fe'
const BACKEND = 'pods'

function config (socketPath: string, bind: string): string {
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
frontend ${FRONTEND}
  # on loopback, the listening socket the kit opened on a port the kernel picked (HAProxy cannot bind port 0);
  # on the kernel path, the ingress namespace's own address
  bind ${bind}
  default_backend ${BACKEND}
backend ${BACKEND}
  balance roundrobin
  http-reuse always
`
}

/**
 * The balancer's counters in `show stat` CSV: client connections are the
 * frontend's `conn_tot`; a request with no server to go to counts as a
 * connection error of the backend but of no server, so the backend's `econ`
 * beyond its servers' is what found no endpoint; upstream errors are the
 * servers' failed connections (`econ`), retried ones (`wretr`) and responses
 * the pod broke off (`eresp`).
 */
export function haproxyStats (csv: string): BalancerStats {
  const [head, ...rows] = csv.trim().split('\n')
  const names = (head as string).replace(/^# /, '').split(',')
  const records = rows.map((row) => new Map(row.split(',').map((v, i) => [names[i], v])))
  const num = (r: Map<string | undefined, string> | undefined, field: string): number => Number(r?.get(field) ?? '') || 0
  const row = (proxy: string, server: string): Map<string | undefined, string> | undefined => records.find((r) => r.get('pxname') === proxy && r.get('svname') === server)
  const servers = records.filter((r) => r.get('pxname') === BACKEND && r.get('svname') !== 'BACKEND')
  const sum = (field: string): number => servers.reduce((n, r) => n + num(r, field), 0)
  return {
    connections: num(row(FRONTEND, 'FRONTEND'), 'conn_tot'),
    noEndpoint: num(row(BACKEND, 'BACKEND'), 'econ') - sum('econ'),
    upstreamErrors: sum('econ') + sum('wretr') + sum('eresp')
  }
}

/** Responses each server (pod) sent, from `show stat`: the sum of its `hrsp_*` counters, by server name. */
export function haproxyServed (csv: string): Record<string, number> {
  const [head, ...rows] = csv.trim().split('\n')
  const names = (head as string).replace(/^# /, '').split(',')
  const served: Record<string, number> = {}
  for (const row of rows) {
    const r = new Map(row.split(',').map((v, i) => [names[i], v]))
    const server = r.get('svname') as string
    if (r.get('pxname') !== BACKEND || server === 'BACKEND') continue
    served[server] = [...r].reduce((n, [field, v]) => n + ((field as string).startsWith('hrsp_') ? Number(v) || 0 : 0), 0)
  }
  return served
}

/** HAProxy's server weights are integers up to 256: the heaviest endpoint gets 256, the others in proportion. */
export function haproxyWeights (endpoints: readonly Endpoint[]): Map<string, number> {
  const heaviest = Math.max(0, ...endpoints.map((e) => e.weight ?? 1))
  return new Map(endpoints.map((e) => [e.name, heaviest === 0 ? 0 : Math.round((e.weight ?? 1) / heaviest * 256)]))
}

export class HaproxyBalancer implements Balancer {
  readonly host: string
  readonly port: number
  readonly endpointErrors: string[] = []
  readonly #socket: string
  readonly #dir: string
  readonly #child: ChildProcess
  readonly #exited: Promise<void>
  readonly #servers = new Set<string>()
  /** Servers taken out of the endpoints: HAProxy keeps them, in maintenance, until the end. */
  readonly #parked = new Set<string>()
  readonly #protocol: Protocol
  #queue: Promise<void> = Promise.resolve()

  private constructor (host: string, port: number, dir: string, child: ChildProcess, protocol: Protocol) {
    this.host = host
    this.port = port
    this.#protocol = protocol
    this.#dir = dir
    this.#socket = join(dir, 'admin.sock')
    this.#child = child
    this.#exited = new Promise((resolve) => { child.on('exit', () => { resolve() }) })
  }

  /** Starts HAProxy (`haproxy` on PATH, or HAPROXY_BIN) on loopback or at `place`, and waits until its runtime API answers. */
  static async start (protocol: Protocol = 'h1', place?: ProxyPlace): Promise<HaproxyBalancer> {
    const dir = await mkdtemp(join(tmpdir(), 'fzd-haproxy-'))
    const listener = place === undefined ? await listeningSocket() : undefined
    const file = join(dir, 'haproxy.cfg')
    const socket = join(dir, 'admin.sock')
    await writeFile(file, config(socket, place === undefined ? 'fd@3' : formatAddress(place)))
    // HAProxy opens its listeners before its runtime API: once the API answers, it serves.
    const child = await startProxy({
      name: 'HAProxy', bin: process.env.HAPROXY_BIN ?? 'haproxy', args: ['-db', '-f', file], dir, ...where(place, listener),
      serving: async () => await runtimeCommand(socket, 'show info').then(() => true, () => false),
      hint: 'install it (Debian: apt-get install haproxy) or use --proxy l4'
    })
    return new HaproxyBalancer(place?.host ?? LOOPBACK, place?.port ?? (listener as HandedSocket).port, dir, child, protocol)
  }

  podFor (): undefined {
    // A client connection's requests may go to any pod through L7.
    return undefined
  }

  /** Applies endpoint changes in order, one runtime-API command at a time; a refused command is an endpoint error. */
  async setEndpoints (endpoints: readonly Endpoint[]): Promise<void> {
    this.#queue = this.#queue.then(async () => {
      const wanted = new Set(endpoints.map((e) => e.name))
      for (const e of endpoints) {
        if (this.#servers.has(e.name)) continue
        if (this.#parked.delete(e.name)) {
          // An endpoint back (a blue-green switch back, an undo): the same pod,
          // at the same address, still known to HAProxy, which refuses to add
          // a server under a name it has.
          await this.#expect(`set server ${BACKEND}/${e.name} state ready`, '')
        } else {
          await this.#expect(`add server ${BACKEND}/${e.name} ${formatAddress(e)}${this.#protocol === 'h2' ? ' proto h2' : ''}`, 'New server registered.')
          await this.#expect(`enable server ${BACKEND}/${e.name}`, '')
        }
        this.#servers.add(e.name)
      }
      // Weights only when asked for (a weighted canary): set again on every change, as an ingress controller does.
      if (endpoints.some((e) => e.weight !== undefined)) {
        for (const [name, weight] of haproxyWeights(endpoints)) await this.#expect(`set server ${BACKEND}/${name} weight ${weight}`, '')
      }
      for (const name of this.#servers) {
        if (wanted.has(name)) continue
        this.#servers.delete(name)
        this.#parked.add(name)
        await this.#expect(`set server ${BACKEND}/${name} state maint`, '')
      }
    }).catch((err: Error) => { this.endpointErrors.push(err.message) })
    await this.#queue
  }

  /** Runs a runtime-API command; any answer but the expected one rejects with it. */
  async #expect (command: string, answer: string): Promise<void> {
    const got = await this.command(command).catch((err: Error) => { throw new Error(`HAProxy runtime API unreachable for "${command}": ${err.message}`) })
    if (got !== answer) throw new Error(`HAProxy refused "${command}": ${got}`)
  }

  async command (command: string): Promise<string> {
    return await runtimeCommand(this.#socket, command)
  }

  async stats (): Promise<BalancerStats> {
    return haproxyStats(await this.command('show stat'))
  }

  async served (): Promise<Record<string, number>> {
    return haproxyServed(await this.command('show stat'))
  }

  async close (): Promise<void> {
    await this.#queue
    this.#child.kill('SIGKILL')
    await this.#exited
    await rm(this.#dir, { recursive: true, force: true })
  }
}
