/**
 * `rollout --network auto|kernel|userspace`: which data path carries the
 * traffic. `userspace` is the kit's relay on loopback; `kernel` is a node
 * built from network namespaces, a bridge and kube-proxy-style nftables
 * rules (network/kernel/); `auto` takes the kernel path where it can run
 * and says in one line why not where it cannot.
 *
 * The kernel path runs the whole command again under `unshare` with a
 * network, mount and PID namespace of its own (as root, or as the root of an
 * unprivileged user namespace): nothing it creates is ever in the host's
 * namespaces, and when that run ends in any way (its end, Ctrl-C, SIGKILL of
 * the command: `setpriv --pdeathsig` passes the kill on to `unshare`, whose
 * `--kill-child` kills the run) the kernel ends every process of its PID
 * namespace, and the network namespaces, links and nftables tables go with
 * their last process. A killed run leaves nothing for the next to clean.
 */
import { spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { HaproxyBalancer } from '../network/haproxy.js'
import { MAX_CLIENT_ADDRESSES } from '../network/kernel/addresses.js'
import { run } from '../network/kernel/commands.js'
import { KernelNode } from '../network/kernel/node.js'
import { KernelService } from '../network/kernel/service.js'
import { NginxBalancer } from '../network/nginx.js'
import type { Protocol } from '../network/protocol.js'
import type { Io } from '../report/output.js'
import type { RunSpec } from '../run/measured-run.js'
import { UsageError } from './command.js'

export const NETWORKS = ['auto', 'kernel', 'userspace'] as const
export type NetworkChoice = typeof NETWORKS[number]

/** Set in the re-run under `unshare`: the run's id, which prefixes every name it creates. */
export const INSIDE_ENV = 'FZD_KIT_NETWORK_RUN'

/** What each data path adds to a run: its balancer and its pods' network (nothing on the relay). */
export interface DataPath {
  readonly name: 'kernel' | 'userspace'
  run (proxy: string, protocol: Protocol): Pick<RunSpec, 'balancer' | 'network'>
}

const USERSPACE: DataPath = Object.freeze({ name: 'userspace', run: () => ({}) })

export interface DataPathOptions {
  readonly network: string
  readonly clientAddresses: number
  readonly snat: boolean
}

/** The tools the kernel path runs, with the Debian package of each. */
const TOOLS = [['ip', 'iproute2'], ['nft', 'nftables'], ['conntrack', 'conntrack'], ['unshare', 'util-linux'], ['nsenter', 'util-linux'], ['setpriv', 'util-linux'], ['stdbuf', 'coreutils']] as const

/** The ways to get namespaces of our own, tried in order. */
export const ISOLATIONS: ReadonlyArray<{ readonly how: string, readonly flags: readonly string[] }> = [
  { how: 'as root', flags: ['--net', '--mount', '--pid', '--fork', '--kill-child', '--mount-proc'] },
  { how: 'in an unprivileged user namespace', flags: ['--user', '--map-root-user', '--net', '--mount', '--pid', '--fork', '--kill-child', '--mount-proc'] }
]

const onPath = (tool: string, path: string): boolean => path.split(delimiter).some((dir) => {
  try {
    accessSync(join(dir, tool), constants.X_OK)
    return true
  } catch {
    return false
  }
})

export type Support = { readonly ok: true, readonly how: string, readonly flags: readonly string[] } | { readonly ok: false, readonly missing: string }

/** Whether the kernel path can run here, and how; or what is missing. Starts nothing but a test `unshare`. */
export async function kernelSupport (path: string, isolations = ISOLATIONS): Promise<Support> {
  const missing = TOOLS.filter(([tool]) => !onPath(tool, path))
  if (missing.length > 0) return { ok: false, missing: `missing ${missing.map(([tool, pkg]) => `${tool} (Debian: ${pkg})`).join(', ')}` }
  const refusals: string[] = []
  for (const isolation of isolations) {
    try {
      await run('unshare', [...isolation.flags, '--', 'true'])
      return { ok: true, how: isolation.how, flags: isolation.flags }
    } catch (err) {
      // One line: `auto` says why in one.
      refusals.push(`${isolation.how}: ${(err as Error).message.replace(/\s+/g, ' ')}`)
    }
  }
  return { ok: false, missing: `cannot create network namespaces (${refusals.join('; ')}); it needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) or unprivileged user namespaces` }
}

/** This command again, under `unshare`, its output passed through; resolves with its exit code. */
async function runIsolated (support: Support & { ok: true }, argv: readonly string[], io: Io, runId: string): Promise<number> {
  // The same CLI, from source under tsx as from dist/: this module's own extension picks it.
  const cli = fileURLToPath(new URL(`./index${extname(fileURLToPath(import.meta.url))}`, import.meta.url))
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', 'unshare', ...support.flags, '--', process.execPath, ...process.execArgv, cli, 'rollout', ...argv], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, [INSIDE_ENV]: runId }
  })
  child.stdout.on('data', (c: Buffer) => io.stdout.write(c))
  child.stderr.on('data', (c: Buffer) => io.stderr.write(c))
  return await new Promise((resolve) => child.on('close', (code) => { resolve(code ?? 1) }))
}

/** The kernel path's node, for the runs of this (re-run) command. */
function kernelPath (node: KernelNode, runId: string): DataPath {
  let runs = 0
  return {
    name: 'kernel',
    run: (proxy, protocol) => ({
      network: node,
      balancer: proxy === 'l7'
        ? async () => await HaproxyBalancer.start(protocol, node.ingress)
        : proxy === 'nginx'
          ? async () => await NginxBalancer.start(node.ingress)
          : async () => await KernelService.start(node.nodePid, `${node.options.prefix}_service${++runs}`, node.options.snat)
    })
  }
}

/**
 * Runs `body` on the data path the flags ask for. On the kernel path the
 * first call re-runs the command isolated and returns its exit code; inside
 * that re-run it builds the node and runs `body` there.
 */
export async function withDataPath (o: DataPathOptions, argv: readonly string[], io: Io, body: (path: DataPath) => Promise<number>): Promise<number> {
  const runId = process.env[INSIDE_ENV]
  if (runId !== undefined) {
    const node = await KernelNode.start({ prefix: `fz${runId}`, clientAddresses: o.clientAddresses, snat: o.snat })
    try {
      return await body(kernelPath(node, runId))
    } finally {
      await node.close()
    }
  }
  if (!(NETWORKS as readonly string[]).includes(o.network)) throw new UsageError(`--network must be auto, kernel or userspace, got ${JSON.stringify(o.network)}`)
  // An integer of at least 1 already (the flag's own parsing).
  if (o.clientAddresses > MAX_CLIENT_ADDRESSES) throw new UsageError(`--client-addresses must be an integer from 1 to ${MAX_CLIENT_ADDRESSES}, got ${o.clientAddresses}`)
  if (o.network === 'userspace') return await refuseKernelFlags(o, body)
  const support = await kernelSupport(String(process.env.PATH))
  if (!support.ok) {
    if (o.network === 'kernel') throw new UsageError(`--network kernel cannot run here: ${support.missing}. Use --network userspace (the kit's relay on loopback).`)
    io.stderr.write(`network: userspace, because the kernel path cannot run here: ${support.missing}\n`)
    return await refuseKernelFlags(o, body)
  }
  // Unique among the runs alive on this machine, and short: link names have 15 characters.
  const id = process.pid.toString(36)
  io.stderr.write(`network: kernel (${support.how}; run ${id})\n`)
  return await runIsolated(support, argv, io, id)
}

/** The relay has one client address and no node to SNAT through: those flags are the kernel path's. */
async function refuseKernelFlags (o: DataPathOptions, body: (path: DataPath) => Promise<number>): Promise<number> {
  if (o.clientAddresses !== 1 || o.snat) throw new UsageError('--client-addresses and --snat need the kernel data path (--network kernel)')
  return await body(USERSPACE)
}
