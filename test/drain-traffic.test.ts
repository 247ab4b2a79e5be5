// A pod drained under every kind of keep-alive traffic, behind a
// kube-proxy-like balancer (connections stay pinned to the terminating pod;
// endpoint removal arrives late) with a second pod taking new connections.
// The bar: zero failed requests and zero non-2xx answers.
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify from 'fastify'
import t from 'tap'
import { L4Balancer } from '../kit/src/network/l4-balancer.js'
import { closedLoop, newOutcome, spawnPod, type LogLine } from './fixtures/drain/harness.js'
import { seededRandom, until } from './helpers/wait.js'

/** Endpoint propagation to the balancer: shorter than the drain delay, as in a healthy cluster. */
const PROPAGATION_MS = 300

t.test('a pod drains under hot-loop, slow, POST and idle pooled keep-alive traffic without dropping a request', async (t) => {
  const podB = Fastify()
  podB.get('/', async () => ({ hello: 'b' }))
  podB.get<{ Querystring: { ms?: string } }>('/slow', async (req) => {
    await sleep(Number(req.query.ms ?? 1000))
    return { slept: true }
  })
  podB.post('/echo', async (req) => req.body)
  await podB.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await podB.close() })

  const podA = await spawnPod({
    PRESTOP_SLEEP_SECONDS: '0',
    TERMINATION_GRACE_PERIOD_SECONDS: '20',
    DRAIN_OPTIONS: JSON.stringify({ delayMs: 1000, idleCloseMs: 1500 })
  })
  t.teardown(() => { podA.kill('SIGKILL') })

  const balancer = await L4Balancer.listen()
  t.teardown(async () => { await balancer.close() })
  const portB = (podB.server.address() as { port: number }).port
  balancer.setEndpoints([{ name: 'a', host: '127.0.0.1', port: podA.port }, { name: 'b', host: '127.0.0.1', port: portB }])

  let stopClients!: () => void
  const stop = new Promise<void>((resolve) => { stopClients = resolve })
  const hot = newOutcome()
  const slow = newOutcome()
  const post = newOutcome()
  const idle = newOutcome()
  const thinkTime = seededRandom(15)
  const clients = Promise.all([
    closedLoop(balancer.port, 30, () => ({ path: '/' }), stop, hot),
    closedLoop(balancer.port, 10, () => ({ path: '/slow?ms=1500' }), stop, slow),
    closedLoop(balancer.port, 10, (i) => ({ method: 'POST', path: '/echo', body: JSON.stringify({ i, pad: 'x'.repeat(2000) }) }), stop, post),
    // Pooled sockets left idle for a think time, picked again at random (seeded: the same times every run).
    closedLoop(balancer.port, 40, () => ({ path: '/' }), stop, idle, () => thinkTime() * 2500)
  ])

  // Let every client settle on pinned keep-alive connections, some to pod A.
  await until(() => hot.ok >= 200 && slow.ok >= 10, 'the clients settled', { intervalMs: 50 })

  podA.kill('SIGTERM')
  await sleep(PROPAGATION_MS)
  balancer.setEndpoints([{ name: 'b', host: '127.0.0.1', port: portB }])
  const exit = await podA.exited
  stopClients()
  await clients

  const all = { hot, slow, post, idle }
  for (const [name, o] of Object.entries(all)) {
    t.same(o.failed, [], `${name}: no request lost`)
    t.same(o.statuses, {}, `${name}: no non-2xx answer (no 503)`)
    t.ok(o.ok > 0, `${name}: requests were served`)
  }
  t.equal(exit.code, 0, 'a clean drain exits 0')

  const stopped = podA.logs.find((l) => l.drain === 'stopped') as LogLine & { servedDuringDrain: number, connections: { retired: number, forced: number, idleClosed: number }, clean: boolean }
  t.ok(stopped, 'the timeline ends with the drain report')
  t.equal(stopped.clean, true)
  t.ok(stopped.servedDuringDrain > 0, 'requests that still arrived during the drain were served')
  t.ok(stopped.connections.retired > 0, 'keep-alive connections retired after a Connection: close response')
  t.equal(stopped.connections.forced, 0, 'nothing was forced')
  const steps = podA.logs.filter((l) => l.drain !== undefined).map((l) => l.drain)
  for (const step of ['signal', 'readiness-off', 'delay-over', 'listener-closed', 'http-drained', 'stopped', 'exit']) {
    t.ok(steps.includes(step), `timeline has "${step}"`)
  }
  t.comment(`served: hot ${hot.ok}, slow ${slow.ok}, post ${post.ok}, idle ${idle.ok}; pod A report ${JSON.stringify({ served: stopped.servedDuringDrain, ...stopped.connections, ms: stopped.durationMs })}`)
})
