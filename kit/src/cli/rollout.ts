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
import { command, numberFlag, seedFlag, UsageError } from './command.js'
import { HaproxyBalancer } from '../network/haproxy.js'
import { NginxBalancer } from '../network/nginx.js'
import type { Protocol } from '../network/protocol.js'
import { finish, prepareOut, type Io } from '../report/output.js'
import { progressPrinter } from '../report/progress.js'
import { runScenario } from '../run/measured-run.js'
import type { RunResult } from '../run/result.js'
import { SCENARIOS, selectScenarios } from '../load/scenarios.js'

/** The repository's example service: the default only where it exists (a clone of the repository). */
export const EXAMPLE_SERVICE = 'examples/service/server.ts'
export const DEFAULT_COMMAND = `node --import tsx ${EXAMPLE_SERVICE}`
// Compiled into the kit's own dist/ (src/cli and dist/cli are both two levels
// below the package root), so the baseline runs wherever the kit is installed.
export const DEFAULT_BASELINE = `node "${fileURLToPath(new URL('../../dist/baseline/server.js', import.meta.url))}"`
/** `--protocol h2`: the repository's HTTP/2 example service over h2c (the baseline gets HTTP2=1). */
export const EXAMPLE_H2_SERVICE = 'examples/http2/server.ts'
export const DEFAULT_H2_COMMAND = `node --import tsx ${EXAMPLE_H2_SERVICE}`

const s = (ms: number): string => String(ms / 1000)

export const HELP = `usage: fastify-zero-downtime-kit rollout [options]

Runs the service as real replicas behind a kube-proxy-like balancer, rolls it
v1 -> v2 (-> v3 ...) like a Deployment under each load scenario, and counts
every request: sent = 2xx + non-2xx + failed. Then does the same for the
baseline (plain Fastify + close-with-grace) and prints both side by side.
Exit code 1 when the service under test dropped a request, 2 on bad flags.

service
  --command <cmd>              service start command, no shell (required, except in a clone of the
                               repository: ${DEFAULT_COMMAND}; with --protocol h2: ${DEFAULT_H2_COMMAND})
  --baseline <cmd>             baseline start command (default: ${DEFAULT_BASELINE})
  --no-baseline                skip the baseline
  --cwd <dir>                  working directory of the replicas (default: current)
  --env KEY=VALUE              extra environment for every replica (repeatable)
load
  --scenarios <a,b>            default: all of the protocol's (${SCENARIOS.map((x) => x.name).join(', ')})
  --protocol <h1|h2>           what the replicas speak: h2 = h2c with prior knowledge, h2 probes,
                               HTTP2=1 in their env, gRPC-style scenarios by default (default h1)
  --scale <n>                  multiply every scenario's client count (default 1)
  --seed <n>                   draw the think times (idle-pool scenarios) from this seed, an integer
                               >= 0: the same sequence on every run (default: Math.random)
  --request-timeout-seconds <n> a request slower than this is a timeout (default 15)
  --steady-seconds <n>         traffic before the first and after the last rollout (default 1)
Deployment (defaults: the reference manifest)
  --replicas <n>               (default ${DEFAULT_STRATEGY.replicas})
  --max-surge <n|%>            (default ${DEFAULT_STRATEGY.maxSurge})
  --max-unavailable <n|%>      (default ${DEFAULT_STRATEGY.maxUnavailable})
  --min-ready-seconds <n>      (default ${s(DEFAULT_STRATEGY.minReadyMs)})
  --rollouts <n>               rollouts back to back (default 1)
pod
  --prestop-seconds <n>        preStop sleep, 0 = none (default ${s(DEFAULT_POD.preStopSleepMs)}; the no-prestop scenarios use 0)
  --grace-seconds <n>          terminationGracePeriodSeconds (default ${s(DEFAULT_POD.gracePeriodMs)})
  --readiness-path <path>      (default ${DEFAULT_READINESS.path})
  --readiness-period-seconds <n>  (default ${s(DEFAULT_READINESS.periodMs)}; shorter than a real cluster, for speed)
  --readiness-timeout-seconds <n> (default ${s(DEFAULT_READINESS.timeoutMs)})
  --readiness-failure-threshold <n> (default ${DEFAULT_READINESS.failureThreshold})
  --readiness-success-threshold <n> (default ${DEFAULT_READINESS.successThreshold})
network
  --propagation-seconds <n>    endpoint change -> balancer delay (default ${s(DEFAULT_PROPAGATION_MS)})
  --proxy <l4|l7|nginx>        l4: kube-proxy-like pinning; l7: a real HAProxy with upstream keep-alive
                               (h2 to the pods with --protocol h2); nginx: nginx set up like ingress-nginx
                               (Lua balancer, endpoints without reload, keep-alive, its retry defaults; h1 only)
                               (default l4)
output
  --out <dir>                  report.json and report.html go here (default reports/rollout)
  -h, --help
`

const OPTIONS = {
  command: { type: 'string' },
  protocol: { type: 'string', default: 'h1' },
  baseline: { type: 'string', default: DEFAULT_BASELINE },
  'no-baseline': { type: 'boolean', default: false },
  cwd: { type: 'string' },
  env: { type: 'string', multiple: true },
  scenarios: { type: 'string' },
  scale: { type: 'string', default: '1' },
  seed: { type: 'string' },
  'request-timeout-seconds': { type: 'string', default: '15' },
  'steady-seconds': { type: 'string', default: '1' },
  replicas: { type: 'string', default: String(DEFAULT_STRATEGY.replicas) },
  'max-surge': { type: 'string', default: String(DEFAULT_STRATEGY.maxSurge) },
  'max-unavailable': { type: 'string', default: String(DEFAULT_STRATEGY.maxUnavailable) },
  'min-ready-seconds': { type: 'string', default: s(DEFAULT_STRATEGY.minReadyMs) },
  rollouts: { type: 'string', default: '1' },
  'prestop-seconds': { type: 'string', default: s(DEFAULT_POD.preStopSleepMs) },
  'grace-seconds': { type: 'string', default: s(DEFAULT_POD.gracePeriodMs) },
  'readiness-path': { type: 'string', default: DEFAULT_READINESS.path },
  'readiness-period-seconds': { type: 'string', default: s(DEFAULT_READINESS.periodMs) },
  'readiness-timeout-seconds': { type: 'string', default: s(DEFAULT_READINESS.timeoutMs) },
  'readiness-failure-threshold': { type: 'string', default: String(DEFAULT_READINESS.failureThreshold) },
  'readiness-success-threshold': { type: 'string', default: String(DEFAULT_READINESS.successThreshold) },
  'propagation-seconds': { type: 'string', default: s(DEFAULT_PROPAGATION_MS) },
  proxy: { type: 'string', default: 'l4' },
  out: { type: 'string', default: 'reports/rollout' },
  help: { type: 'boolean', short: 'h', default: false }
} as const

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

export async function rollout (argv: string[], io: Io): Promise<number> {
  return await command('rollout', HELP, io, argv, OPTIONS, async (f) => {
    const sec = (name: keyof typeof f): number => Math.round(numberFlag(name, f[name] as string) * 1000)
    const int = (name: keyof typeof f, min = 0): number => numberFlag(name, f[name] as string, { integer: true, min })
    if (f.proxy !== 'l4' && f.proxy !== 'l7' && f.proxy !== 'nginx') throw new UsageError(`--proxy must be l4, l7 or nginx, got ${JSON.stringify(f.proxy)}`)
    const proxy: ProxyMode = f.proxy
    if (f.protocol !== 'h1' && f.protocol !== 'h2') throw new UsageError(`--protocol must be h1 or h2, got ${JSON.stringify(f.protocol)}`)
    const protocol: Protocol = f.protocol
    if (protocol === 'h2' && proxy === 'nginx') throw new UsageError('--proxy nginx talks HTTP/1.1 to the pods: use --protocol h1')
    const scenarios = f.scenarios === undefined
      ? SCENARIOS.filter((x) => (x.protocol ?? 'h1') === protocol)
      : selectScenarios(f.scenarios.split(',').map((n) => n.trim()))
    const cluster = (command: string): ClusterSpec => Object.freeze({
      proxy,
      propagationMs: sec('propagation-seconds'),
      strategy: Object.freeze({
        replicas: int('replicas', 1),
        maxSurge: parseIntOrPercent('--max-surge', f['max-surge']),
        maxUnavailable: parseIntOrPercent('--max-unavailable', f['max-unavailable']),
        minReadyMs: sec('min-ready-seconds')
      }),
      pod: Object.freeze({
        command: parseCommand(command),
        cwd: f.cwd ?? process.cwd(),
        env: { ...(protocol === 'h2' ? { HTTP2: '1' } : {}), ...parseEnv(f.env ?? []) },
        protocol,
        preStopSleepMs: sec('prestop-seconds'),
        gracePeriodMs: sec('grace-seconds'),
        readiness: Object.freeze({
          path: f['readiness-path'],
          periodMs: sec('readiness-period-seconds'),
          timeoutMs: sec('readiness-timeout-seconds'),
          failureThreshold: int('readiness-failure-threshold', 1),
          successThreshold: int('readiness-success-threshold', 1)
        })
      })
    })
    const targets = [{ label: 'service', cluster: cluster(serviceCommand(f.command, f.cwd ?? process.cwd(), protocol)) }]
    if (!f['no-baseline']) targets.push({ label: 'baseline', cluster: cluster(f.baseline) })
    const common = {
      rollouts: int('rollouts', 1),
      requestTimeoutMs: sec('request-timeout-seconds'),
      scale: numberFlag('scale', f.scale, { min: 0.01 }),
      ...seedFlag(f.seed),
      steadyMs: sec('steady-seconds')
    }
    await prepareOut(f.out)
    const printer = progressPrinter(io)
    const results: RunResult[] = []
    for (const scenario of scenarios) {
      for (const t of targets) {
        const result = await runScenario({
          ...common,
          scenario,
          label: t.label,
          cluster: t.cluster,
          onProgress: printer.update,
          ...(proxy === 'l7' ? { balancer: async () => await HaproxyBalancer.start(protocol) } : {}),
          ...(proxy === 'nginx' ? { balancer: NginxBalancer.start } : {})
        })
        printer.done(result)
        results.push(result)
      }
    }
    return await finish(io, f.out, results, 'service')
  })
}

export async function run (argv: string[]): Promise<number> {
  return await rollout(argv, process)
}
