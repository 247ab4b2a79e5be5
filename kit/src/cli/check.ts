/**
 * `fastify-zero-downtime-kit check`: the rollout command's load and accounting,
 * aimed at a URL while a REAL rollout runs on a cluster. Exit 1 when any
 * request was dropped.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { ClusterEventLog } from '../cluster/events.js'
import { clusterRollout, type KubectlTarget } from '../cluster/kubectl.js'
import { Recorder } from '../load/accounting.js'
import { preflight } from '../load/preflight.js'
import { loadShape, selectScenarios } from '../load/scenarios.js'
import type { Load } from '../load/target.js'
import { finish, prepareOut, type Io } from '../report/output.js'
import { resultOf } from '../run/result.js'
import { command, numberFlag, secondsFlag, seedFlag, UsageError, type CommandSpec, type Flags, type FlagValues } from './command.js'
import { TRAFFIC_FLAGS, trafficOf } from './traffic-flags.js'

const s = '<s>'

export const CHECK = {
  name: 'check',
  usage: '--url <url> --deployment <name> [options]',
  description: `Sends the load-test scenarios to <url> (all at once, each counted on its own)
while a real rollout of the Deployment runs: \`kubectl rollout restart\`, or
\`kubectl set image\` with --image; waits for \`kubectl rollout status\` and then
until no pod of the Deployment is terminating.`,
  flags: {
    url: { type: 'string', value: '<url>', group: 'cluster', help: 'where the Service is reachable, e.g. http://127.0.0.1:30080 (required)' },
    deployment: { type: 'string', value: '<name>', group: 'cluster', help: 'the Deployment to roll (required)' },
    namespace: { type: 'string', value: '<ns>', group: 'cluster', default: 'default', help: 'its namespace' },
    context: { type: 'string', value: '<ctx>', group: 'cluster', help: 'kubectl context', shownDefault: 'the current one' },
    kubectl: { type: 'string', value: '<path>', group: 'cluster', default: 'kubectl', help: 'the kubectl binary' },
    image: { type: 'string', value: '<container=image>', group: 'cluster', help: 'roll with `kubectl set image` instead of a restart' },
    'rollout-timeout-seconds': { type: 'string', value: s, group: 'cluster', default: '600', help: 'give up on the rollout after this long' },
    'poll-seconds': { type: 'string', value: s, group: 'cluster', default: '1', help: 'how often the pods are listed until none is terminating' },
    scenarios: { type: 'string', value: '<a,b>', group: 'load', default: 'hot-loop,post,idle-pool,slow', help: 'the scenarios to run' },
    scale: { type: 'string', value: '<n>', group: 'load', default: '0.5', help: "multiply every scenario's client count" },
    seed: { type: 'string', value: '<n>', group: 'load', help: 'draw the think times (idle-pool scenarios) and the --requests mix\nfrom this seed, an integer >= 0: the same sequences on every run', shownDefault: 'Math.random' },
    'steady-seconds': { type: 'string', value: s, group: 'load', default: '5', help: 'traffic before and after the rollout' },
    'request-timeout-seconds': { type: 'string', value: s, group: 'load', default: '15', help: 'a request slower than this is a timeout' },
    ...TRAFFIC_FLAGS,
    out: { type: 'string', value: '<dir>', group: 'output', default: 'reports/check', help: 'report.json and report.html go here' }
  },
  footer: `Before any load and before the rollout, each scenario's requests are tried once at
<url>: a scenario whose route is not there (404, 405, 501, no event stream) is not
run, and listed.
exit code: 0 nothing dropped, 1 a request was dropped (or the rollout failed),
2 bad flags, 3 no scenario could run (then nothing was rolled).`
} as const satisfies CommandSpec<Flags>

type CheckFlags = FlagValues<typeof CHECK.flags>

/** Where the load goes: the URL's host and port (80 when it names none). */
function targetOf (raw: string): { host: string, port: number } {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new UsageError(`--url must be an http URL, got ${JSON.stringify(raw)}`)
  }
  if (url.protocol !== 'http:') throw new UsageError(`--url must be an http URL, got ${JSON.stringify(raw)}`)
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port === '' ? 80 : url.port) }
}

function kubectlTarget (f: CheckFlags, deployment: string): KubectlTarget {
  if (f.image !== undefined && !/^[^=]+=.+$/.test(f.image)) throw new UsageError(`--image must be container=image, got ${JSON.stringify(f.image)}`)
  return {
    kubectl: f.kubectl,
    namespace: f.namespace,
    deployment,
    timeoutMs: secondsFlag('rollout-timeout-seconds', f['rollout-timeout-seconds']),
    pollMs: secondsFlag('poll-seconds', f['poll-seconds']),
    ...(f.context === undefined ? {} : { context: f.context }),
    ...(f.image === undefined ? {} : { image: f.image })
  }
}

export async function check (argv: readonly string[], io: Io): Promise<number> {
  return await command(CHECK, io, argv, async (f) => {
    if (f.url === undefined || f.deployment === undefined) throw new UsageError('--url and --deployment are required')
    const { host, port } = targetOf(f.url)
    const target = kubectlTarget(f, f.deployment)
    const scenarios = selectScenarios(f.scenarios.split(',').map((name) => name.trim()))
    const scale = numberFlag('scale', f.scale, { min: 0.01 })
    const { seed } = seedFlag(f.seed)
    const steadyMs = secondsFlag('steady-seconds', f['steady-seconds'])
    const requestTimeoutMs = secondsFlag('request-timeout-seconds', f['request-timeout-seconds'])
    const traffic = await trafficOf(f)
    await prepareOut(f.out)
    const { runnable, notRun } = await preflight({ host, port }, scenarios, traffic, target.deployment, requestTimeoutMs)
    if (runnable.length === 0) return await finish(io, f.out, [], target.deployment, notRun)
    const timeline = new ClusterEventLog()
    const runs = runnable.map((scenario) => ({ scenario, recorder: new Recorder(() => timeline.now()) }))
    const loads: Load[] = []
    let error: string | undefined
    try {
      for (const r of runs) loads.push(await r.scenario.start({ host, port, recorder: r.recorder, podFor: () => undefined, requestTimeoutMs }, loadShape(scale, seed, traffic)))
      await sleep(steadyMs)
      await clusterRollout(target, timeline)
      await sleep(steadyMs)
    } catch (err) {
      error = (err as Error).message
    } finally {
      await Promise.all(loads.map(async (l) => await l.stop()))
    }
    // No balancer of the kit's is in the path: no balancer counters, no endpoint updates.
    const results = runs.map((r) => resultOf({ scenario: r.scenario, label: target.deployment, command: [f.url as string], proxy: 'cluster', timeline, recorder: r.recorder, error, seed }))
    return await finish(io, f.out, results, target.deployment, notRun)
  })
}

export async function run (argv: readonly string[]): Promise<number> {
  return await check(argv, process)
}
