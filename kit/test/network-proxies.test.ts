// The L7 proxies as the kit runs them, for real: HAProxy and nginx count the
// connections they accepted, the requests that found no endpoint and the
// tries a pod failed, and an endpoint update they refuse is recorded (never
// thrown) and makes the run that needed it say so.
import { once } from 'node:events'
import { request, createServer as httpServer } from 'node:http'
import { createServer, type AddressInfo } from 'node:net'
import t from 'tap'
import { DEFAULT_POD, parseCommand, type ClusterSpec } from '../src/cluster/spec.js'
import { selectScenarios } from '../src/load/scenarios.js'
import type { Balancer } from '../src/network/balancer.js'
import { HaproxyBalancer, haproxyStats, runtimeCommand } from '../src/network/haproxy.js'
import { NginxBalancer } from '../src/network/nginx.js'
import { startProxy } from '../src/network/proxy-process.js'
import { jsonReport, verdict } from '../src/report/json.js'
import { htmlReport } from '../src/report/html.js'
import { endpointErrorLines, textReport } from '../src/report/text.js'
import { runScenario } from '../src/run/measured-run.js'
import { FIXTURE } from './helpers/loadtest.js'

/** One request on a connection of its own: its status, or the error code. */
async function get (port: number): Promise<number | string> {
  return await new Promise((resolve) => {
    request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => { res.resume(); res.on('end', () => { resolve(res.statusCode as number) }) })
      .on('error', (err: NodeJS.ErrnoException) => { resolve(err.code as string) }).end()
  })
}

/** A pod that answers every request. */
async function pod (): Promise<{ port: number, close: () => void }> {
  const server = httpServer((_req, res) => { res.end('ok') })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { port: (server.address() as AddressInfo).port, close: () => { server.closeAllConnections(); server.close() } }
}

/** A pod that resets every connection it accepts: each try at it fails. */
async function resettingPod (): Promise<{ port: number, close: () => void }> {
  const server = createServer((socket) => { socket.resetAndDestroy() })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { port: (server.address() as AddressInfo).port, close: () => { server.close() } }
}

const PROXIES: Array<[string, () => Promise<Balancer>, number]> = [
  ['HAProxy', async () => await HaproxyBalancer.start(), 503],
  ['nginx', NginxBalancer.start, 500]
]

for (const [name, start, noEndpointStatus] of PROXIES) {
  t.test(`${name}: real counters, from the proxy itself`, async (t) => {
    const lb = await start()
    t.teardown(async () => { await lb.close() })
    t.same(await lb.stats(), { connections: 0, noEndpoint: 0, upstreamErrors: 0 }, 'knowing it serves cost no connection')
    t.same([await get(lb.port), await get(lb.port)], [noEndpointStatus, noEndpointStatus], 'no endpoint yet')
    t.same(await lb.stats(), { connections: 2, noEndpoint: 2, upstreamErrors: 0 })
    const broken = await resettingPod()
    t.teardown(broken.close)
    await lb.setEndpoints([{ name: 'broken', host: '127.0.0.1', port: broken.port }])
    t.not(await get(lb.port), 200, 'a pod that resets every try')
    const afterBroken = await lb.stats()
    t.ok(afterBroken.upstreamErrors >= 1, `its failed tries are upstream errors: ${afterBroken.upstreamErrors}`)
    const ok = await pod()
    t.teardown(ok.close)
    await lb.setEndpoints([{ name: 'ok', host: '127.0.0.1', port: ok.port }])
    for (let i = 0; i < 5; i++) t.equal(await get(lb.port), 200)
    t.same(await lb.stats(), { ...afterBroken, connections: 8 }, 'one connection per request here, nothing else counted')
    t.same(lb.endpointErrors, [])
    t.equal(lb.podFor(undefined), undefined, 'through L7 the client cannot tell the pod')
  })

  t.test(`${name}: an endpoint update it refuses is recorded, not thrown`, async (t) => {
    const lb = await start()
    await lb.setEndpoints([{ name: 'bad', host: '127.0.0.1', port: 70_000 }])
    t.equal(lb.endpointErrors.length, 1)
    t.match(lb.endpointErrors[0], name === 'HAProxy' ? /HAProxy refused "add server pods\/bad 127\.0\.0\.1:70000": invalid port '70000'/ : /nginx \/configuration\/backends: status 400: bad endpoint: 127\.0\.0\.1 70000/)
    await lb.close()
    await lb.setEndpoints([{ name: 'late', host: '127.0.0.1', port: 1 }])
    t.equal(lb.endpointErrors.length, 2, 'a proxy gone is an endpoint error too')
    await t.rejects(lb.stats(), 'its counters cannot be read once it is gone')
  })
}

t.test('HAProxy: servers follow the endpoints; stats from show stat', async (t) => {
  const lb = await HaproxyBalancer.start()
  t.teardown(async () => { await lb.close() })
  await lb.setEndpoints([{ name: 'a', host: '127.0.0.1', port: 1 }])
  await lb.setEndpoints([{ name: 'a', host: '127.0.0.1', port: 1 }, { name: 'b', host: '127.0.0.1', port: 2 }])
  await lb.setEndpoints([{ name: 'b', host: '127.0.0.1', port: 2 }])
  const state = await lb.command('show servers state pods')
  t.match(state, / a 127\.0\.0\.1 /)
  t.same(lb.endpointErrors, [])
  // Back again, as blue is on a blue-green switch back: HAProxy still has it (in maintenance).
  await lb.setEndpoints([{ name: 'a', host: '127.0.0.1', port: 1 }])
  t.same(lb.endpointErrors, [], 'an endpoint that comes back is taken back, not added twice')
  const back = (await lb.command('show servers state pods')).split('\n').find((l) => / a 127\.0\.0\.1 /.test(l))!
  const columns = (await lb.command('show servers state pods')).split('\n')[1]!.replace(/^# /, '').split(' ')
  t.equal(back.split(' ')[columns.indexOf('srv_admin_state')], '0', 'a is out of maintenance')
  t.same(haproxyStats(''), { connections: 0, noEndpoint: 0, upstreamErrors: 0 }, 'an empty answer counts nothing')
  await t.rejects(runtimeCommand('/nonexistent/socket', 'show info'), /ENOENT/)
})

t.test('proxies that cannot start', async (t) => {
  const saved = { haproxy: process.env.HAPROXY_BIN, nginx: process.env.NGINX_BIN }
  t.teardown(() => {
    for (const [key, value] of [['HAPROXY_BIN', saved.haproxy], ['NGINX_BIN', saved.nginx]] as const) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  })
  process.env.HAPROXY_BIN = '/nonexistent/haproxy'
  await t.rejects(HaproxyBalancer.start(), /HAProxy did not start \(spawn \/nonexistent\/haproxy ENOENT\); install it/)
  process.env.HAPROXY_BIN = 'false'
  await t.rejects(HaproxyBalancer.start(), /HAProxy did not start \(exit code 1\)/)
  process.env.NGINX_BIN = '/nonexistent/nginx'
  await t.rejects(NginxBalancer.start(), /nginx did not start \(spawn \/nonexistent\/nginx ENOENT\)/)
  process.env.NGINX_BIN = 'false'
  await t.rejects(NginxBalancer.start(), /nginx did not start \(exit code 1\)/)
  const dir = t.testdir({})
  await t.rejects(startProxy({
    name: 'never', bin: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'], dir, hint: '',
    serving: async () => false, startTimeoutMs: 100
  }), /never did not start \(not serving after 100 ms\)/, 'a proxy that never serves is stopped after its start timeout')
})

t.test('a run whose endpoint update failed says so: its result, the text and the HTML report', async (t) => {
  const cluster: ClusterSpec = {
    proxy: 'l7',
    propagationMs: 100,
    strategy: { replicas: 2, maxSurge: 1, maxUnavailable: 0, minReadyMs: 0 },
    pod: { ...DEFAULT_POD, preStopSleepMs: 200, gracePeriodMs: 3000, command: parseCommand(FIXTURE), cwd: process.cwd(), env: {}, readiness: { path: '/ready', periodMs: 100, timeoutMs: 500, failureThreshold: 1, successThreshold: 1 } }
  }
  const r = await runScenario({
    scenario: selectScenarios(['hot-loop'])[0]!, label: 'service', cluster, rollouts: 1, requestTimeoutMs: 2000, scale: 0.05, steadyMs: 200,
    balancer: async () => {
      const lb = await HaproxyBalancer.start()
      // A server of that name already there (in maintenance): HAProxy refuses to add the first pod.
      await lb.command('add server pods/web-v1-1 127.0.0.1:1')
      return lb
    }
  })
  t.match(r.endpointErrors, [/HAProxy refused "add server pods\/web-v1-1 127\.0\.0\.1:\d+": Already exists a server with the same name in backend\./])
  t.match(r.error, /^\d+ endpoint update\(s\) failed, so the balancer did not follow the pods; the first: HAProxy refused "add server pods\/web-v1-1/)
  t.ok(r.balancer !== undefined && r.balancer.connections > 0, 'the counters were read')
  t.equal(verdict([r], 'service'), false, 'a failed run, whatever it dropped')
  const text = textReport([r])
  t.match(text, /hot-loop \/ service: RUN FAILED: \d+ endpoint update\(s\) failed/)
  t.match(text, /\n {2}endpoint update failed: HAProxy refused "add server pods\/web-v1-1 /)
  const html = htmlReport(jsonReport([r], 'service'), 'service')
  t.match(html, /<ul class="notes problem"><li>endpoint update failed: HAProxy refused &#34;add server pods\/web-v1-1 /)
  t.match(html, / · balancer: \d+ connections, \d+ without an endpoint, \d+ upstream errors/)
})

t.test('the reports list a few endpoint errors and the balancer counters that matter', async (t) => {
  const errors = Array.from({ length: 7 }, (_, i) => `error ${i}`)
  t.same(endpointErrorLines({ endpointErrors: errors }), [...errors.slice(0, 5).map((e) => `endpoint update failed: ${e}`), '... and 2 more endpoint update(s) failed'])
  t.same(endpointErrorLines({}), [], 'none under check')
  const r = {
    scenario: 's', description: 'd', label: 'service', command: ['x'], proxy: 'nginx', durationMs: 1000, counts: { sent: 1, ok: 1, statuses: {}, failed: {}, retried: 0 },
    dropped: 0, unsettled: 0, latencyMs: { p50: 1, p99: 2 }, failures: [], events: [], throughput: [1], drops: [0], pods: []
  }
  t.notMatch(textReport([{ ...r, balancer: { connections: 9, noEndpoint: 0, upstreamErrors: 0 } }]), /balancer:/, 'nothing to say of a balancer that found every endpoint')
  t.match(textReport([{ ...r, balancer: { connections: 9, noEndpoint: 2, upstreamErrors: 3 } }]), 's / service: balancer: 9 connections, 2 without an endpoint, 3 upstream errors')
  t.notMatch(htmlReport(jsonReport([r], 'service'), 'service'), /balancer:/, 'no counters under check')
})
