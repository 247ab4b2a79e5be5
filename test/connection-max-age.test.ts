// Connection max age: options, the jittered deadline on a fake clock, and
// retirement over real sockets (HTTP/1.1 with Node's agent, pipelining, fetch;
// h2c with Node's client), where a connection past its age is retired exactly
// as the drain retires it and nothing fails.
import { EventEmitter, once } from 'node:events'
import http from 'node:http'
import http2 from 'node:http2'
import net from 'node:net'
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import { Pool } from 'undici'
import { ConnectionMaxAge } from '../src/connection-age/max-age.js'
import { CONNECTION_AGE_DEFAULTS, MIN_MAX_AGE_MS, resolveConnectionAge, type ConnectionAgeConfig } from '../src/connection-age/options.js'
import { ConnectionTracker } from '../src/drain/connections.js'
import { Http2SessionTracker } from '../src/drain/http2-sessions.js'
import type { TrackedConnection } from '../src/drain/transport.js'
import zeroDowntime from '../src/index.js'
import { FakeClock } from './helpers/fake-clock.js'
import { until } from './helpers/wait.js'

const AGE: ConnectionAgeConfig = Object.freeze({ maxAgeMs: 10000, jitter: 0.1, graceMs: 5000 })

function port (server: net.Server): number {
  return (server.address() as net.AddressInfo).port
}

t.test('options: on by default, 0 is off, the grace follows drain.requestTimeoutMs, and what cannot work is refused', async (t) => {
  t.same(resolveConnectionAge(undefined, undefined, 10000), { maxAgeMs: CONNECTION_AGE_DEFAULTS.maxAgeMs, jitter: 0.1, graceMs: 10000 })
  t.equal(resolveConnectionAge(0, undefined, 10000).maxAgeMs, 0)
  t.same(resolveConnectionAge(60000, 20000, 10000), { maxAgeMs: 60000, jitter: 0.1, graceMs: 20000 })
  t.type(t.throws(() => resolveConnectionAge(-1, undefined, 10000)), TypeError)
  t.throws(() => resolveConnectionAge(-1, undefined, 10000), { code: 'FST_ZD_INVALID_OPTION', message: /option "connectionMaxAgeMs" must be a non-negative number of milliseconds.*got -1/ })
  t.throws(() => resolveConnectionAge('30s', undefined, 10000), { code: 'FST_ZD_INVALID_OPTION', message: /"connectionMaxAgeMs".*got "30s"/ })
  t.throws(() => resolveConnectionAge(MIN_MAX_AGE_MS - 1, undefined, 10000), { code: 'FST_ZD_INVALID_OPTION', message: /"connectionMaxAgeMs" must be 0 \(off\) or at least 1000 milliseconds.*got 999/ })
  t.throws(() => resolveConnectionAge(2 ** 31 - 1, undefined, 10000), { code: 'FST_ZD_INVALID_OPTION', message: /"connectionMaxAgeMs" must be at most \d+ milliseconds \(with its 10 % jitter\)/ })
  t.throws(() => resolveConnectionAge(30000, 0, 10000), { code: 'FST_ZD_INVALID_OPTION', message: /"connectionMaxAgeGraceMs" must be a positive number/ })
  t.throws(() => resolveConnectionAge(30000, 5000, 10000), { code: 'FST_ZD_INVALID_OPTION', message: /"connectionMaxAgeGraceMs" must be at least drain.requestTimeoutMs \(10000 ms\).*got 5000/ })
  // At registration, as every option.
  const app = Fastify()
  t.teardown(() => app.close())
  app.register(zeroDowntime, { connectionMaxAgeMs: 10, pressure: false })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_ZD_INVALID_OPTION', message: /connectionMaxAgeMs/ })
})

t.test('the deadline: the age ±10 % from the connection\'s opening, drawn once per connection; off puts nothing on the hot path', async (t) => {
  const clock = new FakeClock(1000)
  t.equal(new ConnectionMaxAge(AGE, clock, () => 0).retireAt(1000), 1000 + 9000)
  t.equal(new ConnectionMaxAge(AGE, clock, () => 0.5).retireAt(1000), 1000 + 10000)
  t.ok(new ConnectionMaxAge(AGE, clock, () => 0.999999).retireAt(1000) < 1000 + 11000)
  t.equal(new ConnectionMaxAge({ ...AGE, maxAgeMs: 0 }, clock).onUse(() => true), undefined)
  let draws = 0
  const age = new ConnectionMaxAge(AGE, clock, () => { draws++; return 0.5 })
  const retired: string[] = []
  const onUse = age.onUse<TrackedConnection>((_c, reason) => { retired.push(reason); return retired.length === 1 }, () => { retired.push('after') })!
  const c: TrackedConnection = { openedAt: 1000, remoteAddress: '', state: 'busy' }
  onUse(c)
  await clock.advanceTo(10999)
  onUse(c)
  t.same(retired, [], 'younger than its age')
  await clock.advanceTo(11000)
  onUse(c)
  onUse(c)
  t.same(retired, ['max_age', 'after', 'max_age'], 'retired at its age; what follows only when the tracker did retire it')
  t.equal(draws, 1, 'one draw per connection')
})

t.test('HTTP/2 grace: a session still open after it is destroyed; one that closed first is left alone', async (t) => {
  const clock = new FakeClock()
  const age = new ConnectionMaxAge(AGE, clock)
  const session = (): EventEmitter & { destroyed: number, destroy: () => void } => Object.assign(new EventEmitter(), { destroyed: 0, destroy () { this.destroyed++ } })
  const open = session()
  const closed = session()
  age.graceFor(open)
  age.graceFor(closed)
  t.match(clock.pending, [{ at: AGE.graceMs, keepAlive: false }, { at: AGE.graceMs, keepAlive: false }], 'unref\'ed timers')
  closed.emit('close')
  await clock.advanceTo(AGE.graceMs)
  t.same([open.destroyed, closed.destroyed, age.graceCut], [1, 0, 1])
})

/** An HTTP/1.1 server with a tracker whose age runs on `clock`; each response says which connection (client port) carried it. */
async function h1Server (t: Test, clock: FakeClock, handler?: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<{ server: http.Server, tracker: ConnectionTracker }> {
  const server = http.createServer(handler ?? ((req, res) => { res.end(String(req.socket.remotePort)) }))
  const age = new ConnectionMaxAge(AGE, clock, () => 0.5)
  const tracker: ConnectionTracker = new ConnectionTracker(server, () => Math.round(clock.now()), age.onUse((c, reason) => tracker.retire(c, reason)))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return { server, tracker }
}

async function get (agent: http.Agent, server: http.Server, path = '/'): Promise<{ status: number | undefined, connection: string | undefined, body: string }> {
  const req = http.get({ host: '127.0.0.1', port: port(server), path, agent })
  const [res] = await once(req, 'response') as [http.IncomingMessage]
  let body = ''
  for await (const chunk of res) body += String(chunk)
  return { status: res.statusCode, connection: res.headers.connection, body }
}

t.test('HTTP/1.1 with Node\'s agent: an idle old connection stays open; its next response carries Connection: close; the next request comes on a new connection', async (t) => {
  const clock = new FakeClock()
  const { server, tracker } = await h1Server(t, clock)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => { agent.destroy() })
  const first = await get(agent, server)
  t.same({ status: first.status, connection: first.connection }, { status: 200, connection: 'keep-alive' })
  t.equal((await get(agent, server)).body, first.body, 'younger than its age: reused')
  await clock.advanceTo(10001)
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(tracker.counts.connections, 1, 'idle past its age: not closed (that would race the client)')
  const last = await get(agent, server)
  t.same({ status: last.status, connection: last.connection, body: last.body }, { status: 200, connection: 'close', body: first.body }, 'the next request is answered, with Connection: close')
  const next = await get(agent, server)
  t.equal(next.status, 200)
  t.not(next.body, first.body, 'then a new connection')
  t.equal(next.connection, 'keep-alive', 'whose own age starts now')
  t.same(tracker.retiredBy, { max_age: 1 })
  t.same(tracker.discarded, [])
})

t.test('HTTP/1.1 pipelining past the age: every request already read is answered, only the last with Connection: close', async (t) => {
  const clock = new FakeClock()
  const { server, tracker } = await h1Server(t, clock, (req, res) => {
    // The first answers last: the close must move to the request read last.
    setTimeout(() => { res.end(String(req.url)) }, req.url === '/a' ? 50 : 0)
  })
  const socket = net.connect(port(server), '127.0.0.1')
  await once(socket, 'connect')
  await clock.advanceTo(10001)
  let raw = ''
  socket.on('data', (chunk) => { raw += String(chunk) })
  socket.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n')
  await once(socket, 'close')
  const responses = raw.split('HTTP/1.1 ').slice(1)
  t.equal(responses.length, 3)
  t.same(responses.map((r) => [r.slice(0, 3), /connection: (\S+)/i.exec(r)?.[1], r.slice(-2)]), [['200', 'keep-alive', '/a'], ['200', 'keep-alive', '/b'], ['200', 'close', '/c']])
  t.same(tracker.retiredBy, { max_age: 1 })
  t.same(tracker.discarded, [])
})

t.test('HTTP/1.1: an old connection retiring when the drain starts is watched once, and one cut before any drain is reported once', async (t) => {
  const clock = new FakeClock()
  let release!: () => void
  const held = new Promise<void>((resolve) => { release = resolve })
  const { server, tracker } = await h1Server(t, clock, (req, res) => {
    if (req.url === '/hold') void held.then(() => { res.end('held') })
    else res.end('ok')
  })
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => { agent.destroy() })
  await get(agent, server)
  await clock.advanceTo(10001)
  const holding = get(agent, server, '/hold')
  await until(() => tracker.counts.inFlight === 1, 'the old connection\'s request in flight')
  tracker.startRetiring({ idleCloseMs: 100, spacingMs: 0 })
  t.equal(tracker.counts.inFlight, 1, 'not watched twice')
  release()
  t.same(await holding, { status: 200, connection: 'close', body: 'held' })
  await until(() => tracker.counts.connections === 0, 'retired')
  t.match(tracker.stats, { servedDuringDrain: 1, retired: 1, forced: 0 })
  t.same(tracker.retiredBy, { max_age: 1 }, 'told to leave once, for its age')

  const clock2 = new FakeClock()
  const again = await h1Server(t, clock2, (_req, _res) => {})
  const socket = net.connect(port(again.server), '127.0.0.1')
  t.teardown(() => { socket.destroy() })
  await once(socket, 'connect')
  await clock2.advanceTo(10001)
  socket.write('GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n')
  await until(() => again.tracker.retiredBy.max_age === 1, 'retired at its first request (its clock already past the age)')
  t.same(again.tracker.cut().map((r) => r.url), ['/stuck'], 'cut before any drain: reported once')
})

t.test('HTTP/1.1 with undici (Node\'s fetch): requests keep succeeding across the age, on a new connection after it', async (t) => {
  const clock = new FakeClock()
  const { server, tracker } = await h1Server(t, clock)
  const pool = new Pool(`http://127.0.0.1:${port(server)}`, { connections: 1 })
  t.teardown(() => pool.destroy())
  const ports: string[] = []
  const headers: unknown[] = []
  const request = async (): Promise<void> => {
    const res = await pool.request({ path: '/', method: 'GET' })
    t.equal(res.statusCode, 200)
    headers.push(res.headers.connection)
    ports.push(await res.body.text())
  }
  for (let i = 0; i < 3; i++) await request()
  await clock.advanceTo(10001)
  for (let i = 0; i < 3; i++) await request()
  t.same(headers, ['keep-alive', 'keep-alive', 'keep-alive', 'close', 'keep-alive', 'keep-alive'])
  t.equal(new Set(ports.slice(0, 4)).size, 1, 'one connection until the age')
  t.equal(new Set(ports.slice(4)).size, 1)
  t.not(ports[4], ports[0], 'a new one after it')
  t.same(tracker.retiredBy, { max_age: 1 })
})

t.test('HTTP/2: a stream on an old session is served, the session gets the two-step GOAWAY; one that outlives the grace is destroyed', async (t) => {
  const clock = new FakeClock()
  const server = http2.createServer()
  const age = new ConnectionMaxAge(AGE, clock, () => 0.5)
  const tracker: Http2SessionTracker = new Http2SessionTracker(server, { clock, onUse: age.onUse((s, reason) => tracker.retire(s, reason), (s) => { age.graceFor(s.session) }) })
  const holds: http2.ServerHttp2Stream[] = []
  server.on('stream', (stream, headers) => {
    if (headers[':path'] === '/hold') holds.push(stream)
    else {
      stream.respond({ ':status': 200 })
      stream.end(String(headers[':path']))
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  const url = `http://127.0.0.1:${port(server)}`
  const request = async (session: http2.ClientHttp2Session, path: string): Promise<string> => {
    const req = session.request({ ':path': path })
    let body = ''
    req.on('data', (chunk) => { body += String(chunk) })
    const [headers] = await once(req, 'response') as [http2.IncomingHttpHeaders]
    await once(req, 'end')
    return `${String(headers[':status'])} ${body}`
  }
  const session = http2.connect(url)
  t.teardown(() => { session.destroy() })
  t.equal(await request(session, '/young'), '200 /young')
  await clock.advanceTo(10001)
  t.equal(tracker.counts.connections, 1, 'idle past its age: no GOAWAY')
  const goaway = once(session, 'goaway') as Promise<[number, number]>
  // Two streams at once: the second arrives on a session already told to go away, and is served too.
  t.same(await Promise.all([request(session, '/old-1'), request(session, '/old-2')]), ['200 /old-1', '200 /old-2'])
  t.equal((await goaway)[0], http2.constants.NGHTTP2_NO_ERROR)
  await once(session, 'close')
  t.same(tracker.retiredBy, { max_age: 1 })
  t.equal(tracker.stats.goaways, 1)
  t.equal(age.graceCut, 0)
  const fresh = http2.connect(url)
  t.teardown(() => { fresh.destroy() })
  t.equal(await request(fresh, '/new'), '200 /new', 'the next request, on a new session')

  // A stream that outlives the grace: the session is destroyed after it.
  await clock.advanceTo(30000)
  const held = fresh.request({ ':path': '/hold' })
  held.on('error', () => {})
  await until(() => holds.length === 1, 'the held stream reached the server')
  t.same(tracker.retiredBy, { max_age: 2 })
  await clock.advanceTo(30000 + AGE.graceMs)
  t.equal(age.graceCut, 1)
  await once(held, 'close')
  await until(() => tracker.counts.connections === 0, 'the session destroyed')
})

t.test('the plugin, on the real clock: past connectionMaxAgeMs the agent\'s next request comes on a new connection; the report and the metrics count it', async (t) => {
  const { Registry } = await import('prom-client')
  const registry = new Registry()
  const app = Fastify()
  await app.register(zeroDowntime, { connectionMaxAgeMs: MIN_MAX_AGE_MS, pressure: false, metrics: { registry }, drain: { delayMs: 0, idleCloseMs: 100, requestTimeoutMs: 2000 } })
  app.get('/', async (req) => ({ port: req.socket.remotePort }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => { agent.destroy() })
  const ports = new Set<string>()
  let failed = 0
  let closes = 0
  // Bounded by its own count; ends once a second connection carried a request.
  for (let i = 0; i < 400 && ports.size < 2; i++) {
    const res = await get(agent, app.server)
    if (res.status !== 200) failed++
    if (res.connection === 'close') closes++
    ports.add(res.body)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  t.equal(failed, 0)
  t.equal(ports.size, 2, 'a new connection after the age')
  t.equal(closes, 1, 'the old one retired with Connection: close')
  t.match(await registry.getSingleMetricAsString('zero_downtime_connections_retired_total'), /reason="max_age"\} 1/)
  const report = await app.zeroDowntime.drain('test')
  t.match(report.retiredBy, { max_age: 1 })
})

t.test('docs/probes.md states the default that CONNECTION_AGE_DEFAULTS holds', async (t) => {
  const { readFile } = await import('node:fs/promises')
  const docs = await readFile(new URL('../docs/probes.md', import.meta.url), 'utf8')
  t.match(docs, `| \`connectionMaxAgeMs\` | \`${CONNECTION_AGE_DEFAULTS.maxAgeMs}\` |`)
})

t.test('the plugin over h2c, on the real clock: past connectionMaxAgeMs a session gets GOAWAY after serving its stream, and the next stream goes on a new session', async (t) => {
  const app = Fastify({ http2: true })
  await app.register(zeroDowntime, { connectionMaxAgeMs: MIN_MAX_AGE_MS, pressure: false, drain: { delayMs: 0, idleCloseMs: 100, requestTimeoutMs: 2000 } })
  app.get('/', async () => 'ok')
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${port(app.server)}`
  let session = http2.connect(url)
  let sessions = 1
  let failed = 0
  let goaways = 0
  const watch = (s: http2.ClientHttp2Session): void => {
    s.on('goaway', () => { goaways++ })
    s.on('error', () => {})
  }
  watch(session)
  // Bounded by its own count; ends once a second session carried a stream.
  for (let i = 0; i < 400 && sessions < 3; i++) {
    if (session.closed || session.destroyed || goaways >= sessions) {
      session.close()
      session = http2.connect(url)
      watch(session)
      sessions++
    }
    const req = session.request({ ':path': '/' })
    req.resume()
    const [headers] = await once(req, 'response') as [http2.IncomingHttpHeaders]
    if (Number(headers[':status']) !== 200) failed++
    await once(req, 'end')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  session.close()
  t.equal(failed, 0)
  t.equal(sessions, 3, 'two sessions retired for their age, each followed by a new one')
  const report = await app.zeroDowntime.drain('test')
  t.match(report.retiredBy, { max_age: 2 })
})
