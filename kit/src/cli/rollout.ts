/**
 * `fastify-zero-downtime-kit rollout`: rolls a service (and the baseline, the
 * usual recipe) through a simulated Kubernetes rolling update under each load
 * scenario and counts every dropped request. Exit 1 when the service under
 * test dropped any.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  DEFAULT_POD, DEFAULT_PROPAGATION_MS, DEFAULT_READINESS, DEFAULT_STRATEGY,
  parseCommand, parseIntOrPercent, type ClusterSpec, type ProxyMode
} from '../cluster/spec.js'
import { SCENARIOS, selectScenarios, type Scenario } from '../load/scenarios.js'
import { strategyFlag, STRATEGY_FLAGS } from './strategy-flags.js'
import { HaproxyBalancer } from '../network/haproxy.js'
import { withDataPath } from './network.js'
import { NginxBalancer } from '../network/nginx.js'
import type { Protocol } from '../network/protocol.js'
import { finish, prepareOut, type Io } from '../report/output.js'
import { progressPrinter } from '../report/progress.js'
import { runScenario, type RunSpec } from '../run/measured-run.js'
import { planRuns } from '../run/preflight.js'
import { notRunLine } from '../report/text.js'
import type { RunResult } from '../run/result.js'
import { command, numberFlag, seconds, secondsFlag, seedFlag, UsageError, type CommandSpec, type Flags, type FlagValues } from './command.js'
import { TRAFFIC_FLAGS, trafficOf } from './traffic-flags.js'

/** The repository's example service: the default only where it exists (a clone of the repository). */
export const EXAMPLE_SERVICE = 'examples/service/server.ts'
export const DEFAULT_COMMAND = `node --import tsx ${EXAMPLE_SERVICE}`
// Compiled into the kit's own dist/ (src/cli and dist/cli are both two levels
// below the package root), so the baseline runs wherever the kit is installed.
export const DEFAULT_BASELINE = `node "${fileURLToPath(new URL('../../dist/baseline/server.js', import.meta.url))}"`
/** `--protocol h2`: the repository's HTTP/2 example service over h2c (the baseline gets HTTP2=1). */
export const EXAMPLE_H2_SERVICE = 'examples/http2/server.ts'
export const DEFAULT_H2_COMMAND = `node --import tsx ${EXAMPLE_H2_SERVICE}`

const n = '<n>'
const s = '<s>'

const NETWORK_HELP = `kernel: every pod in a network namespace of its own with an address on a
bridge (198.18.0.0/15), the Service DNAT-ed by nftables like kube-proxy,
clients and ingress in namespaces of their own, all under unshare (root,
or an unprivileged user namespace); userspace: the kit's relay on loopback;
auto: kernel where it can run, else userspace with one line saying why`

export const ROLLOUT = {
  name: 'rollout',
  usage: '[options]',
  description: `Runs the service as real replicas behind a kube-proxy-like balancer, rolls it
v1 -> v2 (-> v3 ...) like a Deployment under each load scenario, and counts
every request: sent = 2xx + non-2xx + failed. Then does the same for the
baseline (plain Fastify + close-with-grace) and prints both side by side.`,
  flags: {
    command: { type: 'string', value: '<cmd>', group: 'service', help: `service start command, no shell (quotes group); required, except in a clone
of the repository: ${DEFAULT_COMMAND}
(with --protocol h2: ${DEFAULT_H2_COMMAND})` },
    baseline: { type: 'string', value: '<cmd>', group: 'service', default: DEFAULT_BASELINE, help: 'baseline start command' },
    'no-baseline': { type: 'boolean', group: 'service', default: false, help: 'skip the baseline' },
    'no-preflight': { type: 'boolean', group: 'service', default: false, help: 'run every scenario without trying its requests on one replica first\n(for a service known to have every route: saves a replica start per command)' },
    cwd: { type: 'string', value: '<dir>', group: 'service', help: 'working directory of the replicas', shownDefault: 'the current one' },
    env: { type: 'string', value: 'KEY=VALUE', group: 'service', multiple: true, help: 'extra environment for every replica (repeatable)' },
    scenarios: { type: 'string', value: '<a,b>', group: 'load', help: `the scenarios to run, of\n${SCENARIOS.map((x) => x.name).join(', ')}`, shownDefault: "all of the protocol's but websocket" },
    protocol: { type: 'string', value: 'h1|h2', group: 'load', default: 'h1', help: 'what the replicas speak: h2 = h2c with prior knowledge, h2 probes,\nHTTP2=1 in their env, the gRPC-style scenarios by default' },
    scale: { type: 'string', value: n, group: 'load', default: '1', help: "multiply every scenario's client count" },
    seed: { type: 'string', value: n, group: 'load', help: 'draw the think times (idle-pool scenarios) and the --requests mix\nfrom this seed, an integer >= 0: the same sequences on every run', shownDefault: 'Math.random' },
    'request-timeout-seconds': { type: 'string', value: s, group: 'load', default: '15', help: 'a request slower than this is a timeout' },
    'steady-seconds': { type: 'string', value: s, group: 'load', default: '1', help: 'traffic before the first and after the last rollout' },
    replicas: { type: 'string', value: n, group: 'Deployment (defaults: the reference manifest)', default: String(DEFAULT_STRATEGY.replicas), help: 'spec.replicas' },
    'max-surge': { type: 'string', value: 'n|n%', group: 'Deployment (defaults: the reference manifest)', default: String(DEFAULT_STRATEGY.maxSurge), help: 'strategy.rollingUpdate.maxSurge' },
    'max-unavailable': { type: 'string', value: 'n|n%', group: 'Deployment (defaults: the reference manifest)', default: String(DEFAULT_STRATEGY.maxUnavailable), help: 'strategy.rollingUpdate.maxUnavailable' },
    'min-ready-seconds': { type: 'string', value: s, group: 'Deployment (defaults: the reference manifest)', default: seconds(DEFAULT_STRATEGY.minReadyMs), help: 'minReadySeconds (the manifest: 5)' },
    rollouts: { type: 'string', value: n, group: 'Deployment (defaults: the reference manifest)', default: '1', help: 'rollouts back to back' },
    'prestop-seconds': { type: 'string', value: s, group: 'pod', default: seconds(DEFAULT_POD.preStopSleepMs), help: 'preStop sleep, 0 = none (the no-prestop scenarios use 0)' },
    'grace-seconds': { type: 'string', value: s, group: 'pod', default: seconds(DEFAULT_POD.gracePeriodMs), help: 'terminationGracePeriodSeconds' },
    'readiness-path': { type: 'string', value: '<path>', group: 'pod', default: DEFAULT_READINESS.path, help: 'readiness probe path' },
    'readiness-period-seconds': { type: 'string', value: s, group: 'pod', default: seconds(DEFAULT_READINESS.periodMs), help: 'periodSeconds (shorter than a real cluster, for speed)' },
    'readiness-timeout-seconds': { type: 'string', value: s, group: 'pod', default: seconds(DEFAULT_READINESS.timeoutMs), help: 'timeoutSeconds' },
    'readiness-failure-threshold': { type: 'string', value: n, group: 'pod', default: String(DEFAULT_READINESS.failureThreshold), help: 'failureThreshold' },
    'readiness-success-threshold': { type: 'string', value: n, group: 'pod', default: String(DEFAULT_READINESS.successThreshold), help: 'successThreshold' },
    'propagation-seconds': { type: 'string', value: s, group: 'network', default: seconds(DEFAULT_PROPAGATION_MS), help: 'endpoint change -> balancer delay' },
    network: { type: 'string', value: 'auto|kernel|userspace', group: 'network', default: 'auto', help: NETWORK_HELP },
    'client-addresses': { type: 'string', value: n, group: 'network', default: '1', help: 'kernel path: spread the clients\' connections over this many source addresses' },
    snat: { type: 'boolean', group: 'network', default: false, help: 'kernel path: SNAT the clients to the node\'s address, as kube-proxy does for NodePort traffic' },
    proxy: { type: 'string', value: 'l4|l7|nginx', group: 'network', default: 'l4', help: 'l4: kube-proxy-like pinning; l7: a real HAProxy with upstream keep-alive\n(h2 to the pods with --protocol h2); nginx: nginx set up like ingress-nginx\n(Lua balancer, endpoints without reload, keep-alive, its retry defaults; h1 only)' },
    ...TRAFFIC_FLAGS,
    ...STRATEGY_FLAGS,
    out: { type: 'string', value: '<dir>', group: 'output', default: 'reports/rollout', help: 'report.json and report.html go here' }
  },
  footer: `Before any load, one replica answers each scenario's requests once: a scenario
whose route is not there (404, 405, 501, no event stream) is not run, and listed.
exit code: 0 the service dropped nothing, 1 it dropped a request (or a run failed),
2 bad flags, 3 no scenario could run (none of their routes is there).`
} as const satisfies CommandSpec<Flags>

type RolloutFlags = FlagValues<typeof ROLLOUT.flags>

function parseEnv (pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq < 1) throw new UsageError(`--env must be KEY=VALUE, got ${JSON.stringify(pair)}`)
    env[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return env
}

function serviceCommand (flag: string | undefined, cwd: string, protocol: Protocol): string {
  if (flag !== undefined) return flag
  const [example, command] = protocol === 'h2' ? [EXAMPLE_H2_SERVICE, DEFAULT_H2_COMMAND] : [EXAMPLE_SERVICE, DEFAULT_COMMAND]
  if (existsSync(join(cwd, example))) return command
  throw new UsageError(`--command is required: the command that starts your service, e.g. --command "node server.js" (no ${example} in ${cwd} to default to)`)
}

function proxyAndProtocol (f: RolloutFlags): { proxy: ProxyMode, protocol: Protocol } {
  if (f.proxy !== 'l4' && f.proxy !== 'l7' && f.proxy !== 'nginx') throw new UsageError(`--proxy must be l4, l7 or nginx, got ${JSON.stringify(f.proxy)}`)
  if (f.protocol !== 'h1' && f.protocol !== 'h2') throw new UsageError(`--protocol must be h1 or h2, got ${JSON.stringify(f.protocol)}`)
  if (f.protocol === 'h2' && f.proxy === 'nginx') throw new UsageError('--proxy nginx talks HTTP/1.1 to the pods: use --protocol h1')
  return { proxy: f.proxy, protocol: f.protocol }
}

/** The simulated cluster the flags describe, frozen, for one start command. */
function clusterSpec (f: RolloutFlags, command: string, proxy: ProxyMode, protocol: Protocol): ClusterSpec {
  const int = (name: keyof RolloutFlags, min: number): number => numberFlag(name, f[name] as string, { integer: true, min })
  return Object.freeze({
    proxy,
    propagationMs: secondsFlag('propagation-seconds', f['propagation-seconds']),
    strategy: Object.freeze({
      replicas: int('replicas', 1),
      maxSurge: parseIntOrPercent('--max-surge', f['max-surge']),
      maxUnavailable: parseIntOrPercent('--max-unavailable', f['max-unavailable']),
      minReadyMs: secondsFlag('min-ready-seconds', f['min-ready-seconds'])
    }),
    pod: Object.freeze({
      command: parseCommand(command),
      cwd: f.cwd ?? process.cwd(),
      env: { ...(protocol === 'h2' ? { HTTP2: '1' } : {}), ...parseEnv(f.env ?? []) },
      protocol,
      preStopSleepMs: secondsFlag('prestop-seconds', f['prestop-seconds']),
      gracePeriodMs: secondsFlag('grace-seconds', f['grace-seconds']),
      readiness: Object.freeze({
        path: f['readiness-path'],
        periodMs: secondsFlag('readiness-period-seconds', f['readiness-period-seconds']),
        timeoutMs: secondsFlag('readiness-timeout-seconds', f['readiness-timeout-seconds']),
        failureThreshold: int('readiness-failure-threshold', 1),
        successThreshold: int('readiness-success-threshold', 1)
      })
    })
  })
}

/** What every run of this command shares: the load, the rollouts and the balancer. */
function runCommon (f: RolloutFlags, proxy: ProxyMode, protocol: Protocol): Omit<RunSpec, 'scenario' | 'label' | 'cluster'> {
  return {
    rollouts: numberFlag('rollouts', f.rollouts, { integer: true, min: 1 }),
    requestTimeoutMs: secondsFlag('request-timeout-seconds', f['request-timeout-seconds']),
    scale: numberFlag('scale', f.scale, { min: 0.01 }),
    ...seedFlag(f.seed),
    steadyMs: secondsFlag('steady-seconds', f['steady-seconds']),
    ...strategyFlag(f, proxy),
    ...(proxy === 'l7' ? { balancer: async () => await HaproxyBalancer.start(protocol) } : {}),
    ...(proxy === 'nginx' ? { balancer: NginxBalancer.start } : {})
  }
}

export async function rollout (argv: readonly string[], io: Io): Promise<number> {
  return await command(ROLLOUT, io, argv, async (f) => {
    const { proxy, protocol } = proxyAndProtocol(f)
    const scenarios: readonly Scenario[] = f.scenarios === undefined
      ? SCENARIOS.filter((x) => (x.protocol ?? 'h1') === protocol && x.optIn !== true)
      : selectScenarios(f.scenarios.split(',').map((name) => name.trim()))
    const targets = [{ label: 'service', cluster: clusterSpec(f, serviceCommand(f.command, f.cwd ?? process.cwd(), protocol), proxy, protocol) }]
    if (!f['no-baseline']) targets.push({ label: 'baseline', cluster: clusterSpec(f, f.baseline, proxy, protocol) })
    const traffic = await trafficOf(f)
    const common = { ...runCommon(f, proxy, protocol), traffic }
    await prepareOut(f.out)
    const clientAddresses = numberFlag('client-addresses', f['client-addresses'], { integer: true, min: 1 })
    return await withDataPath({ network: f.network, clientAddresses, snat: f.snat }, argv, io, async (path) => {
      // Inside the data path: on the kernel one the preflight replica runs in the kit's own namespace.
      const plan = await planRuns(targets, scenarios, traffic, common.requestTimeoutMs, !f['no-preflight'])
      for (const n of plan.notRun) io.stderr.write(`${notRunLine(n)}\n`)
      const printer = progressPrinter(io)
      const results: RunResult[] = []
      for (const { scenario, target: t } of plan.runs) {
        const result = await runScenario({ ...common, ...path.run(proxy, protocol), scenario, label: t.label, cluster: t.cluster, onProgress: printer.update })
        printer.done(result)
        results.push(result)
      }
      return await finish(io, f.out, results, 'service', plan.notRun)
    })
  })
}

export async function run (argv: readonly string[]): Promise<number> {
  return await rollout(argv, process)
}
