// Ports taken by listening on 0: a pod is started with PORT=0 and the kit
// reads the port it got from the operating system (/proc on Linux, lsof
// elsewhere), for the process and its descendants; a replica that does not
// listen on $PORT is told so; a network that cannot tell fails the run.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { DEFAULT_POD, parseCommand, type ClusterSpec } from '../src/cluster/spec.js'
import { selectScenarios } from '../src/load/scenarios.js'
import { listeningSockets, lsofListeningSockets, procAddress, procListeningSockets } from '../src/network/listening-ports.js'
import { LOOPBACK_NETWORK } from '../src/network/loopback.js'
import type { PodNetwork } from '../src/network/pod-network.js'
import { runScenario } from '../src/run/measured-run.js'
import { FIXTURE } from './helpers/loadtest.js'

/** A node process that listens on port 0 of each host (in a child of its own when `nested`) and prints the ports, then waits. */
async function listener (t: Test, hosts: string[], nested = false): Promise<{ child: ChildProcess, ports: [number, number, number] }> {
  const listen = `const net = require('net'); const hosts = ${JSON.stringify(hosts)}; const ports = [];
    for (const h of hosts) { const s = net.createServer(); s.listen(0, h, () => { ports.push(s.address().port); if (ports.length === hosts.length) console.log(JSON.stringify(ports)) }) }`
  const code = nested ? `require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(listen)}], { stdio: 'inherit' })` : listen
  // A process group of its own, so that the teardown ends the descendant too.
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'], detached: true })
  t.teardown(() => { process.kill(-(child.pid as number), 'SIGKILL') })
  const [line] = await once(child.stdout!, 'data') as [Buffer]
  return { child, ports: JSON.parse(line.toString()) as [number, number, number] }
}

const byPort = (a: { port: number }, b: { port: number }): number => a.port - b.port

t.test('/proc: the listening sockets of a process, IPv4 and IPv6', async (t) => {
  const { child, ports } = await listener(t, ['127.0.0.1', '::1', '::'])
  const found = await procListeningSockets(child.pid as number)
  t.same(found.sort(byPort), [{ host: '127.0.0.1', port: ports[0] }, { host: '::1', port: ports[1] }, { host: '::', port: ports[2] }].sort(byPort))
  t.same((await listeningSockets(child.pid as number)).sort(byPort), found, 'where /proc exists, it is what answers')
})

t.test('/proc: a listener in a descendant is found from the pod\'s own process', async (t) => {
  const { child, ports } = await listener(t, ['127.0.0.1'], true)
  t.same(await procListeningSockets(child.pid as number), [{ host: '127.0.0.1', port: ports[0] }])
  t.same(await procListeningSockets(2 ** 22 + 1), [], 'a process that is gone listens nowhere')
})

t.test('lsof (where there is no /proc): the same answers', async (t) => {
  const { child, ports } = await listener(t, ['127.0.0.1', '::1'], true)
  t.same((await lsofListeningSockets(child.pid as number)).sort(byPort), [{ host: '127.0.0.1', port: ports[0] }, { host: '::1', port: ports[1] }].sort(byPort))
  t.same(await listeningSockets(child.pid as number, '/nonexistent-proc'), await lsofListeningSockets(child.pid as number), 'no /proc: lsof')
  const quiet = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'])
  t.teardown(() => { quiet.kill('SIGKILL') })
  await once(quiet, 'spawn')
  t.same(await lsofListeningSockets(quiet.pid as number), [], 'nothing listening: lsof exits 1 with nothing, which is no error')
  const wildcard = await listener(t, ['0.0.0.0'])
  t.same(await lsofListeningSockets(wildcard.child.pid as number), [{ host: '0.0.0.0', port: wildcard.ports[0] }], 'lsof writes every address as *')
  const path = process.env.PATH
  t.teardown(() => { process.env.PATH = path })
  process.env.PATH = '/nonexistent'
  await t.rejects(lsofListeningSockets(quiet.pid as number), /ps -A -o pid=,ppid= failed: spawn ps ENOENT/)
})

t.test('/proc addresses', async (t) => {
  t.equal(procAddress('0100007F'), '127.0.0.1')
  t.equal(procAddress('00000000'), '0.0.0.0')
  t.equal(procAddress('00000000000000000000000001000000'), '::1')
  t.equal(procAddress('00000000000000000000000000000000'), '::')
  t.equal(procAddress('000080FE000000000000000001000000'), 'fe80:0:0:0:0:0:0:1')
})

t.test('the loopback network: HOST=127.0.0.1 PORT=0, and a socket on every address is reached on loopback', async (t) => {
  const place = LOOPBACK_NETWORK.place('web-v1-1')
  t.same(place.env, { HOST: '127.0.0.1', PORT: '0' })
  const { child, ports } = await listener(t, ['0.0.0.0'])
  t.same(await place.candidates(child.pid as number), [{ host: '127.0.0.1', port: ports[0] }])
})

const cluster = (env: Record<string, string>, replicas: number): ClusterSpec => ({
  proxy: 'l4',
  propagationMs: 100,
  strategy: { replicas, maxSurge: 1, maxUnavailable: 0, minReadyMs: 0 },
  pod: { ...DEFAULT_POD, preStopSleepMs: 0, gracePeriodMs: 2000, command: parseCommand(FIXTURE), cwd: process.cwd(), env, readiness: { path: '/ready', periodMs: 100, timeoutMs: 500, failureThreshold: 1, successThreshold: 1 } }
})
const base = { scenario: selectScenarios(['hot-loop'])[0]!, label: 'service', rollouts: 1, requestTimeoutMs: 2000, scale: 0.05, steadyMs: 100 }

t.test('every replica on a port of its own: the ready event says where', async (t) => {
  const r = await runScenario({ ...base, cluster: cluster({}, 2) })
  t.equal(r.error, undefined)
  const ready = r.events.filter((e) => e.type === 'ready')
  t.ok(ready.length >= 4, 'two replicas of v1, two of v2')
  t.ok(ready.every((e) => /^127\.0\.0\.1:\d+$/.test(e.detail ?? '')), ready.map((e) => e.detail).join(' '))
  t.equal(new Set(ready.map((e) => e.detail)).size, new Set(ready.map((e) => e.pod)).size, 'a port per pod')
})

t.test('a service that listens on a fixed port: the second replica cannot bind, and the run says why', async (t) => {
  // The port is held here for the whole test: the first replica cannot bind either.
  const holder = createServer()
  holder.listen(0, '127.0.0.1')
  await once(holder, 'listening')
  t.teardown(() => { holder.close() })
  const r = await runScenario({ ...base, cluster: cluster({ FIXTURE_MODE: 'fixed-port', FIXTURE_PORT: String((holder.address() as AddressInfo).port) }, 1) })
  t.match(r.error, /exited before it was deleted; its last output:\n[\s\S]*EADDRINUSE[\s\S]*\(each replica is started with HOST=127\.0\.0\.1 PORT=0 and must listen there: a service that listens on a fixed port cannot run as several replicas\)/)
})

t.test('a network that cannot tell where a pod listens fails the run, saying so', async (t) => {
  const blind: PodNetwork = { place: () => ({ env: { HOST: '127.0.0.1', PORT: '0' }, candidates: async () => { throw new Error('no /proc and no lsof') } }) }
  const r = await runScenario({ ...base, cluster: cluster({}, 1), network: blind })
  t.match(r.error, /^pod web-v1-1: cannot learn where it listens: no \/proc and no lsof/)
})
