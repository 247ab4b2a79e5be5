// Pipelined requests (several in one write) at and during the drain, over a
// real socket: Node parses them all at once, runs their handlers and queues
// their responses; every one the server read must be answered, only the last
// with Connection: close, or be reported as cut.
import { once } from 'node:events'
import net from 'node:net'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { drainControllerOf } from '../src/plugin.js'
import { drainApp } from './fixtures/drain/app.js'

interface Response { status: number, connection: string | undefined, body: string }

/** Reads HTTP/1.1 responses (content-length or chunked) from a socket until the server ends it. */
function responses (socket: net.Socket): { all: Response[], headersOf: (n: number) => Promise<void>, ended: Promise<Response[]> } {
  let buffer = ''
  const all: Response[] = []
  const waiters: Array<{ n: number, resolve: () => void }> = []
  let headersSeen = 0
  socket.setEncoding('latin1')
  socket.on('data', (chunk: string) => {
    buffer += chunk
    for (;;) {
      const end = buffer.indexOf('\r\n\r\n')
      if (end === -1) break
      const head = buffer.slice(0, end).split('\r\n')
      const headers = new Map(head.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]))
      if (headersSeen === all.length) {
        headersSeen++
        for (const w of waiters.filter((w) => w.n <= headersSeen)) w.resolve()
      }
      let rest = buffer.slice(end + 4)
      let body: string
      if (headers.get('transfer-encoding') === 'chunked') {
        const last = rest.indexOf('0\r\n\r\n')
        if (last === -1) break
        body = rest.slice(0, last).replace(/(^|\r\n)[0-9a-f]+\r\n/g, '').replace(/\r\n$/, '')
        rest = rest.slice(last + 5)
      } else {
        const length = Number(headers.get('content-length'))
        if (rest.length < length) break
        body = rest.slice(0, length)
        rest = rest.slice(length)
      }
      all.push({ status: Number(head[0]?.split(' ')[1]), connection: headers.get('connection'), body })
      buffer = rest
    }
  })
  const ended = new Promise<Response[]>((resolve) => { socket.once('close', () => { resolve(all) }) })
  return { all, ended, headersOf: async (n) => { await new Promise<void>((resolve) => { waiters.push({ n, resolve }); if (headersSeen >= n) resolve() }) } }
}

/** A gate the handlers wait on, and a record of which handlers have run (their side effects). */
function gated (app: FastifyInstance): { ran: string[], release: () => void, started: (n: number) => Promise<void> } {
  const ran: string[] = []
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  const waiters: Array<() => void> = []
  const handler = (name: string, wait: boolean) => async (): Promise<string> => {
    ran.push(name)
    for (const w of waiters.splice(0)) w()
    if (wait) await gate
    return name
  }
  app.get('/slow', handler('slow', true))
  app.post('/orders', handler('orders', true))
  app.get('/last', handler('last', true))
  app.get('/quick', handler('quick', false))
  app.post('/quick-order', handler('quick-order', false))
  const started = async (n: number): Promise<void> => {
    while (ran.length < n) await new Promise<void>((resolve) => { waiters.push(resolve) })
  }
  return { ran, release, started }
}

const POST = (path: string): string => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"qty": 1 }`
const GET = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`

async function connect (app: FastifyInstance): Promise<net.Socket> {
  const socket = net.connect((app.server.address() as net.AddressInfo).port, '127.0.0.1')
  await once(socket, 'connect')
  return socket
}

t.test('pipelined requests in flight at drain start are all answered, only the last with Connection: close', async (t) => {
  const { app } = await drainApp({ idleCloseMs: 8000 })
  const h = gated(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const socket = await connect(app)
  const read = responses(socket)
  socket.write(GET('/slow') + POST('/orders') + GET('/last'))
  await h.started(3)
  t.same([...h.ran].sort(), ['last', 'orders', 'slow'], 'Node ran every handler of the write, the POST included')
  const report = app.zeroDowntime.drain('pipelined')
  h.release()
  const answered = await read.ended
  t.same(answered.map((r) => [r.status, r.body, r.connection]), [
    [200, 'slow', 'keep-alive'],
    [200, 'orders', 'keep-alive'],
    [200, 'last', 'close']
  ], 'answered in order; the last one closes the connection')
  t.match(await report, { clean: true, cut: [], servedDuringDrain: 3, connections: { retired: 1, idleClosed: 0, forced: 0 } })
})

t.test('responses composed before the drain keep their header: nothing is lost, the connection is retired as idle', async (t) => {
  const { app } = await drainApp({ idleCloseMs: 100 })
  const h = gated(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const socket = await connect(app)
  const read = responses(socket)
  socket.write(GET('/slow') + POST('/quick-order') + GET('/quick'))
  await h.started(3)
  const report = app.zeroDowntime.drain('pipelined, answered already')
  h.release()
  const answered = await read.ended
  t.same(answered.map((r) => [r.body, r.connection]), [['slow', 'keep-alive'], ['quick-order', 'keep-alive'], ['quick', 'keep-alive']])
  t.match(await report, { clean: true, cut: [], servedDuringDrain: 3, connections: { idleClosed: 1, forced: 0 } })
})

t.test('requests pipelined during the drain: all answered, the last with Connection: close', async (t) => {
  const { app } = await drainApp({ idleCloseMs: 8000 })
  const h = gated(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const socket = await connect(app)
  const read = responses(socket)
  const report = app.zeroDowntime.drain('pipelined later')
  socket.write(GET('/slow') + POST('/orders') + POST('/quick-order') + GET('/last'))
  await h.started(4)
  h.release()
  const answered = await read.ended
  t.same(answered.map((r) => [r.body, r.connection]), [['slow', 'keep-alive'], ['orders', 'keep-alive'], ['quick-order', 'keep-alive'], ['last', 'close']])
  t.match(await report, { clean: true, cut: [], servedDuringDrain: 4, connections: { retired: 1 } })
})

t.test('a request pipelined after the connection\'s last response went out is reported as cut', async (t) => {
  const { app, logs } = await drainApp({ idleCloseMs: 8000 })
  const h = gated(app)
  let finish!: () => void
  const finished = new Promise<void>((resolve) => { finish = resolve })
  app.get('/stream', (request, reply) => {
    reply.hijack()
    reply.raw.writeHead(200, { 'content-type': 'text/plain' })
    reply.raw.write('first')
    void finished.then(() => { reply.raw.end() })
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const socket = await connect(app)
  const read = responses(socket)
  const report = app.zeroDowntime.drain('pipelined past close')
  socket.write(GET('/stream'))
  await read.headersOf(1)
  // The client has the `Connection: close` headers, and pipelines one more anyway.
  socket.write(POST('/quick-order?token=s3cret'))
  await h.started(1)
  finish()
  const answered = await read.ended
  t.same(answered.map((r) => [r.body, r.connection]), [['first', 'close']])
  t.same(h.ran, ['quick-order'], 'its handler ran: Node had read it')
  const r = await report
  t.match(r, { clean: false, cut: [{ method: 'POST', url: '/quick-order?token=[redacted]' }], connections: { forced: 0 } })
  t.match(logs.find((l) => l.drain === 'cut'), { reason: 'pipelined after Connection: close', requests: [{ method: 'POST' }] })
})

t.test('an abort before the drain cuts the pipelined requests too', async (t) => {
  const { app } = await drainApp()
  const h = gated(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const socket = await connect(app)
  socket.on('error', () => {})
  socket.write(GET('/slow') + POST('/orders') + GET('/quick') + GET('/last'))
  await h.started(4)
  drainControllerOf(app)!.abort('operator')
  const report = await app.zeroDowntime.drain('after abort')
  t.match(report, { clean: false, connections: { forced: 1 } })
  t.same(report.cut.map((c) => c.url), ['/slow', '/orders', '/quick', '/last'], 'every request whose response had not gone out, in order')
  h.release()
})
