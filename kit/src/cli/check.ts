/**
 * `fastify-zero-downtime-kit check`: the rollout command's load and accounting,
 * aimed at a URL while a REAL rollout runs on a cluster. Exit 1 when any
 * request was dropped.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Recorder } from '../load/accounting.js'
import { ClusterEventLog } from '../cluster/events.js'
import { command, numberFlag, seedFlag, UsageError } from './command.js'
import type { Load } from '../load/target.js'
import { clusterRollout, type KubectlTarget } from '../cluster/kubectl.js'
import { finish, prepareOut, type Io } from '../report/output.js'
import { loadShape, selectScenarios } from '../load/scenarios.js'
import { resultOf } from '../run/result.js'

export const HELP = `usage: fastify-zero-downtime-kit check --url <url> --deployment <name> [options]

Sends the load-test scenarios to <url> (all at once, each counted on its own)
while a real rollout of the Deployment runs: \`kubectl rollout restart\`, or
\`kubectl set image\` with --image; waits for \`kubectl rollout status\` and then
until no pod of the Deployment is terminating. Exit code 1 when any request was
dropped, 2 on bad flags.

  --url <url>                  where the Service is reachable, e.g. http://127.0.0.1:30080
  --deployment <name>          the Deployment to roll
  --namespace <ns>             (default default)
  --context <ctx>              kubectl context (default: the current one)
  --kubectl <path>             (default kubectl)
  --image <container=image>    roll with \`kubectl set image\` instead of a restart
  --scenarios <a,b>            (default hot-loop,post,idle-pool,slow)
  --scale <n>                  multiply every scenario's client count (default 0.5)
  --seed <n>                   draw the think times (idle-pool scenarios) from this seed, an integer
                               >= 0: the same sequence on every run (default: Math.random)
  --steady-seconds <n>         traffic before and after the rollout (default 5)
  --timeout-seconds <n>        give up on the rollout after this long (default 600)
  --request-timeout-seconds <n> (default 15)
  --out <dir>                  report.json and report.html go here (default reports/check)
  -h, --help
`

const OPTIONS = {
  url: { type: 'string' },
  deployment: { type: 'string' },
  namespace: { type: 'string', default: 'default' },
  context: { type: 'string' },
  kubectl: { type: 'string', default: 'kubectl' },
  image: { type: 'string' },
  scenarios: { type: 'string', default: 'hot-loop,post,idle-pool,slow' },
  scale: { type: 'string', default: '0.5' },
  seed: { type: 'string' },
  'steady-seconds': { type: 'string', default: '5' },
  'timeout-seconds': { type: 'string', default: '600' },
  'request-timeout-seconds': { type: 'string', default: '15' },
  'poll-seconds': { type: 'string', default: '1' },
  out: { type: 'string', default: 'reports/check' },
  help: { type: 'boolean', short: 'h', default: false }
} as const

export async function check (argv: string[], io: Io): Promise<number> {
  return await command('check', HELP, io, argv, OPTIONS, async (f) => {
    if (f.url === undefined || f.deployment === undefined) throw new UsageError('--url and --deployment are required')
    let url: URL
    try {
      url = new URL(f.url)
    } catch {
      throw new UsageError(`--url must be an http URL, got ${JSON.stringify(f.url)}`)
    }
    if (url.protocol !== 'http:') throw new UsageError(`--url must be an http URL, got ${JSON.stringify(f.url)}`)
    if (f.image !== undefined && !/^[^=]+=.+$/.test(f.image)) throw new UsageError(`--image must be container=image, got ${JSON.stringify(f.image)}`)
    const ms = (name: 'steady-seconds' | 'timeout-seconds' | 'request-timeout-seconds' | 'poll-seconds'): number => Math.round(numberFlag(name, f[name]) * 1000)
    const scenarios = selectScenarios(f.scenarios.split(',').map((n) => n.trim()))
    const scale = numberFlag('scale', f.scale, { min: 0.01 })
    const { seed } = seedFlag(f.seed)
    const target: KubectlTarget = {
      kubectl: f.kubectl,
      namespace: f.namespace,
      deployment: f.deployment,
      timeoutMs: ms('timeout-seconds'),
      pollMs: ms('poll-seconds'),
      ...(f.context === undefined ? {} : { context: f.context }),
      ...(f.image === undefined ? {} : { image: f.image })
    }
    const steadyMs = ms('steady-seconds')
    const requestTimeoutMs = ms('request-timeout-seconds')
    await prepareOut(f.out)
    const timeline = new ClusterEventLog()
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
    const port = Number(url.port === '' ? 80 : url.port)
    const runs = scenarios.map((scenario) => ({ scenario, recorder: new Recorder(() => timeline.now()) }))
    const loads: Load[] = []
    let error: string | undefined
    try {
      for (const r of runs) loads.push(await r.scenario.start({ host, port, recorder: r.recorder, podFor: () => undefined, requestTimeoutMs }, loadShape(scale, seed)))
      await sleep(steadyMs)
      await clusterRollout(target, timeline)
      await sleep(steadyMs)
    } catch (err) {
      error = (err as Error).message
    } finally {
      await Promise.all(loads.map(async (l) => await l.stop()))
    }
    const results = runs.map((r) => resultOf({
      scenario: r.scenario, label: f.deployment as string, command: [f.url as string], proxy: 'cluster',
      timeline, recorder: r.recorder, balancer: { connections: 0, noEndpoint: 0, upstreamErrors: 0 }, error, seed
    }))
    return await finish(io, f.out, results, f.deployment)
  })
}

export async function run (argv: string[]): Promise<number> {
  return await check(argv, process)
}
