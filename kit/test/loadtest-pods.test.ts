// The simulator's edges: SIGKILL at the grace period, crashing pods, readiness,
// the L7 mode through a real HAProxy, flags and report details.
import t from 'tap'
import { run as runCheck } from '../src/cli/check.js'
import { rollout, run as runRollout } from '../src/cli/rollout.js'
import { FAST, FIXTURE, io, outDir, report } from './helpers/loadtest.js'
import { DEFAULT_POD, parseCommand, parseIntOrPercent, resolveStrategyCounts, type ClusterSpec } from '../src/cluster/spec.js'
import { htmlReport } from '../src/report/html.js'
import { groupFailures } from '../src/report/failure-groups.js'
import { jsonReport, verdict } from '../src/report/json.js'
import { textReport } from '../src/report/text.js'
import { ClusterEventLog } from '../src/cluster/events.js'
import type { DrainReport } from 'fastify-zero-downtime'
import { podEndings, stoppedReport } from '../src/cluster/drain-report.js'
import { Pod } from '../src/cluster/pod.js'
import { LOOPBACK_NETWORK } from '../src/network/loopback.js'
import type { PodAddress, PodPlacement } from '../src/network/pod-network.js'
import { runScenario } from '../src/run/measured-run.js'
import { selectScenarios } from '../src/load/scenarios.js'

const spec = (mode: string, over: Partial<ClusterSpec['pod']> = {}): ClusterSpec => ({
  proxy: 'l4',
  propagationMs: 100,
  strategy: { replicas: 1, maxSurge: 0, maxUnavailable: '100%', minReadyMs: 0 },
  pod: { ...DEFAULT_POD, preStopSleepMs: 0, gracePeriodMs: 800, command: parseCommand(FIXTURE), cwd: process.cwd(), env: { FIXTURE_MODE: mode }, readiness: { path: '/ready', periodMs: 100, timeoutMs: 500, failureThreshold: 1, successThreshold: 1 }, ...over }
})
const [hotLoop] = selectScenarios(['hot-loop'])
const base = { scenario: hotLoop!, label: 'service', rollouts: 1, requestTimeoutMs: 2000, scale: 0.05, steadyMs: 200 }

t.test('SIGKILL at the grace period for a pod that ignores SIGTERM', async (t) => {
  const r = await runScenario({ ...base, cluster: spec('stubborn') })
  t.equal(r.error, undefined)
  const kill = r.events.find((e) => e.type === 'sigkill')
  // Order, not milliseconds: timers fire in the order they are due, so the
  // grace period's SIGKILL (800 ms) comes after the endpoint's propagation
  // (100 ms), which comes after the SIGTERM (preStop 0) it ignored.
  t.same(r.events.filter((e) => e.pod === kill?.pod && ['deleted', 'sigterm', 'endpoint-removed', 'sigkill', 'exited'].includes(e.type)).map((e) => e.type),
    ['deleted', 'sigterm', 'endpoint-removed', 'sigkill', 'exited'], 'killed at the grace period, long after SIGTERM')
  t.ok(r.events.some((e) => e.type === 'exited' && e.detail === 'SIGKILL'))
})

t.test('a pod that crashes or cannot start makes the run fail with its output', async (t) => {
  // The crash fixture exits on its first request, and the run only calls a pod that exits
  // before its deletion a crash. With maxUnavailable 100 % v1 could be deleted before the
  // load's first request reached it (a busy machine), and v2 receive none before the run
  // ends: surge instead, so that a pod is serving the load, undeleted, from its start to the end.
  const crashed = await runScenario({ ...base, cluster: { ...spec('crash'), strategy: { replicas: 1, maxSurge: 1, maxUnavailable: 0, minReadyMs: 0 } } })
  t.match(crashed.error, /pod web-v\d-\d exited before it was deleted; its last output:\ncrashing on purpose/)
  const missing = await runScenario({ ...base, cluster: spec('drain', { command: ['/nonexistent/binary'] }) })
  t.match(missing.error, /ENOENT/)
  t.equal(missing.counts.sent, 0)
  const o = io(false)
  const out = await outDir(t)
  t.equal(await rollout([...FAST, '--command', '/nonexistent/binary', '--no-baseline', '--scenarios', 'hot-loop', '--out', out], o), 1)
  t.match(o.out(), /RUN FAILED/)
})

t.test('a pod: deleted twice or after it exited; probes stop with the process', async (t) => {
  const timeline = new ClusterEventLog()
  const quick = new Pod('quick', 'v1', { ...spec('drain').pod, command: ['node', '-e', 'process.exit(0)'] }, LOOPBACK_NETWORK.place('quick'), timeline, () => {})
  await quick.done
  quick.delete()
  quick.delete()
  t.same(timeline.events.filter((e) => e.pod === 'quick').map((e) => e.type), ['created', 'exited', 'deleted'], 'no signal for a pod that is gone')
  // A replica that accepts connections and never answers: its probe hangs until it is killed.
  let found: (address: PodAddress) => void = () => {}
  const listening = new Promise<PodAddress>((resolve) => { found = resolve })
  const loopback = LOOPBACK_NETWORK.place('silent')
  const placement: PodPlacement = {
    env: loopback.env,
    candidates: async (pid) => {
      const candidates = await loopback.candidates(pid)
      if (candidates[0] !== undefined) found(candidates[0])
      return candidates
    }
  }
  const silent = new Pod('silent', 'v1', { ...spec('drain').pod, command: ['node', '-e', "require('net').createServer(() => {}).listen(process.env.PORT, process.env.HOST)"], readiness: { path: '/ready', periodMs: 10, timeoutMs: 60_000, failureThreshold: 1, successThreshold: 1 } }, placement, timeline, () => {})
  const address = await listening
  t.equal(address.host, '127.0.0.1')
  t.ok(address.port > 0, `it listens on the port the kernel gave it: ${address.port}`)
  silent.kill()
  await silent.done
  t.equal(silent.ready, false)
  t.equal(silent.address, undefined, 'a place that never answered the probe is not its address')
  t.notOk(timeline.events.some((e) => e.pod === 'silent' && e.type === 'ready'))
})

t.test('a second server that answers the readiness path too: the pod\'s address is the socket on the HOST it was given', async (t) => {
  // As lightship runs its own probe server on every address: it answers
  // readiness once the app listens, and nothing else. Here the app starts
  // listening on HOST while the kit's first probe, to the only socket listed
  // then, is being answered: the probe said yes, but a socket that ranks
  // first appeared meanwhile, and it becomes the address. (The race that a
  // fixed order alone lost: a list read before the app bound.)
  const script = `
    const http = require('node:http')
    const app = http.createServer((req, res) => { res.end('app') })
    http.createServer((req, res) => {
      const answer = () => { res.statusCode = req.url === '/ready' ? 200 : 404; res.end('management') }
      if (app.listening) answer()
      else app.listen(process.env.PORT, process.env.HOST, answer)
    }).listen(0, '0.0.0.0')`
  let ready: () => void = () => {}
  const becameReady = new Promise<void>((resolve) => { ready = resolve })
  const pod: Pod = new Pod('two-servers', 'v1', { ...spec('drain').pod, command: ['node', '-e', script], readiness: { path: '/ready', periodMs: 20, timeoutMs: 2000, failureThreshold: 1, successThreshold: 1 } },
    LOOPBACK_NETWORK.place('two-servers'), new ClusterEventLog(), () => { if (pod.ready) ready() })
  t.teardown(() => { pod.kill() })
  await becameReady
  const answer = await fetch(`http://${pod.address!.host}:${pod.address!.port}/`)
  t.equal(await answer.text(), 'app', 'the address is the app\'s, not the management server\'s')
})

t.test('unready pods are taken out of the endpoints', async (t) => {
  // Readiness of the drain fixture turns 503 at SIGTERM, before the pod exits;
  // the no-prestop scenario sends SIGTERM right at deletion.
  const r = await runScenario({ ...base, scenario: selectScenarios(['no-prestop'])[0]!, cluster: spec('drain', { preStopSleepMs: 5000 }) })
  t.ok(r.events.some((e) => e.type === 'unready'))
  const deleted = r.events.find((e) => e.type === 'deleted')!
  // SIGTERM before the endpoint's removal (100 ms propagation): not after a 5 s preStop sleep.
  t.same(r.events.filter((e) => e.pod === deleted.pod && ['deleted', 'sigterm', 'endpoint-removed'].includes(e.type)).map((e) => e.type),
    ['deleted', 'sigterm', 'endpoint-removed'], 'the scenario overrides the preStop sleep')
})

t.test('L7 through a real HAProxy with upstream keep-alive', async (t) => {
  const out = await outDir(t)
  const o = io(false)
  const code = await rollout([...FAST, '--proxy', 'l7', '--command', FIXTURE, '--no-baseline', '--scenarios', 'hot-loop', '--out', out], o)
  t.equal(code, 0, o.out())
  const r = await report(out)
  t.equal(r.runs[0]!.proxy, 'l7')
  t.ok(r.runs[0]!.counts.ok > 0)
})

t.test('run() of each command reports bad flags with exit code 2; an unusable --out fails before any load', async (t) => {
  // run() writes to the process's own stderr; a bad flag keeps that to a usage message.
  t.equal(await runRollout(['--bogus']), 2)
  t.equal(await runCheck(['--bogus']), 2)
  // A path under a regular file can never be a directory.
  await t.rejects(rollout(['--out', 'package.json/report', '--scenarios', 'hot-loop'], io(false)), /ENOTDIR|EEXIST/)
})

t.test('report details: failures before any pod event, unaccounted requests', async (t) => {
  const r = { scenario: 's', description: 'd', label: 'service', command: ['x'], proxy: 'l7', durationMs: 1000, counts: { sent: 3, ok: 1, statuses: {}, failed: { reset: 1 }, retried: 0 }, dropped: 1, unsettled: 1, latencyMs: { p50: 1, p99: 2 }, failures: [{ at: 10, kind: 'reset' }], events: [{ at: 500, type: 'sigterm' as const, pod: 'p', version: 'v1' }], throughput: [1], drops: [1], balancer: { connections: 0, noEndpoint: 0, upstreamErrors: 0 }, pods: [] }
  t.same(groupFailures(r), [{ count: 1, kind: 'reset', pod: '?', after: 'start', fromS: 0.01, toS: 0.01 }])
  t.match(textReport([r]), /s \/ service: 1 requests unaccounted for \(accounting bug\)/)
  t.equal(verdict([r], 'other'), false, 'broken accounting fails whatever the label')
  const html = htmlReport(jsonReport([r], 'service', new Date(0)), 'service')
  t.match(html, /<tr class="bad"><td>s<\/td><td>service<\/td>/, 'a dropping service row is marked')
  t.match(html, /1970-01-01T00:00:00.000Z/)
  t.match(html, /<li>1 × reset, 0.01-0.01 s after start<\/li>/)
  const l7 = { ...r, failures: [{ at: 700, kind: 'status 503' }] }
  t.same(groupFailures(l7), [{ count: 1, kind: 'status 503', pod: '?', after: 'sigterm of p', fromS: 0.2, toS: 0.2 }], 'a failure through L7 is placed after the last event of any pod')
  const l4 = { ...r, unsettled: 0, dropped: 2, failures: [{ at: 600, kind: 'reset', pod: 'p' }, { at: 750, kind: 'reset', pod: 'p' }] }
  t.same(groupFailures(l4), [{ count: 2, kind: 'reset', pod: 'p', after: 'sigterm', fromS: 0.1, toS: 0.25 }], 'a failure on a known pod is placed after that pod\'s last event')
  t.match(textReport([l4]), /s \/ service: 2 dropped\n +2 × reset on p, 0\.10-0\.25 s after sigterm\n/, 'and listed with its pod')
})

t.test('flags: help, bad values, strategy arithmetic', async (t) => {
  const o = io(false)
  t.equal(await rollout(['--help'], o), 0)
  t.match(o.out(), /usage: fastify-zero-downtime-kit rollout/)
  for (const [argv, message] of [
    [['--bogus'], /Unknown option '--bogus'/],
    [['--replicas', '0'], /--replicas must be an integer >= 1/],
    [['--scale', 'x'], /--scale must be a number/],
    [['--seed=-1'], /--seed must be an integer >= 0, got "-1"/],
    [['--seed', '1.5'], /--seed must be an integer >= 0/],
    [['--seed', '4294967296'], /--seed must be an integer from 0 to 4294967295, got "4294967296"/],
    [['--proxy', 'l5'], /--proxy must be l4, l7 or nginx/],
    [['--env', 'NOEQUALS'], /--env must be KEY=VALUE/],
    [['--scenarios', 'hot-loop,nope'], /unknown scenario nope; choose from keep-alive/],
    [['--max-surge', '1.5'], /--max-surge must be a non-negative integer or a percentage/],
    [['--command', '  '], /the service command is empty/]
  ] as const) {
    const e = io(false)
    t.equal(await rollout([...argv, '--env', 'A=1'], e), 2, argv.join(' '))
    t.match(e.err(), message)
    t.match(e.err(), /usage:/)
  }
  t.same(parseCommand('node "a b" \'c d\' e'), ['node', 'a b', 'c d', 'e'])
  t.equal(parseIntOrPercent('x', '25%'), '25%')
  t.same(resolveStrategyCounts({ replicas: 4, maxSurge: '25%', maxUnavailable: '30%', minReadyMs: 0 }), { surge: 1, unavailable: 1 })
  t.same(resolveStrategyCounts({ replicas: 3, maxSurge: '10%', maxUnavailable: '10%', minReadyMs: 0 }), { surge: 1, unavailable: 0 })
  t.same(resolveStrategyCounts({ replicas: 3, maxSurge: 0, maxUnavailable: 0, minReadyMs: 0 }), { surge: 1, unavailable: 0 }, '0/0 becomes a surge of 1')
})

/** A whole `stopped` line as the plugin logs it: its DrainReport under the timeline's fields, typed by the plugin's own type. */
function stoppedLine (over: Partial<DrainReport> = {}): string {
  const report: DrainReport = {
    clean: true,
    reason: 'SIGTERM',
    durationMs: 1200,
    servedDuringDrain: 9,
    connections: { retired: 5, closedByClient: 2, idleClosed: 3, stalledClosed: 1, forced: 0 },
    cut: [{ method: 'GET', url: '/', ageMs: 1 } as DrainReport['cut'][number]],
    http2: { sessions: 0, streams: 0, streamsServed: 0, goaways: 0, retired: 0, closedByClient: 0, idleClosed: 0, forced: 0 },
    retiredBy: { drain: 7 },
    cleanup: [],
    ...over
  }
  return JSON.stringify({ level: 30, time: 1, drain: 'stopped', drainMs: 1200, ...report, msg: 'drain finished clean' })
}

t.test('per-pod connection endings: read from the drain\'s stopped line, shown in the text and HTML reports', async (t) => {
  const line = stoppedLine()
  t.same(stoppedReport(line), { endings: { retired: 5, closedByClient: 2, idleClosed: 3, stalledClosed: 1, forced: 0 }, cut: 1 })
  t.equal(stoppedReport('{"drain":"progress","msg":"stopped"}'), undefined, 'another step')
  t.equal(stoppedReport('stopped, not JSON'), undefined)
  t.equal(stoppedReport('"stopped"'), undefined, 'JSON, not an object')
  const events = [
    { at: 1000, type: 'deleted' as const, pod: 'web-v1-1', version: 'v1' },
    { at: 11000, type: 'exited' as const, pod: 'web-v1-1', version: 'v1' },
    { at: 1000, type: 'deleted' as const, pod: 'base-1', version: 'v1' },
    { at: 2000, type: 'exited' as const, pod: 'base-1', version: 'v1' }
  ]
  const pods = podEndings([{ name: 'web-v1-1', drainReport: stoppedReport(line) }, { name: 'base-1', drainReport: undefined }, { name: 'web-v2-2' }], events)
  t.same(pods.map((p) => p.goneAfterDeletionMs), [10000, 1000, undefined])
  const r = { scenario: 'idle-pool', description: 'd', label: 'service', command: ['x'], proxy: 'l4', durationMs: 1000, counts: { sent: 1, ok: 1, statuses: {}, failed: {}, retried: 0 }, dropped: 0, unsettled: 0, latencyMs: { p50: 1, p99: 2 }, failures: [], events, throughput: [1], drops: [0], balancer: { connections: 0, noEndpoint: 0, upstreamErrors: 0 }, pods }
  const text = textReport([r])
  t.match(text, /web-v1-1: gone 10\.0 s after deletion; 5 retired, 2 closed by client, 3 idle-closed, 1 stalled, 0 cut \(1 request\(s\)\)/)
  t.match(text, /base-1: gone 1\.0 s after deletion; no drain report/)
  t.notMatch(text, /web-v2-2/, 'a pod not deleted during the run has no ending row')
  const html = htmlReport(jsonReport([r], 'service', new Date(0)), 'service')
  t.match(html, /<tr><td>web-v1-1<\/td><td>10\.0 s<\/td><td>5<\/td><td>2<\/td><td>3<\/td><td>1<\/td><td>0<\/td><td>1<\/td><\/tr>/)
  t.match(html, /<tr><td>base-1<\/td><td>1\.0 s<\/td><td>-<\/td>/)
})

t.test('per-pod endings of a pod that served HTTP/2: its sessions and the streams served in the drain, in the text and HTML reports', async (t) => {
  const h1Only = stoppedLine({ cut: [] })
  t.notOk('http2' in (stoppedReport(h1Only) ?? {}), 'no session seen: no HTTP/2 part')
  const line = stoppedLine({ connections: { retired: 0, closedByClient: 0, idleClosed: 0, stalledClosed: 0, forced: 0 }, http2: { sessions: 4, streams: 900, streamsServed: 812, goaways: 4, retired: 3, closedByClient: 0, idleClosed: 1, forced: 0 }, cut: [] })
  t.same(stoppedReport(line), { endings: { retired: 0, closedByClient: 0, idleClosed: 0, stalledClosed: 0, forced: 0 }, http2: { sessions: 4, goaways: 4, idleClosed: 1, streamsServed: 812, forced: 0 }, cut: 0 })
  const events = [
    { at: 0, type: 'deleted' as const, pod: 'web-v1-1', version: 'v1' },
    { at: 5500, type: 'exited' as const, pod: 'web-v1-1', version: 'v1' },
    { at: 0, type: 'deleted' as const, pod: 'web-v1-2', version: 'v1' },
    { at: 5000, type: 'exited' as const, pod: 'web-v1-2', version: 'v1' }
  ]
  const pods = podEndings([{ name: 'web-v1-1', drainReport: stoppedReport(line) }, { name: 'web-v1-2', drainReport: stoppedReport(h1Only) }], events)
  const r = { scenario: 'grpc', description: 'd', label: 'service', command: ['x'], proxy: 'l4', durationMs: 1000, counts: { sent: 1, ok: 1, statuses: {}, failed: {}, retried: 0 }, dropped: 0, unsettled: 0, latencyMs: { p50: 1, p99: 2 }, failures: [], events, throughput: [1], drops: [0], balancer: { connections: 0, noEndpoint: 0, upstreamErrors: 0 }, pods }
  const text = textReport([r])
  t.match(text, /web-v1-1: gone 5\.5 s after deletion; 0 retired, .*; HTTP\/2: 4 session\(s\), 4 told to go away \(1 idle\), 0 cut, 812 stream\(s\) served in the drain/)
  t.notMatch(text, /web-v1-2: [^\n]*HTTP\/2/, 'an HTTP/1.1-only pod has no HTTP/2 part')
  const html = htmlReport(jsonReport([r], 'service', new Date(0)), 'service')
  t.match(html, /<th>HTTP\/2 sessions<\/th>/)
  t.match(html, /<tr><td>web-v1-1<\/td><td>5\.5 s<\/td>(<td>\d+<\/td>){6}<td>4<\/td><td>4 \(1\)<\/td><td>0<\/td><td>812<\/td><\/tr>/)
  t.match(html, /<tr><td>web-v1-2<\/td><td>5\.0 s<\/td>(<td>\d+<\/td>){6}<td>-<\/td><td>-<\/td><td>-<\/td><td>-<\/td><\/tr>/)
})

t.test('a drain report without a field the kit reads is said to be one, never read as 0', async (t) => {
  const { retired: _retired, ...withoutRetired } = JSON.parse(stoppedLine()).connections
  const line = JSON.stringify({ ...JSON.parse(stoppedLine()), connections: withoutRetired })
  t.same(stoppedReport(line), { missing: ['connections.retired'] })
  t.same(stoppedReport('{"drain":"stopped","connections":{"retired":"5","closedByClient":1,"idleClosed":0,"stalledClosed":0,"forced":0},"http2":null,"cut":3}'),
    { missing: ['connections.retired', 'http2.sessions', 'http2.goaways', 'http2.idleClosed', 'http2.streamsServed', 'http2.forced', 'cut'] }, 'a string, a null part and a count where a list was are missing too')
  const events = [{ at: 0, type: 'deleted' as const, pod: 'web-v1-2', version: 'v1' }, { at: 5000, type: 'exited' as const, pod: 'web-v1-2', version: 'v1' }]
  const pods = podEndings([{ name: 'web-v1-2', drainReport: stoppedReport(line) }], events)
  t.same(pods, [{ pod: 'web-v1-2', goneAfterDeletionMs: 5000, drainReportProblem: 'drain report without connections.retired: plugin version mismatch?' }], 'no endings, no zeros: the problem')
  const r = { scenario: 'hot-loop', description: 'd', label: 'service', command: ['x'], proxy: 'l4', durationMs: 1000, counts: { sent: 1, ok: 1, statuses: {}, failed: {}, retried: 0 }, dropped: 0, unsettled: 0, latencyMs: { p50: 1, p99: 2 }, failures: [], events, throughput: [1], drops: [0], balancer: { connections: 0, noEndpoint: 0, upstreamErrors: 0 }, pods }
  const text = textReport([r])
  t.match(text, 'hot-loop / service: pod web-v1-2: drain report without connections.retired: plugin version mismatch?')
  t.match(text, /web-v1-2: gone 5\.0 s after deletion; drain report without connections\.retired: plugin version mismatch\?/)
  t.notMatch(text, /0 retired/)
  const html = htmlReport(jsonReport([r], 'service', new Date(0)), 'service')
  t.match(html, '<ul class="notes problem"><li>pod web-v1-2: drain report without connections.retired: plugin version mismatch?</li></ul>')
  t.match(html, /<tr><td>web-v1-2<\/td><td>5\.0 s<\/td><td class="problem" colspan="6">drain report without connections\.retired: plugin version mismatch\?<\/td><\/tr>/)
  const h2 = { ...r, pods: [...pods, { pod: 'web-v1-3', goneAfterDeletionMs: 1000, endings: { retired: 0, closedByClient: 0, idleClosed: 0, stalledClosed: 0, forced: 0 }, http2: { sessions: 1, goaways: 1, idleClosed: 0, streamsServed: 3, forced: 0 }, cut: 0 }] }
  t.match(htmlReport(jsonReport([h2], 'service', new Date(0)), 'service'), /<td class="problem" colspan="10">/, 'across the HTTP/2 columns too')
})
