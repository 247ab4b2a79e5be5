// Connection-level behaviour of the drain over real sockets: TLS, WebSocket
// upgrades told to go away with 1001, half-received requests, a cut before the
// drain, go-away listeners that fail, and an app whose close() fails.
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { WebSocket, WebSocketServer } from 'ws'
import { ConnectionTracker } from '../src/drain/connections.js'
import { closeWebSocket, endEventStream } from '../src/drain/index.js'
import { drainControllerOf } from '../src/plugin.js'
import { drainApp } from './fixtures/drain/app.js'
import { checkPromptEnd, signalLine, step } from './helpers/drain-log.js'
import { until } from './helpers/wait.js'

t.test('over TLS, a request in flight at drain start is answered with Connection: close', async (t) => {
  const dir = t.testdir()
  const key = join(dir, 'key.pem')
  const cert = join(dir, 'cert.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' })
  const { app } = await drainApp({}, { https: { key: readFileSync(key), cert: readFileSync(cert) } } as never)
  let arrived!: () => void
  const inFlight = new Promise<void>((resolve) => { arrived = resolve })
  app.get('/slow', async () => {
    arrived()
    await new Promise((resolve) => setTimeout(resolve, 200))
    return { ok: true }
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const agent = new https.Agent({ keepAlive: true, rejectUnauthorized: false })
  t.teardown(() => { agent.destroy() })
  const req = https.get({ host: '127.0.0.1', port: (app.server.address() as net.AddressInfo).port, path: '/slow', agent })
  await inFlight
  const report = app.zeroDowntime.drain('tls')
  const [res] = await once(req, 'response') as [import('node:http').IncomingMessage]
  res.resume()
  t.equal(res.statusCode, 200)
  t.equal(res.headers.connection, 'close')
  t.match(await report, { clean: true, servedDuringDrain: 1, connections: { retired: 1, idleClosed: 0, forced: 0 } })
})

t.test('a WebSocket is told to go away with 1001 at drain start', async (t) => {
  const { app, logs } = await drainApp({ idleCloseMs: 5000 })
  const wss = new WebSocketServer({ noServer: true })
  app.server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stop = app.zeroDowntime.onGoAway(() => { closeWebSocket(ws) })
      ws.on('close', stop)
    })
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const client = new WebSocket(`ws://127.0.0.1:${(app.server.address() as net.AddressInfo).port}/`)
  await once(client, 'open')
  const closed = once(client, 'close') as Promise<[number, Buffer]>
  const report = await app.zeroDowntime.drain('ws')
  const [code, reason] = await closed
  t.equal(code, 1001, 'close code 1001 Going Away')
  t.equal(String(reason), 'server draining')
  t.match(logs.find((l) => l.drain === 'readiness-off'), { connections: 1, inFlight: 1, goAways: 1 }, 'the upgraded connection counts as in flight')
  t.match(report, { clean: true, connections: { forced: 0, idleClosed: 0 } })
  // Ended by the close handshake: neither idle closing nor the deadline had its turn.
  checkPromptEnd(t, logs)
})

/** A real HTTP server whose ConnectionTracker reads the test's clock: time moves only when the test sets `clock.time`. */
async function fakeClockTracker (t: Test): Promise<{ server: http.Server, tracker: ConnectionTracker, clock: { time: number } }> {
  const clock = { time: 1000 }
  const server = http.createServer((_req, res) => { res.end('ok') })
  const tracker = new ConnectionTracker(server, () => clock.time)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  return { server, tracker, clock }
}

t.test('a connection whose headers never complete (slowloris), on a fake clock: closed idleCloseMs after its first bytes, however it dribbles', async (t) => {
  // The tracker's state machine in process over a real socket: time moves
  // only when the test sets it, and each look happens once the server has read
  // what the client sent, so no timer races the bytes.
  const { server, tracker, clock } = await fakeClockTracker(t)
  const accepted = once(server, 'connection') as Promise<[net.Socket]>
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
  client.on('error', () => {})
  client.resume()
  const [serverSocket] = await accepted
  const sent = async (bytes: string): Promise<void> => {
    const before = serverSocket.bytesRead
    client.write(bytes)
    await until(() => serverSocket.bytesRead >= before + bytes.length, 'the server read what the client sent', { intervalMs: 1 })
  }
  tracker.startRetiring({ idleCloseMs: 150, spacingMs: 250 })
  t.equal(tracker.closeIdle(), 150, 'idle since the drain start: looked at again when it is due')
  clock.time = 1100
  await sent('GET / HTTP/1.1\r\nHost: x\r\n')
  t.equal(tracker.closeIdle(), 150, 'the start of a request 100 ms in: due 150 ms after its first bytes, no longer at the idle due time')
  clock.time = 1120
  await sent('X')
  t.equal(tracker.closeIdle(), 130, 'one more header byte does not restart the clock')
  clock.time = 1249
  await sent('X')
  t.equal(tracker.closeIdle(), 1, 'still open 1 ms before it is due')
  t.equal(tracker.counts.connections, 1)
  const closed = once(client, 'close')
  clock.time = 1250
  t.equal(tracker.closeIdle(), undefined, 'closed when due: nothing left to look at')
  t.match(tracker.stats, { stalledClosed: 1, idleClosed: 0, forced: 0 })
  t.equal(tracker.counts.connections, 0)
  await closed
})

t.test('an idle connection the policy half-closed waits for its client to close, on a fake clock, however often the tracker looks', async (t) => {
  const { server, tracker, clock } = await fakeClockTracker(t)
  // allowHalfOpen: the client does not answer the server's FIN with its own,
  // as a pool that has not noticed yet.
  const client = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true })
  client.on('error', () => {})
  let received = ''
  let ended = false
  client.on('data', (chunk: Buffer) => { received += chunk.toString() })
  client.on('end', () => { ended = true })
  client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
  await until(() => received.endsWith('ok'), 'the response arrived', { intervalMs: 1 })
  tracker.startRetiring({ idleCloseMs: 100, spacingMs: 10 })
  clock.time = 10_000
  tracker.closeIdle()
  await until(() => ended, 'the server half-closed the idle connection', { intervalMs: 1 })
  t.equal(tracker.idleClosing, 1, 'half-closed by the policy')
  // Within the spacing (after it, the policy stops waiting and destroys it).
  clock.time = 10_005
  tracker.closeIdle()
  t.equal(tracker.counts.connections, 1, 'looked at again: still open, waiting for its client, not closed twice')
  t.equal(tracker.idleClosing, 1)
  client.end()
  await until(() => tracker.counts.connections === 0, 'the client closed its side', { intervalMs: 1 })
  t.match(tracker.stats, { idleClosed: 1, stalledClosed: 0, forced: 0 })
})

t.test('two slowloris connections on a fake clock: the next look is when the sooner of them is due', async (t) => {
  const { server, tracker, clock } = await fakeClockTracker(t)
  const open = async (): Promise<(bytes: string) => Promise<void>> => {
    const accepted = once(server, 'connection') as Promise<[net.Socket]>
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
    client.on('error', () => {})
    client.resume()
    const [serverSocket] = await accepted
    return async (bytes) => {
      const before = serverSocket.bytesRead
      client.write(bytes)
      await until(() => serverSocket.bytesRead >= before + bytes.length, 'the server read what the client sent', { intervalMs: 1 })
    }
  }
  const [a, b] = [await open(), await open()]
  tracker.startRetiring({ idleCloseMs: 150, spacingMs: 250 })
  clock.time = 1100
  await a('GET / HTTP/1.1\r\n')
  tracker.closeIdle()
  clock.time = 1120
  await b('GET / HTTP/1.1\r\n')
  t.equal(tracker.closeIdle(), 130, 'the first one due at 1250, the second at 1270')
  clock.time = 1250
  t.equal(tracker.closeIdle(), 20, 'the first closed, the second looked at when due')
  t.match(tracker.stats, { stalledClosed: 1 })
  clock.time = 1270
  t.equal(tracker.closeIdle(), undefined, 'both closed')
  t.match(tracker.stats, { stalledClosed: 2, idleClosed: 0, forced: 0 })
})

t.test('through the drain, a slowloris connection is closed as stalled, not cut at the deadline', async (t) => {
  // During the drain delay nothing is closed: the first bytes are sent then,
  // and once the server has read them, the first look (at the delay's end)
  // finds a partial request. Were the delay over before the server read them
  // (a stalled machine), the attempt proves nothing and is made again.
  const ATTEMPTS = 3
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const { app, logs } = await drainApp({ idleCloseMs: 150 })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const accepted = once(app.server, 'connection') as Promise<[net.Socket]>
    const socket = net.connect((app.server.address() as net.AddressInfo).port, '127.0.0.1')
    socket.on('error', () => {})
    socket.resume()
    const [serverSocket] = await accepted
    // Not events.once: it rejects on 'error', and the drain destroys this
    // connection, so a byte still unacknowledged then comes back as a reset.
    const closed = new Promise((resolve) => { socket.once('close', resolve) })
    const report = app.zeroDowntime.drain('partial', { delayMs: 200 })
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n')
    await until(() => serverSocket.bytesRead > 0, 'the server read the first bytes', { intervalMs: 1 })
    const beforeFirstLook = !logs.some((l) => l.drain === 'delay-over')
    // One more header byte every 20 ms: each byte used to restart the idle
    // clock, holding the drain to its deadline.
    const dribble = setInterval(() => { if (socket.writable) socket.write('X') }, 20)
    let r: Awaited<typeof report>
    try {
      r = await report
      await closed
    } finally {
      clearInterval(dribble)
    }
    if (!beforeFirstLook && attempt < ATTEMPTS) {
      t.comment(`attempt ${attempt}: the drain delay ended before the server read the first bytes; again`)
      continue
    }
    t.ok(beforeFirstLook, 'the first bytes were read before the drain first looked at the connection')
    t.match(r, { clean: true, connections: { stalledClosed: 1, idleClosed: 0, forced: 0 } }, 'closed, not cut at the deadline')
    t.ok(logs.some((l) => l.drain === 'idle-closed' && l.stalled === 1), 'the stalled close is logged')
    break
  }
})

t.test('abort() before and during a drain cuts once and makes it unclean', async (t) => {
  const { app, logs } = await drainApp({ delayMs: 5000 })
  app.get('/hang', async () => await new Promise(() => {}))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as net.AddressInfo).port
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  socket.on('error', () => {})
  socket.write('GET /hang HTTP/1.1\r\nHost: x\r\n\r\n')
  await until(() => logs.some((l) => l.msg === 'incoming request' && (l.req as { url: string }).url === '/hang'), 'the request reached the app')
  const controller = drainControllerOf(app)!
  controller.abort('operator')
  controller.abort('operator again')
  const report = await app.zeroDowntime.drain('after abort')
  t.match(report, { clean: false, cut: [{ method: 'GET', url: '/hang' }], connections: { forced: 1 } })
  t.equal(logs.filter((l) => l.drain === 'cut').length, 1, 'cut once')
  t.ok((step(logs, 'delay-over')?.drainMs ?? Infinity) < signalLine(logs).delayMs, 'the delay ended with the cut, before it was due')
})

t.test('go-away listeners: late ones run at once, failures are logged, unsubscribed ones never run', async (t) => {
  const { app, logs } = await drainApp()
  await app.ready()
  t.throws(() => app.zeroDowntime.onGoAway('x' as never), { code: 'FST_ZD_INVALID_ARGUMENT', message: /onGoAway\(\) listener must be a function, got "x"/ })
  let unsubscribedRan = false
  const stop = app.zeroDowntime.onGoAway(() => { unsubscribedRan = true })
  stop()
  app.zeroDowntime.onGoAway(() => { throw new Error('sync go-away failure') })
  app.zeroDowntime.onGoAway(async () => { throw new Error('async go-away failure') })
  await app.zeroDowntime.drain()
  const late = new Promise<void>((resolve) => { app.zeroDowntime.onGoAway(resolve)() })
  await late
  t.equal(unsubscribedRan, false)
  t.same(logs.filter((l) => l.drain === 'go-away').map((l) => l.error).sort(), ['async go-away failure', 'sync go-away failure'])
})

t.test('a failing app.close() makes the drain unclean, not a crash; the dependencies still close', async (t) => {
  const { app, logs } = await drainApp()
  // Both registered after the plugin: they fail before its onClose hook runs (avvio closes the last registered first).
  app.register(async (child) => { child.addHook('onClose', async () => { throw new Error('child onClose failed') }) })
  app.addHook('onClose', async () => { throw new Error('onClose failed') })
  let closed = 0
  await app.ready()
  app.zeroDowntime.addCleanup('databases', 'db', () => { closed++ })
  const report = await app.zeroDowntime.drain()
  t.equal(report.clean, false)
  t.match(logs.find((l) => l.drain === 'close-error'), { error: /onClose failed/ })
  t.equal(closed, 1, 'closed once')
  t.match(report.cleanup, [{ phase: 'databases', name: 'db', outcome: 'ok' }])
})

t.test('endEventStream writes a retry hint and a multi-line final event', async (t) => {
  const chunks: string[] = []
  let ended = false
  endEventStream({ write: (c) => chunks.push(c), end: () => { ended = true } }, { retryMs: 2500, event: 'bye', data: 'line 1\nline 2' })
  t.same(chunks, ['retry: 2500\nevent: bye\ndata: line 1\ndata: line 2\n\n'])
  t.equal(ended, true)
  chunks.length = 0
  endEventStream({ write: (c) => chunks.push(c), end: () => {} })
  t.same(chunks, ['retry: 1000\nevent: reconnect\ndata: {"reason":"draining"}\n\n'])
})
