/**
 * The Service on the kernel's data path, programmed the way kube-proxy's
 * nftables mode programs it (Kubernetes `pkg/proxy/nftables/README.md`), in
 * a table of the node's namespace:
 *
 * - a `nat` prerouting chain sends new connections to the Service's virtual
 *   address to the service chain (nat chains see only a connection's first
 *   packet: its counter counts connections);
 * - the service chain picks one endpoint chain per new connection with
 *   `numgen random mod N vmap`, and each endpoint chain DNATs to its pod;
 * - with no endpoint, the connection is rejected with a TCP reset, as
 *   kube-proxy rejects traffic to a Service without endpoints;
 * - an established connection is the kernel's connection tracking's
 *   business: removing an endpoint stops new connections only, and the
 *   flows already on the pod stay there until one side closes them;
 * - in NodePort-style SNAT mode, DNAT-ed connections are also SNAT-ed to the
 *   node's address (kube-proxy masquerades NodePort traffic), so every
 *   client looks like one address to the pods.
 *
 * Endpoint changes replace the service chain in one nft transaction. Which
 * pod a client connection went to is read from conntrack's events.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Balancer, BalancerStats, Endpoint } from '../balancer.js'
import { CLIENT_GATEWAY, NODE_ADDRESS, POD_CIDR, SERVICE } from './addresses.js'
import { inNamespaceOf, runIn } from './commands.js'

const CLIENTS = `${CLIENT_GATEWAY.replace(/\.\d+$/, '.0')}/24`

/** The table, empty of endpoints; `snat` adds the NodePort-style masquerade. */
function table (name: string, snat: boolean): string {
  const match = `ip daddr ${SERVICE.host} tcp dport ${SERVICE.port}`
  return `table ip ${name} {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ${match} counter jump service comment "connections"
  }
  chain service {
  }
  chain input {
    type filter hook input priority filter; policy accept;
    ${match} counter reject with tcp reset comment "noEndpoint"
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    ct status dnat ip saddr ${POD_CIDR} tcp flags rst counter comment "upstreamErrors"
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
${snat ? `    ct status dnat ip saddr ${CLIENTS} snat ip to ${NODE_ADDRESS}\n` : ''}  }
}
`
}

/** nft's counters by their rule's comment. */
export function tableCounters (listing: string): BalancerStats {
  const count = (comment: string): number => Number(new RegExp(`counter packets (\\d+) bytes \\d+ .*comment "${comment}"`).exec(listing)?.[1] ?? Number.NaN)
  return { connections: count('connections'), noEndpoint: count('noEndpoint'), upstreamErrors: count('upstreamErrors') }
}

/** The client port and the pod address of a new connection in a `conntrack -E` line (none in any other line). */
export function newFlows (line: string): Array<{ clientPort: number, podHost: string }> {
  return [...line.matchAll(/\[NEW\] tcp .*? sport=(\d+) .*?\bsrc=(\S+) dst=/g)].map((m) => ({ clientPort: Number(m[1]), podHost: m[2] as string }))
}

export class KernelService implements Balancer {
  readonly host = SERVICE.host
  readonly port = SERVICE.port
  readonly endpointErrors: string[] = []
  readonly #nodePid: number
  readonly #table: string
  readonly #events: ChildProcess
  readonly #eventsDone: Promise<unknown>
  /** Client port -> pod address, from conntrack. */
  readonly #byPort = new Map<number, string>()
  /** Pod address -> pod name, from the endpoints. */
  readonly #byHost = new Map<string, string>()
  #chains: readonly string[] = []
  #queue: Promise<void> = Promise.resolve()

  private constructor (nodePid: number, table: string, events: ChildProcess) {
    this.#nodePid = nodePid
    this.#table = table
    this.#events = events
    this.#eventsDone = new Promise((resolve) => events.once('exit', resolve))
    createInterface({ input: events.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      for (const flow of newFlows(line)) this.#byPort.set(flow.clientPort, flow.podHost)
    })
  }

  /** Programs the Service (replacing a table of the same name) and starts reading conntrack's events. */
  static async start (nodePid: number, name: string, snat: boolean): Promise<KernelService> {
    await runIn(nodePid, 'nft', ['-f', '-'], `table ip ${name}\ndelete table ip ${name}\n${table(name, snat)}`)
    const [file, ...args] = inNamespaceOf(nodePid)
    // stdbuf: conntrack writes its events through stdio, block-buffered into a pipe.
    const events = spawn(file as string, [...args, 'stdbuf', '-oL', 'conntrack', '-E', '-e', 'NEW', '-p', 'tcp', '--orig-dst', SERVICE.host], { stdio: ['ignore', 'pipe', 'ignore'] })
    return new KernelService(nodePid, name, events)
  }

  podFor (clientPort: number | undefined): string | undefined {
    // Pod addresses are never reused within a run, so the address names the pod.
    return this.#byHost.get(this.#byPort.get(clientPort as number) as string)
  }

  /** Replaces the endpoint set in one transaction: a new connection sees the old set or the new, never none between. */
  async setEndpoints (endpoints: readonly Endpoint[]): Promise<void> {
    this.#queue = this.#queue.then(async () => {
      for (const e of endpoints) this.#byHost.set(e.host, e.name)
      const t = `ip ${this.#table}`
      const chains = endpoints.map((e) => `endpoint-${e.name}`)
      const lines = [`flush chain ${t} service`, ...this.#chains.map((c) => `delete chain ${t} ${c}`)]
      endpoints.forEach((e, i) => lines.push(`add chain ${t} ${chains[i] as string}`, `add rule ${t} ${chains[i] as string} meta l4proto tcp dnat ip to ${e.host}:${e.port}`))
      if (endpoints.length > 0) lines.push(`add rule ${t} service numgen random mod ${endpoints.length} vmap { ${chains.map((c, i) => `${i} : goto ${c}`).join(', ')} }`)
      await runIn(this.#nodePid, 'nft', ['-f', '-'], lines.join('\n') + '\n')
      this.#chains = chains
    }).catch((err: Error) => { this.endpointErrors.push(err.message) })
    await this.#queue
  }

  async stats (): Promise<BalancerStats> {
    return tableCounters(await runIn(this.#nodePid, 'nft', ['list', 'table', 'ip', this.#table]))
  }

  /** Removes the table (flows already tracked stay with conntrack until they end, as on a node). */
  async close (): Promise<void> {
    await this.#queue
    this.#events.kill('SIGKILL')
    await this.#eventsDone
    await runIn(this.#nodePid, 'nft', ['delete', 'table', 'ip', this.#table])
  }
}
