// The zero_downtime_* metrics on a real prom-client Registry, moving as checks
// fail and recover, as the lifecycle advances, as a real drain runs over real
// sockets, and as load shedding answers 503.
import { once } from 'node:events'
import net from 'node:net'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { Registry } from 'prom-client'
import zeroDowntime, { METRIC_NAMES } from '../src/index.js'
import { drainControllerOf } from '../src/plugin.js'
import { QUICK_DRAIN } from './fixtures/drain/app.js'
import { nextResult } from './helpers/probe.js'

type Labels = Record<string, string | number>

/** The value of `name` with exactly `labels`, as a scrape reads it (collect() runs). */
async function value (registry: Registry, name: string, labels: Labels = {}): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name)
  if (metric === undefined) throw new Error(`${name} is not registered`)
  const { values } = await metric.get()
  const key = JSON.stringify(labels)
  return values.find((v) => JSON.stringify(v.labels) === key)?.value
}

async function lifecycle (registry: Registry): Promise<string[]> {
  const { values } = await registry.getSingleMetric('zero_downtime_lifecycle_state')!.get()
  return values.filter((v) => v.value === 1).map((v) => String(v.labels.state))
}

t.test('every metric is registered, typed and named by the Prometheus rules', async (t) => {
  const registry = new Registry()
  const app = Fastify()
  await app.register(zeroDowntime, { pressure: false, metrics: { registry } })
  await app.ready()
  t.teardown(async () => { await app.close() })
  const json = await registry.getMetricsAsJSON()
  t.same(json.map((m) => m.name).sort(), [...METRIC_NAMES].sort())
  for (const m of json) {
    t.match(m.name, /^zero_downtime_[a-z_]+$/)
    t.equal(String(m.type) === 'counter', m.name.endsWith('_total'), `${m.name}: _total exactly on counters`)
    t.ok(m.help.length > 10, `${m.name} has help`)
  }
  const text = await registry.metrics()
  t.match(text, /# TYPE zero_downtime_check_duration_seconds gauge/)
  t.match(text, /zero_downtime_lifecycle_state\{state="starting"\} 1/)
})

t.test('docs/probes.md lists every metric with its type and labels', async (t) => {
  const { readFile } = await import('node:fs/promises')
  const docs = await readFile(new URL('../docs/probes.md', import.meta.url), 'utf8')
  const rows = new Map([...docs.matchAll(/^\| `(zero_downtime_\w+)` \| (\w+) \|\s*`?(\w*)`?\s*\|/gm)].map((m) => [m[1], [m[2], m[3]]]))
  const registry = new Registry()
  const app = Fastify()
  await app.register(zeroDowntime, { pressure: false, metrics: { registry }, checks: { db: () => true } })
  await app.ready()
  t.teardown(async () => { await app.close() })
  t.same([...rows.keys()].sort(), [...METRIC_NAMES].sort())
  for (const m of await registry.getMetricsAsJSON()) {
    const labels = [...new Set(m.values.flatMap((v) => Object.keys(v.labels)))].join(',')
    t.same(rows.get(m.name), [m.type, labels], m.name)
  }
})

t.test('check status and duration follow a check that fails and recovers', async (t) => {
  const registry = new Registry()
  let up = true
  const app = Fastify()
  await app.register(zeroDowntime, {
    pressure: false,
    checkIntervalMs: 20,
    metrics: { registry },
    checks: { db: () => { if (!up) throw new Error('down') }, cache: () => ({ status: 'warn', output: 'slow' }) }
  })
  t.equal(await value(registry, 'zero_downtime_check_up', { check: 'db' }), 0, 'not checked yet: down')
  t.equal(await value(registry, 'zero_downtime_check_duration_seconds', { check: 'db' }), undefined, 'no duration before a run')
  // Listening holds the event loop while the (unref'ed) check timers run.
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  t.equal(await value(registry, 'zero_downtime_check_up', { check: 'db' }), 1)
  t.equal(await value(registry, 'zero_downtime_check_up', { check: 'cache' }), 1, 'a warning is up')
  const latency = app.zeroDowntime.checks[0]!.latencyMs
  t.equal(await value(registry, 'zero_downtime_check_duration_seconds', { check: 'db' }), latency / 1000, 'the latest run, in seconds')

  const failed = nextResult(app, 'db', 'fail')
  up = false
  await failed
  t.equal(await value(registry, 'zero_downtime_check_up', { check: 'db' }), 0, 'down after a failed run')
  const recovered = nextResult(app, 'db', 'pass')
  up = true
  await recovered
  t.equal(await value(registry, 'zero_downtime_check_up', { check: 'db' }), 1, 'up again')
})

/** A raw keep-alive connection: sends `path`, resolves with the raw response once `done` matches. */
async function rawGet (port: number, path: string): Promise<{ socket: net.Socket, response: Promise<string> }> {
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  socket.on('error', () => {})
  let text = ''
  const response = new Promise<string>((resolve) => {
    socket.on('data', (chunk) => { text += String(chunk); if (/\r\n\r\n[\s\S]*\}/.test(text)) resolve(text) })
    socket.on('close', () => { resolve(text) })
  })
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`)
  return { socket, response }
}

async function drainingApp (t: Test): Promise<{ app: FastifyInstance, registry: Registry, port: number, release: () => void, inFlight: (n: number) => Promise<void> }> {
  const registry = new Registry()
  const app = Fastify()
  await app.register(zeroDowntime, { pressure: false, drain: QUICK_DRAIN, metrics: { registry } })
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  let arrived = 0
  const waiting: Array<[number, () => void]> = []
  const arrive = (): void => {
    arrived++
    for (const [n, resolve] of waiting) if (arrived >= n) resolve()
  }
  app.get('/', async () => ({ ok: true }))
  app.get('/slow', async () => { arrive(); await released; return { ok: true } })
  app.get('/hang', async () => { arrive(); await new Promise(() => {}) })
  t.same(await lifecycle(registry), ['starting'])
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  t.same(await lifecycle(registry), ['ready'])
  for (const name of ['zero_downtime_drain_requests_served_total', 'zero_downtime_drain_requests_cut_total', 'zero_downtime_drain_duration_seconds']) {
    t.equal(await value(registry, name), 0, `${name} is 0 before a drain`)
  }
  for (const outcome of ['retired', 'closed_by_client', 'idle_closed', 'stalled_closed', 'forced']) t.equal(await value(registry, 'zero_downtime_drain_connections_total', { outcome }), 0)
  const inFlight = async (n: number): Promise<void> => { await new Promise<void>((resolve) => { if (arrived >= n) resolve(); else waiting.push([n, resolve]) }) }
  return { app, registry, port: (app.server.address() as net.AddressInfo).port, release, inFlight }
}

t.test('a real drain: requests served, a connection retired after its Connection: close response, the duration', async (t) => {
  const { app, registry, port, release, inFlight } = await drainingApp(t)
  const slow = await rawGet(port, '/slow')
  await inFlight(1)
  // Idle connections are not closed during this run: the one that ends, ends by its Connection: close.
  const report = app.zeroDowntime.drain('metrics test', { delayMs: 0, idleCloseMs: 8000 })
  // drain() marks the pod draining before it returns.
  t.same(await lifecycle(registry), ['draining'])
  await new Promise<void>((resolve) => { app.zeroDowntime.on('state', (state) => { if (state === 'closing') resolve() }) })
  t.same(await lifecycle(registry), ['closing'])
  release()
  t.match(await slow.response, /^HTTP\/1\.1 200[\s\S]*connection: close/i)
  const done = await report
  t.same(await lifecycle(registry), ['stopped'])
  t.same(done.connections, { retired: 1, closedByClient: 0, idleClosed: 0, stalledClosed: 0, forced: 0 })
  t.equal(await value(registry, 'zero_downtime_drain_requests_served_total'), 1)
  t.equal(await value(registry, 'zero_downtime_drain_connections_total', { outcome: 'retired' }), 1)
  t.equal(await value(registry, 'zero_downtime_connections_retired_total', { reason: 'drain' }), 1, 'told to leave by the drain')
  t.same(done.retiredBy, { drain: 1 })
  t.equal(await value(registry, 'zero_downtime_drain_requests_cut_total'), 0)
  t.equal(await value(registry, 'zero_downtime_drain_duration_seconds'), done.durationMs / 1000, 'the report\'s duration once stopped')
})

t.test('a real drain: idle connections closed, one cut by a second signal', async (t) => {
  const { app, registry, port, release, inFlight } = await drainingApp(t)
  // One idle keep-alive connection (its client never closes it), one request
  // answered during the drain, one never answered.
  const idle = await rawGet(port, '/')
  t.match(await idle.response, /^HTTP\/1\.1 200/)
  const slow = await rawGet(port, '/slow')
  const hang = await rawGet(port, '/hang')
  await inFlight(2)
  const report = app.zeroDowntime.drain('metrics test', { delayMs: 0, idleCloseMs: 0 })
  await once(idle.socket, 'close')
  t.equal(await value(registry, 'zero_downtime_drain_connections_total', { outcome: 'idle_closed' }), 1, 'the idle one, at once')
  release()
  t.match(await slow.response, /^HTTP\/1\.1 200/)
  await once(slow.socket, 'close')
  t.equal(await value(registry, 'zero_downtime_drain_requests_served_total'), 1)
  t.equal(await value(registry, 'zero_downtime_drain_requests_cut_total'), 0, 'nothing cut yet')
  drainControllerOf(app)!.abort('second signal')
  const done = await report
  await hang.response
  t.same(await lifecycle(registry), ['stopped'])
  // With idleCloseMs 0, the answered connection is idle (and closed) as soon as its response is done.
  t.same(done.connections, { retired: 0, closedByClient: 0, idleClosed: 2, stalledClosed: 0, forced: 1 })
  t.equal(await value(registry, 'zero_downtime_drain_connections_total', { outcome: 'idle_closed' }), 2)
  t.equal(await value(registry, 'zero_downtime_drain_connections_total', { outcome: 'forced' }), 1)
  t.equal(await value(registry, 'zero_downtime_drain_requests_cut_total'), 1)
  t.equal(await value(registry, 'zero_downtime_drain_duration_seconds'), done.durationMs / 1000)
  t.equal(done.clean, false)
})

t.test('shed requests are counted; probes (exempt) are not', async (t) => {
  const registry = new Registry()
  const app = Fastify()
  // A 1-byte heap limit: saturated at the first sample, deterministically.
  await app.register(zeroDowntime, { pressure: { maxHeapUsedBytes: 1, maxEventLoopDelayMs: false, sampleIntervalMs: 50 }, metrics: { registry } })
  app.get('/work', async () => ({ ok: true }))
  await app.ready()
  t.teardown(async () => { await app.close() })
  for (let i = 0; i < 200 && !(app.memoryUsage().heapUsed > 0); i++) await new Promise((resolve) => { setTimeout(resolve, 5) })
  t.equal(await value(registry, 'zero_downtime_shed_requests_total'), 0)
  for (let i = 0; i < 3; i++) t.equal((await app.inject('/work')).statusCode, 503)
  await app.inject('/ready')
  await app.inject('/health')
  t.equal(await value(registry, 'zero_downtime_shed_requests_total'), 3)
})

t.test('metrics options are validated at registration', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ registry: {} }, /option "metrics.registry" must be a prom-client Registry/],
    [{ registry: null }, /option "metrics.registry" must be a prom-client Registry.*got null/],
    [{}, /option "metrics.registry" must be a prom-client Registry.*got undefined/],
    ['yes', /option "metrics" must be an object \{ registry \}/],
    [{ registry: new Registry(), prefix: 'x' }, /unknown option "metrics.prefix"/]
  ]
  for (const [metrics, message] of cases) {
    const app = Fastify()
    app.register(zeroDowntime, { metrics: metrics as never, pressure: false })
    await t.rejects(async () => { await app.ready() }, { code: message.source.startsWith('unknown option') ? 'FST_ZD_UNKNOWN_OPTION' : 'FST_ZD_INVALID_OPTION', message }, JSON.stringify(metrics))
  }
  const registry = new Registry()
  const first = Fastify()
  await first.register(zeroDowntime, { metrics: { registry }, pressure: false })
  const second = Fastify()
  second.register(zeroDowntime, { metrics: { registry }, pressure: false })
  await t.rejects(async () => { await second.ready() }, { code: 'FST_ZD_METRICS_CONFLICT', message: /option "metrics.registry" already has zero_downtime_check_up/ })
  await first.close()
})

t.test('after app.close() the metrics stay readable until the next app on the registry takes them over', async (t) => {
  const registry = new Registry()
  for (let i = 1; i <= 3; i++) {
    const app = Fastify()
    await app.register(zeroDowntime, { metrics: { registry }, pressure: false })
    await app.ready()
    t.same((await registry.getMetricsAsJSON()).map((m) => m.name).sort(), [...METRIC_NAMES].sort(), `app ${i} registered`)
    await app.close()
    t.same(await lifecycle(registry), ['stopped'], `app ${i} closed: its last values are still read`)
  }
})

t.test('prom-client is not loaded unless metrics is given', async (t) => {
  const script = (withMetrics: boolean): string => `
    import Fastify from 'fastify'
    import { createRequire } from 'node:module'
    import zeroDowntime from './src/index.ts'
    const opts = { pressure: false }
    ${withMetrics ? "const { Registry } = await import('prom-client'); opts.metrics = { registry: new Registry() }" : ''}
    const app = Fastify()
    await app.register(zeroDowntime, opts)
    await app.ready()
    const cache = createRequire(import.meta.url).cache
    console.log(Object.keys(cache).some((k) => k.includes('/node_modules/prom-client/')))
    await app.close()
  `
  const run = async (withMetrics: boolean): Promise<string> =>
    (await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(withMetrics)], { cwd: new URL('../', import.meta.url).pathname })).stdout.trim()
  t.equal(await run(false), 'false', 'without metrics')
  t.equal(await run(true), 'true', 'with metrics (the check can see it)')
})

t.test('metrics without prom-client installed: registration fails naming the package to install', async (t) => {
  // prom-client made unresolvable for the child as if it were not installed
  // (Node's CommonJS resolver, which the plugin's require goes through,
  // answers what it answers for a missing package); the registry has a
  // Registry's shape, as one from another copy of prom-client would.
  const script = `
    import Module from 'node:module'
    const resolve = Module._resolveFilename
    Module._resolveFilename = function (request, ...rest) {
      if (request === 'prom-client') throw Object.assign(new Error("Cannot find module 'prom-client'"), { code: 'MODULE_NOT_FOUND' })
      return resolve.call(this, request, ...rest)
    }
    const { default: Fastify } = await import('fastify')
    const { default: zeroDowntime } = await import('./src/index.ts')
    const registry = { registerMetric () {}, getSingleMetric () {}, removeSingleMetric () {}, metrics () { return '' } }
    const app = Fastify()
    const err = await app.register(zeroDowntime, { metrics: { registry }, pressure: false }).ready().then(() => undefined, (e) => e)
    console.log(JSON.stringify({ code: err?.code, message: err?.message, cause: err?.cause?.code }))
    await app.close()
  `
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: new URL('../', import.meta.url).pathname })
  t.same(JSON.parse(stdout.trim()), {
    code: 'FST_ZD_PROM_CLIENT_MISSING',
    message: 'fastify-zero-downtime: option "metrics" needs prom-client: npm install prom-client',
    cause: 'MODULE_NOT_FOUND'
  })
})
