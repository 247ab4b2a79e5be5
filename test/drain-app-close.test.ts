// app.close() called by anyone (a test, an embedding app, close-with-grace)
// runs the same drain as SIGTERM, once, before Fastify's own close handler:
// promptly when no termination signal announced it, with the drain delay
// when one did; never bound by pluginTimeout; no Fastify closing 503.
import http from 'node:http'
import { once } from 'node:events'
import net from 'node:net'
import t from 'tap'
import { drainControllerOf } from '../src/plugin.js'
import { drainApp } from './fixtures/drain/app.js'
import { signalLine, step, stepOrder } from './helpers/drain-log.js'

function port (app: { server: net.Server }): number {
  return (app.server.address() as net.AddressInfo).port
}

async function get (p: number, path: string, agent: http.Agent | false = false): Promise<{ status: number, connection: string | undefined, body: string }> {
  const req = http.get({ host: '127.0.0.1', port: p, path, agent })
  const [res] = await once(req, 'response') as [http.IncomingMessage]
  let body = ''
  for await (const chunk of res) body += String(chunk)
  return { status: res.statusCode ?? 0, connection: res.headers.connection, body }
}

t.test('app.close() with no signal drains at once: in-flight answered with Connection: close, idle closed, cleanups in order', async (t) => {
  const { app, logs } = await drainApp({ delayMs: 5000, idleCloseMs: 5000 })
  const order: string[] = []
  app.zeroDowntime.addCleanup('caches', 'redis', () => { order.push('caches') })
  app.zeroDowntime.addCleanup('databases', 'pg', () => { order.push('databases') })
  let arrived!: () => void
  const inFlight = new Promise<void>((resolve) => { arrived = resolve })
  app.get('/slow', async () => {
    arrived()
    await new Promise((resolve) => setTimeout(resolve, 200))
    return { ok: true }
  })
  app.get('/', async () => ({ ok: true }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const agent = new http.Agent({ keepAlive: true })
  t.teardown(() => { agent.destroy() })
  t.equal((await get(port(app), '/', agent)).status, 200, 'an idle pooled connection')
  const slow = get(port(app), '/slow')
  await inFlight
  await app.close()
  t.same(await slow, { status: 200, connection: 'close', body: '{"ok":true}' })
  t.same(order, ['databases', 'caches'])
  t.match(logs.find((l) => l.drain === 'signal'), { reason: 'app.close() called', delayMs: 0, idleCloseMs: 0 })
  const report = await app.zeroDowntime.drain()
  t.match(report, { clean: true, reason: 'app.close() called', connections: { forced: 0 } })
  // The answered one closes by itself or, idle at once, by the drain: whichever comes first.
  t.equal(report.connections.retired + report.connections.idleClosed, 2, 'both connections ended without a cut')
  t.equal(logs.filter((l) => l.drain === 'stopped').length, 1, 'one report')
  t.equal(app.zeroDowntime.state, 'stopped')
})

t.test('an app.close() a signal announced drains like SIGTERM, and Fastify\'s closing 503 never shows', async (t) => {
  // Fastify's default return503OnClosing: true.
  const { app, logs } = await drainApp({ delayMs: 400 })
  app.get('/', async () => ({ ok: true }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  drainControllerOf(app)!.announce('SIGTERM', {})
  const closed = app.close()
  await new Promise<void>((resolve) => { app.zeroDowntime.once('state', () => { resolve() }) })
  t.same(await get(port(app), '/'), { status: 200, connection: 'close', body: '{"ok":true}' }, 'a late request is served, not given 503')
  t.equal((await get(port(app), '/ready')).status, 503, 'readiness 503')
  await closed
  t.match(logs.find((l) => l.drain === 'signal'), { reason: 'SIGTERM', delayMs: 400 })
  t.match(await app.zeroDowntime.drain(), { clean: true, servedDuringDrain: 2 })
})

t.test('the drain inside app.close() is not cut by pluginTimeout', async (t) => {
  // Fastify bounds each preClose hook by pluginTimeout; the drain runs before them.
  const { app, logs } = await drainApp({ delayMs: 600 }, { pluginTimeout: 100 })
  await app.listen({ port: 0, host: '127.0.0.1' })
  drainControllerOf(app)!.announce('SIGTERM', {})
  await app.close()
  // Cut by pluginTimeout, close() would have settled (or failed) while the
  // drain was still in its delay: every step is logged by the time it resolved.
  t.same(stepOrder(logs, ['signal', 'delay-over', 'listener-closed', 'http-drained', 'stopped']),
    ['signal', 'delay-over', 'listener-closed', 'http-drained', 'stopped'], 'the whole drain ran inside close()')
  t.equal(signalLine(logs).delayMs, 600, 'with the whole delay')
  t.notOk(step(logs, 'cut'), 'nothing cut it short')
  t.match(await app.zeroDowntime.drain(), { clean: true })
})

t.test('drain() and app.close() at once: one drain, one report', async (t) => {
  const { app, logs } = await drainApp()
  let ran = 0
  app.zeroDowntime.addCleanup('databases', 'pg', () => { ran++ })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const [closed, report] = await Promise.all([app.close(), app.zeroDowntime.drain('SIGTERM')])
  t.equal(closed, undefined)
  t.equal(report.clean, true)
  t.equal(ran, 1)
  for (const step of ['signal', 'http-drained', 'stopped']) t.equal(logs.filter((l) => l.drain === step).length, 1, `one "${step}"`)
})

t.test('an app closed before it was ever ready still runs its cleanups', async (t) => {
  const { app } = await drainApp()
  let ran = false
  app.zeroDowntime.addCleanup('databases', 'pg', () => { ran = true })
  await app.close()
  t.equal(ran, true)
  t.equal(app.zeroDowntime.state, 'stopped')
})

t.test('the plugin\'s signal listeners live as long as its app: many apps, no leak, no MaxListenersExceededWarning', async (t) => {
  const warnings: Error[] = []
  const onWarning = (w: Error): void => { warnings.push(w) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  const before = { term: process.listenerCount('SIGTERM'), int: process.listenerCount('SIGINT') }
  for (let i = 0; i < 15; i++) {
    const { app } = await drainApp()
    await app.listen({ port: 0, host: '127.0.0.1' })
    t.same([process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')], [before.term + 1, before.int + 1])
    await app.close()
  }
  t.same({ term: process.listenerCount('SIGTERM'), int: process.listenerCount('SIGINT') }, before)
  await new Promise((resolve) => setImmediate(resolve))
  t.same(warnings.filter((w) => w.name === 'MaxListenersExceededWarning'), [])
})
