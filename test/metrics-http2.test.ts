// The drain metrics and report of an HTTP/2 service, over real h2c sessions:
// streams served during the drain are counted, a stream its client reset is
// not, and sessions are counted by how they ended (issue 22, issue 27 item 5).
import { once } from 'node:events'
import http2 from 'node:http2'
import type net from 'node:net'
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { Registry } from 'prom-client'
import zeroDowntime from '../src/index.js'
import { QUICK_DRAIN } from './fixtures/drain/app.js'
import { connect } from './fixtures/drain/h2-client.js'

async function value (registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const { values } = await registry.getSingleMetric(name)!.get()
  return values.find((v) => JSON.stringify(v.labels) === JSON.stringify(labels))?.value
}

/** Resolves with the stream's status once its response ended. */
function get (session: http2.ClientHttp2Session, path: string): { stream: http2.ClientHttp2Stream, status: Promise<number> } {
  const stream = session.request({ ':path': path })
  stream.on('error', () => {})
  stream.resume()
  const status = new Promise<number>((resolve) => {
    let code = 0
    stream.on('response', (headers) => { code = Number(headers[':status']) })
    stream.on('close', () => { resolve(code) })
  })
  return { stream, status }
}

t.test('an h2c drain counts its streams and sessions; a stream the client reset is not served', async (t) => {
  const registry = new Registry()
  const app = Fastify({ http2: true }) as unknown as FastifyInstance
  await app.register(zeroDowntime, { pressure: false, drain: QUICK_DRAIN, metrics: { registry } })
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  let arrived = 0
  let arrive!: () => void
  const twoArrived = new Promise<void>((resolve) => { arrive = () => { if (++arrived === 2) resolve() } })
  app.get('/', async () => ({ ok: true }))
  app.get('/slow', async () => { arrive(); await released; return { ok: true } })
  app.get('/hang', async () => { arrive(); await new Promise(() => {}) })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  const url = `http://127.0.0.1:${(app.server.address() as net.AddressInfo).port}`

  const busy = await connect(url)
  t.equal(await get(busy, '/').status, 200, 'served before the drain: not counted')
  const idle = await connect(url)
  const slow = get(busy, '/slow')
  const hang = get(busy, '/hang')
  await twoArrived
  const report = app.zeroDowntime.drain('metrics test', { delayMs: 0, idleCloseMs: 0 })
  await once(idle, 'close')
  hang.stream.close(http2.constants.NGHTTP2_CANCEL)
  await hang.status
  release()
  t.equal(await slow.status, 200)
  const done = await report

  t.equal(done.clean, true)
  t.equal(done.servedDuringDrain, 1, 'the /slow stream; not the reset /hang one')
  t.match(done.http2, { sessions: 2, streams: 3, streamsServed: 1, retired: 1, closedByClient: 0, idleClosed: 1, forced: 0 })
  t.equal(await value(registry, 'zero_downtime_drain_requests_served_total'), 1)
  t.equal(await value(registry, 'zero_downtime_drain_connections_total', { outcome: 'retired' }), 1, 'the busy session, after its GOAWAY')
  t.equal(await value(registry, 'zero_downtime_drain_connections_total', { outcome: 'idle_closed' }), 1, 'the idle session')
  t.equal(await value(registry, 'zero_downtime_drain_connections_total', { outcome: 'forced' }), 0)
  t.equal(await value(registry, 'zero_downtime_drain_requests_cut_total'), 0)
})

t.test('an h2c session its client closes during the drain is counted closed_by_client', async (t) => {
  const registry = new Registry()
  const app = Fastify({ http2: true }) as unknown as FastifyInstance
  await app.register(zeroDowntime, { pressure: false, drain: QUICK_DRAIN, metrics: { registry } })
  app.get('/', async () => ({ ok: true }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  const session = await connect(`http://127.0.0.1:${(app.server.address() as net.AddressInfo).port}`)
  // Idle for a minute before the drain would tell it to go away: its client leaves first.
  const report = app.zeroDowntime.drain('metrics test', { delayMs: 0, idleCloseMs: 60_000 })
  session.close()
  const done = await report
  t.match(done.http2, { sessions: 1, retired: 0, closedByClient: 1, idleClosed: 0, forced: 0 })
  t.equal(await value(registry, 'zero_downtime_drain_connections_total', { outcome: 'closed_by_client' }), 1)
})
