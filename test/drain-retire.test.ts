// retire(connection, reason) on each transport tracker, outside any drain (how
// retiring connections by age uses it), over real sockets: HTTP/1.1 answers
// the connection's next response with Connection: close; HTTP/2 gets the
// graceful GOAWAY; each counted under its reason, never twice.
import { once } from 'node:events'
import http from 'node:http'
import http2 from 'node:http2'
import type net from 'node:net'
import t from 'tap'
import { ConnectionTracker } from '../src/drain/connections.js'
import { Http2SessionTracker } from '../src/drain/http2-sessions.js'

async function listen (server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as net.AddressInfo).port
}

t.test('HTTP/1.1: an idle connection retired by age leaves after its next response; a busy one after the one in flight', async (t) => {
  let release!: () => void
  const server = http.createServer((req, res) => {
    if (req.url === '/slow') release = () => { res.end('slow') }
    else res.end('ok')
  })
  const tracker = new ConnectionTracker(server)
  const port = await listen(server)
  t.teardown(() => { server.close() })
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 })
  t.teardown(() => { agent.destroy() })
  const get = (path: string): Promise<http.IncomingMessage> => new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent }, (res) => { res.resume(); resolve(res) }).on('error', reject)
  })
  t.equal((await get('/')).headers.connection, 'keep-alive')
  const [idle] = [...tracker.connections()]
  t.match(idle, { state: 'idle', remoteAddress: '127.0.0.1' })
  t.ok(idle!.openedAt > 0)
  t.equal(tracker.retire(idle!, 'max-age'), true)
  t.equal(idle!.state, 'retiring')
  t.equal(tracker.retire(idle!, 'max-age'), false, 'once')
  const closed = once(tracker, 'change')
  t.equal((await get('/')).headers.connection, 'close', 'its next response says close')
  await closed
  t.equal(tracker.counts.connections, 0, 'and it ended')

  const slow = get('/slow')
  await new Promise<void>((resolve) => { server.once('request', () => { setImmediate(resolve) }) })
  const [busy] = [...tracker.connections()]
  t.equal(busy!.state, 'busy')
  t.equal(tracker.retire(busy!, 'max-age'), true)
  release()
  t.equal((await slow).headers.connection, 'close', 'the response in flight says close')
  t.same(tracker.retiredBy, { 'max-age': 2 })
  t.equal(tracker.endings.served, 0, 'no drain: nothing counted as served during one')
  t.equal(tracker.retire(busy!, 'again'), false, 'a connection that is gone is not retired')
})

t.test('HTTP/1.1: closeIdle before a drain does nothing; during one, an idle connection it half-closed is closing', async (t) => {
  const server = http.createServer((_req, res) => { res.end('ok') })
  const tracker = new ConnectionTracker(server)
  const port = await listen(server)
  t.teardown(() => { server.close() })
  const agent = new http.Agent({ keepAlive: true })
  t.teardown(() => { agent.destroy() })
  await new Promise<void>((resolve, reject) => { http.get({ host: '127.0.0.1', port, agent }, (res) => { res.resume(); res.on('end', resolve) }).on('error', reject) })
  t.equal(tracker.closeIdle(), undefined, 'no drain: nothing to close')
  t.equal(tracker.idleClosing, 0)
  const [c] = [...tracker.connections()]
  await new Promise<void>((resolve) => { setImmediate(resolve) })
  t.equal(c!.state, 'idle')
  tracker.startRetiring({ idleCloseMs: 1, spacingMs: 250 })
  t.equal(c!.state, 'retiring', 'told to leave by the drain')
  // Idle for its 1 ms: the wait is for the condition, not a timing assertion.
  await new Promise<void>((resolve) => { setTimeout(resolve, 5) })
  const closed = once(tracker, 'change')
  tracker.closeIdle()
  t.equal(c!.state, 'closing', 'half-closed, waiting for its client')
  t.equal(tracker.idleClosing, 1)
  await closed
  t.same(tracker.retiredBy, { drain: 1 })
  t.match(tracker.endings, { idleClosed: 1 })
})

t.test('HTTP/2: a session retired by age gets the graceful GOAWAY and ends', async (t) => {
  const server = http2.createServer()
  let held: http2.ServerHttp2Stream | undefined
  server.on('stream', (stream, headers) => {
    stream.respond({ ':status': 200 })
    if (headers[':path'] === '/hold') held = stream
    else stream.end('ok')
  })
  const tracker = new Http2SessionTracker(server)
  const port = await listen(server)
  t.teardown(() => { server.close() })
  const session = http2.connect(`http://127.0.0.1:${port}`)
  session.on('error', () => {})
  await once(session, 'connect')
  await new Promise<void>((resolve) => { setImmediate(resolve) })
  t.equal(tracker.closeIdle(), undefined, 'no drain: nothing to close')
  const [s] = [...tracker.connections()]
  t.match(s, { state: 'idle', remoteAddress: '127.0.0.1' })
  const req = session.request({ ':path': '/hold' })
  await once(req, 'response')
  t.equal(s!.state, 'busy', 'a stream open')
  req.resume()
  held!.end('ok')
  await once(req, 'close')
  await new Promise<void>((resolve) => { setImmediate(resolve) })
  const goaway = once(session, 'goaway')
  t.equal(tracker.retire(s!, 'max-age'), true)
  t.equal(s!.state, 'retiring')
  t.equal(tracker.retire(s!, 'max-age'), false, 'once')
  const [code, lastStreamId] = await goaway as [number, number]
  t.same([code, lastStreamId], [0, 2 ** 31 - 1], 'NO_ERROR, refusing nothing')
  await once(session, 'close')
  t.equal(s!.state, 'closing', 'the final GOAWAY went out')
  t.same(tracker.retiredBy, { 'max-age': 1 })
  t.equal(tracker.counts.connections, 0)
  t.equal(tracker.retire(s!, 'max-age'), false, 'gone')
})
