/**
 * The simulated node, built in the network namespace the run was started in
 * (see cli/network.ts: a namespace of its own, under `unshare`), which is the
 * clients' namespace: the load generators run in this process. Around it:
 *
 * - the node's namespace, with the bridge the pods hang on, IP forwarding,
 *   and the Service's nftables table (service.ts);
 * - the ingress namespace, where HAProxy and nginx run;
 * - one namespace per pod, created with the pod (its process is started
 *   under `unshare --net` and waits until its network is wired, as a
 *   container waits for the CNI plugin): the pod exits, its namespace and
 *   its link go with it, and its address answers what an address with no
 *   host behind it on a node's bridge answers.
 *
 * The node's and the ingress namespaces are each held by a `sleep` process;
 * every link name carries the run's prefix.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import type { PodAddress, PodNetwork, PodPlacement } from '../pod-network.js'
import {
  CLIENT_GATEWAY, clientAddress, INGRESS, NODE_ADDRESS, POD_CIDR, POD_PORT, podAddress, RANGE
} from './addresses.js'
import { inNamespaceOf, ownNamespace, run, runIn } from './commands.js'

export interface NodeOptions {
  /** Run-specific prefix of every link name (at most 8 characters: a link name has 15). */
  readonly prefix: string
  /** Source addresses the clients are spread over, per new connection. */
  readonly clientAddresses: number
  /** NodePort-style: connections to the Service SNAT-ed to the node's address. */
  readonly snat: boolean
}

/** Where a proxy runs on the kernel path: in the ingress namespace, listening on its address. */
export interface ProxyPlace {
  readonly launcher: readonly string[]
  readonly host: string
  readonly port: number
}

/**
 * Waits (bounded) until the pod's namespace has its default route, the last
 * thing wired, then becomes the pod's command: same pid, so the kubelet's
 * signals reach the service itself.
 */
const WAIT_FOR_NETWORK = `i=0
until [ -n "$(ip -4 route show default 2>/dev/null)" ]; do
  i=$((i+1))
  if [ "$i" -gt 1000 ]; then echo "pod network not wired after 10 s" >&2; exit 70; fi
  sleep 0.01
done
exec "$@"`

/** A process holding a network namespace of its own, and its exit. */
interface Holder {
  readonly child: ChildProcess
  readonly exited: Promise<unknown>
}

async function holder (): Promise<Holder> {
  const child = spawn('unshare', ['--net', '--', 'sleep', 'infinity'], { stdio: 'ignore' })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  await ownNamespace(child.pid as number)
  return { child, exited }
}

export class KernelNode implements PodNetwork {
  readonly dataPath: string
  readonly options: NodeOptions
  readonly #node: Holder
  readonly #ingress: Holder
  #pods = 0

  private constructor (options: NodeOptions, node: Holder, ingress: Holder) {
    this.options = options
    this.#node = node
    this.#ingress = ingress
    const clients = options.clientAddresses === 1 ? clientAddress(0) : `${clientAddress(0)}-${clientAddress(options.clientAddresses - 1)}`
    this.dataPath = `kernel (a network namespace per pod on ${POD_CIDR}, nftables DNAT, clients from ${clients}${options.snat ? `, SNAT-ed to the node's ${NODE_ADDRESS}` : ''})`
  }

  /** The node's namespace, by the pid of the process holding it. */
  get nodePid (): number {
    return this.#node.child.pid as number
  }

  static async start (options: NodeOptions): Promise<KernelNode> {
    const node = new KernelNode(options, await holder(), await holder())
    try {
      await node.#wire()
    } catch (err) {
      await node.close()
      throw err
    }
    return node
  }

  async #wire (): Promise<void> {
    const p = this.options.prefix
    const nodePid = String(this.nodePid)
    const ingressPid = String(this.#ingress.child.pid)
    await run('ip', ['link', 'add', `${p}c`, 'type', 'veth', 'peer', 'name', `${p}nc`, 'netns', nodePid])
    await run('ip', ['link', 'add', `${p}i`, 'netns', ingressPid, 'type', 'veth', 'peer', 'name', `${p}ni`, 'netns', nodePid])
    await runIn(this.nodePid, 'ip', ['-batch', '-'], [
      'link set lo up', `link add ${p}br type bridge`, `addr add ${NODE_ADDRESS}/16 dev ${p}br`, `link set ${p}br up`,
      `addr add ${CLIENT_GATEWAY}/24 dev ${p}nc`, `link set ${p}nc up`, `addr add ${INGRESS.gateway}/24 dev ${p}ni`, `link set ${p}ni up`
    ].join('\n') + '\n')
    await runIn(this.nodePid, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1'])
    await runIn(this.#ingress.child.pid as number, 'ip', ['-batch', '-'], [
      'link set lo up', `addr add ${INGRESS.host}/24 dev ${p}i`, `link set ${p}i up`, `route add ${RANGE} via ${INGRESS.gateway}`
    ].join('\n') + '\n')
    const addresses = Array.from({ length: this.options.clientAddresses }, (_, i) => `addr add ${clientAddress(i)}/24 dev ${p}c`)
    await run('ip', ['-batch', '-'], ['link set lo up', ...addresses, `link set ${p}c up`, `route add ${RANGE} via ${CLIENT_GATEWAY}`].join('\n') + '\n')
    if (this.options.clientAddresses > 1) await run('nft', ['-f', '-'], this.#clientSpread())
  }

  /**
   * The load generators cannot each pick a source address, so the clients'
   * namespace spreads their new connections over the addresses (conntrack
   * keeps each connection on the one it got): a pod sees N client addresses.
   */
  #clientSpread (): string {
    const n = this.options.clientAddresses
    const map = Array.from({ length: n }, (_, i) => `${i} : ${clientAddress(i)}`).join(', ')
    return `table ip ${this.options.prefix}_clients {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr ${clientAddress(0)} snat ip to numgen inc mod ${n} map { ${map} }
  }
}
`
  }

  /** Where HAProxy and nginx run: the ingress namespace. */
  get ingress (): ProxyPlace {
    return { launcher: inNamespaceOf(this.#ingress.child.pid as number), host: INGRESS.host, port: INGRESS.port }
  }

  place (pod: string): PodPlacement {
    const n = this.#pods++
    const address: PodAddress = { host: podAddress(n), port: POD_PORT }
    let wired: Promise<void> | undefined
    return {
      env: { HOST: '0.0.0.0', PORT: String(POD_PORT) },
      launcher: ['unshare', '--net', '--', 'sh', '-c', WAIT_FOR_NETWORK, pod],
      candidates: async (pid) => {
        wired ??= this.#wirePod(pid, `${this.options.prefix}p${n}`, address.host)
        await wired
        return [address]
      }
    }
  }

  /** The pod's veth pair: one end on the node's bridge, the other its eth0, its address and its route to the node. */
  async #wirePod (pid: number, link: string, host: string): Promise<void> {
    await ownNamespace(pid)
    await run('ip', ['link', 'add', link, 'netns', String(this.nodePid), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(pid)])
    await runIn(this.nodePid, 'ip', ['link', 'set', link, 'master', `${this.options.prefix}br`, 'up'])
    await runIn(pid, 'ip', ['-batch', '-'], ['link set lo up', `addr add ${host}/16 dev eth0`, 'link set eth0 up', `route add default via ${NODE_ADDRESS}`].join('\n') + '\n')
  }

  /** Ends the namespaces' holders: with their last process gone, the namespaces and every link in them go too. */
  async close (): Promise<void> {
    if (this.options.clientAddresses > 1) await run('nft', ['delete', 'table', 'ip', `${this.options.prefix}_clients`]).catch(() => {})
    for (const h of [this.#node, this.#ingress]) h.child.kill('SIGKILL')
    await Promise.all([this.#node.exited, this.#ingress.exited])
  }
}
