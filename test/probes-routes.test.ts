import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { Writable } from 'node:stream'
import zeroDowntime, { type ZeroDowntimeOptions } from '../src/index.js'
import { drainControllerOf } from '../src/plugin.js'
import { probe } from './helpers/probe.js'

async function build (opts: ZeroDowntimeOptions = {}, fastifyOpts = {}): Promise<FastifyInstance> {
  const app = Fastify(fastifyOpts)
  await app.register(zeroDowntime, { pressure: false, ...opts })
  await app.ready()
  return app
}

t.test('default paths answer GET and HEAD with application/health+json, never cached', async (t) => {
  const app = await build({ checks: { db: () => true } })
  t.teardown(async () => { await app.close() })
  app.zeroDowntime.started()
  for (const url of ['/health', '/livez', '/ready', '/readyz', '/startup', '/ready/db', '/readyz/db']) {
    const get = await app.inject(url)
    t.equal(get.statusCode, 200, `GET ${url}`)
    t.match(get.headers['content-type'], /^application\/health\+json/)
    t.equal(get.headers['cache-control'], 'no-store')
    t.same(get.json(), { status: 'pass' })
    const head = await app.inject({ method: 'HEAD', url })
    t.equal(head.statusCode, 200, `HEAD ${url}`)
    t.equal(head.body, '')
  }
})

t.test('HEAD works even when the app turns off exposeHeadRoutes', async (t) => {
  const app = await build({}, { exposeHeadRoutes: false })
  t.teardown(async () => { await app.close() })
  t.equal((await app.inject({ method: 'HEAD', url: '/health' })).statusCode, 200)
  t.equal((await app.inject({ method: 'HEAD', url: '/ready' })).statusCode, 503)
})

t.test('startup "listen": started when the server listens; before that startup and readiness are 503', async (t) => {
  const app = await build()
  t.teardown(async () => { await app.close() })
  t.equal(app.zeroDowntime.state, 'starting')
  const startup = await app.inject('/startup')
  t.equal(startup.statusCode, 503)
  t.equal(startup.headers['retry-after'], '2')
  t.same(startup.json(), { status: 'fail', output: 'not started yet' })
  t.equal((await app.inject('/ready')).statusCode, 503)
  t.equal((await app.inject('/health')).statusCode, 200, 'alive while starting')
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.equal(app.zeroDowntime.state, 'ready')
  t.equal((await probe(app, '/startup')).status, 200)
  t.equal((await probe(app, '/ready')).status, 200)
})

t.test('startup "manual": not started on listen, only by started()', async (t) => {
  const app = await build({ startup: 'manual' })
  t.teardown(async () => { await app.close() })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.equal((await probe(app, '/startup')).status, 503)
  const ready = await probe(app, '/ready')
  t.equal(ready.status, 503)
  t.equal(ready.body.output, 'not started yet')
  t.equal(app.zeroDowntime.ready, false)
  app.zeroDowntime.started()
  t.equal((await probe(app, '/startup')).status, 200)
  t.equal((await probe(app, '/ready')).status, 200)
  t.equal(app.zeroDowntime.ready, true)
})

t.test('readiness turns 503 as soon as the lifecycle leaves ready; liveness stays 200', async (t) => {
  const app = await build({ checks: { live: { check: () => false, liveness: true }, soft: { check: () => false, liveness: true, critical: false } } })
  t.teardown(async () => { await app.close() })
  app.zeroDowntime.started()
  t.equal((await app.inject('/health')).statusCode, 503, 'an opted-in liveness check fails liveness')
  t.equal((await app.inject('/health?exclude=live')).statusCode, 200, 'a non-critical liveness check only warns')
  t.equal((await app.inject('/ready?exclude=live')).json().status, 'warn', 'a non-critical check only warns readiness')
  const states: string[] = []
  app.zeroDowntime.on('state', (state, previous) => { states.push(`${previous}->${state}`) })
  app.zeroDowntime.once('state', () => { throw new Error('listener bug') })
  app.zeroDowntime.once('state', async () => { throw new Error('async listener bug') })
  // Draining starts synchronously; the delay holds the pod there until the test cuts it.
  const drained = app.zeroDowntime.drain('test', { delayMs: 60_000 })
  t.same(states, ['ready->draining'], 'the listeners after a throwing one still ran')
  const ready = await app.inject('/ready?verbose')
  t.equal(ready.statusCode, 503)
  t.equal(ready.headers['retry-after'], '2')
  t.equal(ready.json().output, 'draining: taking no new traffic; live: check returned false; soft: check returned false')
  t.same(ready.json().notes, ['lifecycle: draining'])
  const health = await app.inject('/health')
  t.equal(health.statusCode, 200, 'liveness passes while terminating, whatever its checks say')
  t.equal((await app.inject('/startup')).statusCode, 200)
  app.zeroDowntime.started()
  t.equal(app.zeroDowntime.state, 'draining', 'a late started() cannot resurrect readiness')
  drainControllerOf(app)?.abort('test over')
  t.equal((await drained).reason, 'test')
  t.same(states, ['ready->draining', 'draining->closing', 'closing->stopped'], 'the drain ran to its end')
})

t.test('?verbose, ?exclude and /ready/<check>', async (t) => {
  const app = await build({
    checks: {
      db: { check: () => { throw new Error('db down') }, componentType: 'datastore' },
      cache: () => true
    }
  })
  t.teardown(async () => { await app.close() })
  app.zeroDowntime.started()
  const terse = await app.inject('/ready')
  t.equal(terse.statusCode, 503)
  t.same(Object.keys(terse.json()), ['status', 'output'], 'no details without ?verbose')
  t.equal((await app.inject('/ready?verbose=false')).json().checks, undefined)
  const verbose = (await app.inject('/ready?verbose')).json()
  t.equal(verbose.status, 'fail')
  t.same(Object.keys(verbose.checks), ['db:responseTime', 'cache:responseTime'])
  const [db] = verbose.checks['db:responseTime']
  t.match(db, { componentType: 'datastore', observedUnit: 'ms', status: 'fail', output: 'db down' })
  t.type(db.observedValue, 'number')
  t.ok(!Number.isNaN(Date.parse(db.time)), 'time is an ISO date')
  t.equal((await app.inject('/ready?exclude=db')).statusCode, 200)
  t.equal((await app.inject('/ready?exclude=db,cache&verbose=1')).json().checks['db:responseTime'], undefined)
  t.equal((await app.inject('/ready?exclude=cache&exclude=db')).statusCode, 200)
  const one = await app.inject('/ready/db?verbose')
  t.equal(one.statusCode, 503)
  t.same(Object.keys(one.json().checks), ['db:responseTime'])
  t.same(one.json().notes, ['critical: true'])
  t.equal((await app.inject('/ready/cache')).statusCode, 200)
  const unknown = await app.inject('/ready/nope')
  t.equal(unknown.statusCode, 404)
  t.same(unknown.json(), { status: 'fail', output: 'no check named "nope"' })
})

t.test('configurable paths', async (t) => {
  const app = await build({ paths: { liveness: '/alive', readiness: ['/r1', '/r2'], startup: '/booted' }, checks: { db: () => true } })
  t.teardown(async () => { await app.close() })
  app.zeroDowntime.started()
  for (const url of ['/alive', '/r1', '/r2', '/r2/db', '/booted']) t.equal((await app.inject(url)).statusCode, 200, url)
  for (const url of ['/health', '/ready', '/startup']) t.equal((await app.inject(url)).statusCode, 404, url)
})

t.test('probes stay out of the request log unless logProbes is set', async (t) => {
  for (const logProbes of [false, true]) {
    const lines: string[] = []
    const stream = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done() } })
    const app = Fastify({ logger: { level: 'info', stream } })
    await app.register(zeroDowntime, { pressure: false, logProbes })
    app.get('/work', async () => ({ ok: true }))
    await app.ready()
    for (const url of ['/health', '/ready', '/startup', '/work']) await app.inject(url)
    await app.close()
    const urls = lines.map((l) => JSON.parse(l) as { req?: { url: string } }).flatMap((l) => l.req === undefined ? [] : [l.req.url])
    t.same(urls, logProbes ? ['/health', '/ready', '/startup', '/work'] : ['/work'], `logProbes: ${String(logProbes)}`)
  }
})

t.test('the decorator exposes state, results and the resolved config', async (t) => {
  const app = await build({ checks: { db: () => true }, checkIntervalMs: 3500 })
  t.teardown(async () => { await app.close() })
  t.equal(app.zeroDowntime.state, 'starting')
  t.equal(app.zeroDowntime.checks[0]?.name, 'db')
  t.equal(app.zeroDowntime.config.checkIntervalMs, 3500)
  t.equal(app.zeroDowntime.config.probeRetryAfterSeconds, 4)
  t.ok(Object.isFrozen(app.zeroDowntime.config))
  t.ok(Object.isFrozen(app.zeroDowntime.config.drain), 'one config: the drain\'s is in it')
  t.equal(app.zeroDowntime.config.drain.requestTimeoutMs, 10000)
  for (const internal of ['lifecycle', 'emit', 'abort', 'announce', 'advance']) {
    t.notOk(internal in app.zeroDowntime, `the handle has no ${internal}`)
  }
  t.type(app.zeroDowntime.drain, 'function')
  t.type(app.zeroDowntime.onGoAway, 'function')
  t.type(app.zeroDowntime.addCleanup, 'function')
})
