// Both trackers tell the drain "something changed" as events, in process, over
// real sockets: a closed HTTP/1.1 connection, a completed request during the
// drain, a closed HTTP/2 session.
import { once } from 'node:events'
import http from 'node:http'
import { execFileSync } from 'node:child_process'
import http2 from 'node:http2'
import net from 'node:net'
import t from 'tap'
import { ConnectionTracker } from '../src/drain/connections.js'
import { Http2SessionTracker } from '../src/drain/http2-sessions.js'

async function listen (server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as net.AddressInfo).port
}

t.test('ConnectionTracker emits change when a connection closes and when a request completes', async (t) => {
  const server = http.createServer((_req, res) => { res.end('ok') })
  const tracker = new ConnectionTracker(server)
  const port = await listen(server)
  t.teardown(() => { server.close() })
  let changes = 0
  tracker.on('change', () => { changes++ })

  const accepted = once(server, 'connection')
  const socket = net.connect(port, '127.0.0.1')
  await accepted
  t.equal(tracker.counts.connections, 1, 'the connection is tracked')
  socket.end()
  await once(tracker, 'change')
  t.equal(tracker.counts.connections, 0, 'gone when change fired')

  tracker.startRetiring({ idleCloseMs: 60_000, spacingMs: 250 })
  const before = changes
  const agent = new http.Agent({ keepAlive: true })
  t.teardown(() => { agent.destroy() })
  const completed = once(tracker, 'change')
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent }, resolve).on('error', reject)
  })
  res.resume()
  await completed
  t.ok(changes > before, 'a request completed during the drain')
  t.equal(res.headers.connection, 'close', 'and it was retired')
})

// The server accepts a socket its client has already reset, whose peer
// address the kernel no longer gives (getpeername: ENOTCONN), so Node's
// remoteAddress is undefined: the test's event loop is blocked while a child
// connects and resets.
const RESETS = [
  { name: 'ConnectionTracker lists a connection', event: 'connection', start: (): [net.Server, ConnectionTracker | Http2SessionTracker] => { const s = http.createServer((_req, res) => { res.end('ok') }); return [s, new ConnectionTracker(s)] } },
  { name: 'Http2SessionTracker lists a session', event: 'session', start: (): [net.Server, ConnectionTracker | Http2SessionTracker] => { const s = http2.createServer(); return [s, new Http2SessionTracker(s)] } }
] as const

for (const c of RESETS) {
  t.test(`${c.name} whose client reset it before the accept, with an empty remoteAddress`, async (t) => {
    const [server, tracker] = c.start()
    const port = await listen(server)
    t.teardown(() => { server.close() })
    let listed: unknown
    server.on(c.event, () => { listed = [...tracker.connections()].map((x) => x.remoteAddress) })
    const accepted = once(server, c.event)
    execFileSync(process.execPath, ['-e', `const s = require('node:net').connect(${port}, '127.0.0.1', () => { s.resetAndDestroy() }); s.on('error', () => {})`])
    await accepted
    t.same(listed, [''], 'tracked, with no address to tell')
    if (tracker.counts.connections > 0) await once(tracker, 'change')
    t.equal(tracker.counts.connections, 0, 'gone once the reset is read')
  })
}

t.test('Http2SessionTracker emits change when a session closes', async (t) => {
  const server = http2.createServer()
  server.on('stream', (stream) => { stream.respond({ ':status': 200 }); stream.end('ok') })
  const tracker = new Http2SessionTracker(server)
  const port = await listen(server)
  t.teardown(() => { server.close() })
  const accepted = once(server, 'session')
  const session = http2.connect(`http://127.0.0.1:${port}`)
  await Promise.all([once(session, 'connect'), accepted])
  t.equal(tracker.counts.connections, 1, 'the session is tracked')
  const changed = once(tracker, 'change')
  session.close()
  await changed
  t.equal(tracker.counts.connections, 0, 'gone when change fired')
})
