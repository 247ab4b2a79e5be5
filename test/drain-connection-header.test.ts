// A route that sets `Connection: keep-alive` itself, however it sets it, does
// not keep a connection the drain retires: its response still says
// `Connection: close` and the connection ends after it (issue 27 item 5).
import { once } from 'node:events'
import net from 'node:net'
import t from 'tap'
import { drainApp } from './fixtures/drain/app.js'

/** One keep-alive request on a raw socket; resolves with the whole response once the server closed the connection. */
async function rawGet (port: number, path: string): Promise<{ response: Promise<string>, closed: Promise<unknown> }> {
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  socket.on('error', () => {})
  let text = ''
  socket.on('data', (chunk) => { text += String(chunk) })
  const closed = once(socket, 'close')
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`)
  return { response: closed.then(() => text), closed }
}

t.test('Connection: keep-alive set by a route (reply.header, raw setHeader, writeHead object or array) gives way to the drain\'s close', async (t) => {
  const { app } = await drainApp({ idleCloseMs: 60_000, gracePeriodMs: 120_000 })
  let arrived = 0
  let arrive!: () => void
  const allArrived = new Promise<void>((resolve) => { arrive = () => { if (++arrived === 8) resolve() } })
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  const hold = async (): Promise<void> => { arrive(); await released }
  app.get('/reply-header', async (_req, reply) => { await hold(); return await reply.header('Connection', 'keep-alive').send('a') })
  app.get('/set-header', async (_req, reply) => { await hold(); reply.raw.setHeader('connection', 'Keep-Alive'); return 'b' })
  app.get('/write-head-object', async (_req, reply) => {
    await hold()
    reply.hijack()
    reply.raw.writeHead(200, { 'content-type': 'text/plain', CONNECTION: 'keep-alive' })
    reply.raw.end('c')
  })
  app.get('/write-head-array', async (_req, reply) => {
    await hold()
    reply.hijack()
    reply.raw.writeHead(200, 'OK', ['content-type', 'text/plain', 'Connection', 'keep-alive'])
    reply.raw.end('d')
  })
  // Set earlier, with headers given at writeHead that do not name it again.
  const earlier: Array<[string, unknown[]]> = [
    ['/set-then-flat', [['content-type', 'text/plain']]],
    ['/set-then-object', [{ 'content-type': 'text/plain' }]],
    ['/set-then-status-message', ['OK']],
    ['/set-then-status-only', []]
  ]
  for (const [path, rest] of earlier) {
    app.get(path, async (_req, reply) => {
      await hold()
      reply.hijack()
      reply.raw.setHeader('Connection', 'keep-alive')
      reply.raw.setHeader('content-type', 'text/plain')
      ;(reply.raw.writeHead as (...args: unknown[]) => unknown)(200, ...rest)
      reply.raw.end('f')
    })
  }
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  const port = (app.server.address() as net.AddressInfo).port
  const paths = ['/reply-header', '/set-header', '/write-head-object', '/write-head-array', '/set-then-flat', '/set-then-object', '/set-then-status-message', '/set-then-status-only']
  const requests = await Promise.all(paths.map((p) => rawGet(port, p)))
  await allArrived
  const report = app.zeroDowntime.drain('test', { delayMs: 0 })
  release()
  for (const [i, r] of requests.entries()) {
    const response = await r.response
    t.match(response, /^HTTP\/1\.1 200/, String(paths[i]))
    t.match(response, /\r\nconnection: close\r\n/i, `${paths[i]}: Connection: close`)
    t.notMatch(response, /keep-alive/i, `${paths[i]}: the route's keep-alive is gone`)
  }
  const done = await report
  t.match(done, { clean: true, connections: { retired: 8, forced: 0 } }, 'each connection ended after its response, none held to the deadline')
})

t.test('before the drain, and for a request that is not its connection\'s last, the route\'s header stands', async (t) => {
  const { app } = await drainApp()
  app.get('/', async (_req, reply) => await reply.header('Connection', 'keep-alive').send('a'))
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  const socket = net.connect((app.server.address() as net.AddressInfo).port, '127.0.0.1')
  await once(socket, 'connect')
  const [chunk] = await (async () => {
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    return await once(socket, 'data') as [Buffer]
  })()
  t.match(String(chunk), /\r\nconnection: keep-alive\r\n/i)
  socket.destroy()
})
