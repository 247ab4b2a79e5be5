import { performance } from 'node:perf_hooks'
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import underPressure from '@fastify/under-pressure'
import zeroDowntime, { type PressureOptions } from '../src/index.js'
import { probe } from './helpers/probe.js'
import { until } from './helpers/wait.js'

/** Waits until under-pressure has taken a sample (it samples on an unref'ed timer), with an event-loop measurement unless `any`. */
async function sampled (app: FastifyInstance, any = false): Promise<void> {
  const done = (): boolean => app.memoryUsage().heapUsed > 0 && (any || Number.isFinite(app.memoryUsage().eventLoopDelay))
  await until(done, 'under-pressure took a sample', { intervalMs: 5 })
}

/**
 * Spins on the event loop for `ms`, the delay under-pressure must measure.
 * Bounded by its own count too: it ends after `MAX_SPINS` looks at the clock
 * whatever the clock says (the caller then sees a shorter block, never a hang).
 */
const MAX_SPINS = 50_000_000
function blockEventLoop (ms: number): void {
  const end = performance.now() + ms
  for (let i = 0; i < MAX_SPINS; i++) if (performance.now() >= end) return
}

async function saturated (pressure: PressureOptions): Promise<FastifyInstance> {
  const app = Fastify()
  // A 1-byte heap limit: always saturated, deterministically. No event-loop
  // limit: on a loaded machine an empty sample window (reported as Infinity,
  // and let through) would otherwise mask the heap limit for one sample.
  await app.register(zeroDowntime, { pressure: { maxHeapUsedBytes: 1, maxEventLoopDelayMs: false, sampleIntervalMs: 50, ...pressure } })
  app.get('/work', async () => ({ ok: true }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  await sampled(app)
  return app
}

t.test('when saturated, app routes are shed with 503 + Retry-After; probes answer; liveness passes; readiness warns', async (t) => {
  const app = await saturated({ retryAfterSeconds: 3 })
  t.teardown(async () => { await app.close() })
  t.equal(app.isUnderPressure(), true)
  const work = await fetch(`http://127.0.0.1:${(app.server.address() as { port: number }).port}/work`)
  t.equal(work.status, 503)
  t.equal(work.headers.get('retry-after'), '3')
  await work.arrayBuffer()
  t.equal((await probe(app, '/health')).status, 200, 'liveness never fails from load')
  t.equal((await probe(app, '/startup')).status, 200)
  const ready = await probe(app, '/ready?verbose')
  t.equal(ready.status, 200, 'readiness stays 200 by default')
  t.equal(ready.body.status, 'warn')
  t.match(ready.body.output, /under pressure: pressure:heapUsed \d+/)
  t.match(ready.body.checks?.['pressure:heapUsed']?.[0], { componentType: 'system', observedUnit: 'bytes', status: 'warn' })
  t.equal((await probe(app, '/ready?exclude=pressure')).body.status, 'pass')
})

t.test('when saturated, a route\'s own config.pressureHandler decides, as under-pressure lets it; the shed body names the limit', async (t) => {
  const app = Fastify()
  await app.register(zeroDowntime, { pressure: { maxHeapUsedBytes: 1, maxEventLoopDelayMs: false, sampleIntervalMs: 50 } })
  const seen: Array<[string, number]> = []
  const handlers = {
    through: (_q: unknown, _r: unknown, type: string, value: number) => { seen.push([type, value]) },
    answer: () => ({ busy: true }),
    later: async () => { await Promise.resolve() },
    refuses: async () => { throw new Error('refused by the route') }
  }
  for (const [name, pressureHandler] of Object.entries(handlers)) app.get(`/${name}`, { config: { pressureHandler } }, async () => ({ served: name }))
  app.get('/work', async () => ({ ok: true }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  await sampled(app)
  const get = async (path: string): Promise<{ status: number, body: unknown }> => {
    const { status, body } = await probe(app, path)
    return { status, body }
  }
  t.same(await get('/through'), { status: 200, body: { served: 'through' } }, 'nothing returned: let through')
  t.equal(seen[0]?.[0], 'heapUsedBytes', 'told which limit, by under-pressure\'s name')
  t.ok((seen[0]?.[1] ?? 0) > 1, 'and the sampled value')
  t.same(await get('/answer'), { status: 200, body: { busy: true } }, 'a value returned is the answer')
  t.same(await get('/later'), { status: 200, body: { served: 'later' } }, 'a promise: let through once it settles')
  t.match(await get('/refuses'), { status: 500, body: { message: 'refused by the route' } }, 'its rejection is the request\'s error')
  t.match(await get('/work'), { status: 503, body: { code: 'FST_UNDER_PRESSURE', message: 'Service Unavailable: heapUsedBytes over its limit' } })
})

t.test('pressure.readiness "fail" turns readiness 503 while saturated', async (t) => {
  const app = await saturated({ readiness: 'fail', maxEventLoopUtilization: 1, maxRssBytes: Number.MAX_SAFE_INTEGER })
  t.teardown(async () => { await app.close() })
  const ready = await probe(app, '/ready?verbose')
  t.equal(ready.status, 503)
  t.equal(ready.body.checks?.['pressure:heapUsed']?.[0]?.status, 'fail')
  t.match(ready.body.checks?.['pressure:eventLoopUtilization']?.[0], { observedUnit: 'percent', status: 'pass' })
  t.match(ready.body.checks?.['pressure:rss']?.[0], { status: 'pass' })
  t.equal((await probe(app, '/health')).status, 200)
})

t.test('a blocked event loop sheds app routes', async (t) => {
  const app = Fastify()
  await app.register(zeroDowntime, { pressure: { maxEventLoopDelayMs: 20, sampleIntervalMs: 50 } })
  app.get('/work', async () => ({ ok: true }))
  await app.ready()
  app.zeroDowntime.started()
  await sampled(app)
  // Idle means a sample under the limit: on a loaded machine (the suite runs
  // files in parallel) a 20 ms delay is sampled now and then without any
  // blocking, and the plugin rightly sheds then.
  await until(() => app.memoryUsage().eventLoopDelay <= 20, 'an idle sample', { intervalMs: 5 })
  t.equal((await app.inject('/work')).statusCode, 200, 'not shed while idle')
  // Block the loop until under-pressure has sampled a delay above the limit.
  for (let round = 0; !(app.memoryUsage().eventLoopDelay > 20 && Number.isFinite(app.memoryUsage().eventLoopDelay)); round++) {
    if (round === 100) throw new Error('under-pressure never sampled the blocked loop')
    blockEventLoop(200)
    await new Promise((resolve) => { setTimeout(resolve, 15) })
  }
  t.equal((await app.inject('/work')).statusCode, 503)
  t.equal((await app.inject('/ready')).statusCode, 200)
  t.equal((await app.inject('/health')).statusCode, 200)
  await app.close()
})

t.test('a loop blocked before the first sample (a busy boot) is a stall like any other: the first sample sheds', async (t) => {
  const app = Fastify()
  await app.register(zeroDowntime, { pressure: { maxEventLoopDelayMs: 20, sampleIntervalMs: 50 } })
  app.get('/work', async () => ({ ok: true }))
  // Busy from the moment the histogram is enabled: its first window records nothing.
  blockEventLoop(100)
  await app.ready()
  app.zeroDowntime.started()
  await sampled(app, true)
  t.equal(app.memoryUsage().eventLoopDelay, Infinity, 'under-pressure reports the empty window as Infinity')
  t.equal((await app.inject('/work')).statusCode, 503, 'shed, as a bare under-pressure would')
  const ready = (await app.inject('/ready?verbose')).json()
  t.equal(ready.status, 'warn')
  t.match(ready.checks['pressure:eventLoopDelay'][0], { status: 'warn', observedValue: 50, output: /did not turn during a whole sample window/ })
  t.equal((await app.inject('/health')).statusCode, 200)
  await app.close()
})

t.test('pressure: false registers no shedding; probes stay exempt from an under-pressure the app registers itself', async (t) => {
  const app = Fastify()
  await app.register(underPressure, { maxHeapUsedBytes: 1, sampleInterval: 50 })
  await app.register(zeroDowntime, { pressure: false })
  app.get('/work', async () => ({ ok: true }))
  await app.ready()
  app.zeroDowntime.started()
  await sampled(app)
  t.equal((await app.inject('/work')).statusCode, 503)
  t.equal((await app.inject('/health')).statusCode, 200)
  t.equal((await app.inject('/ready')).statusCode, 200)
  t.same((await app.inject('/ready?verbose')).json().checks, {}, 'no pressure entries without our own limits')
  await app.close()
})
