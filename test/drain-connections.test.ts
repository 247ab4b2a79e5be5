// Connection-level behaviour of the drain over real sockets: TLS, WebSocket
// upgrades told to go away with 1001, half-received requests, a cut before the
// drain, go-away listeners that fail, and an app whose close() fails.
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import https from 'node:https'
import net from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { WebSocket, WebSocketServer } from 'ws'
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

t.test('a connection whose headers never complete (slowloris) is closed idleCloseMs after its first bytes, however it dribbles', async (t) => {
  const { app } = await drainApp({ idleCloseMs: 150 })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const socket = net.connect((app.server.address() as net.AddressInfo).port, '127.0.0.1')
  await once(socket, 'connect')
  socket.resume()
  const closed = once(socket, 'close')
  const report = app.zeroDowntime.drain('partial')
  // Idle since the drain start, then the start of a request arrives before the
  // 150 ms are up, and one more header byte every 20 ms after that: each byte
  // used to restart the idle clock, holding the drain to its deadline.
  await new Promise((resolve) => setTimeout(resolve, 100))
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n')
  const dribble = setInterval(() => { if (socket.writable) socket.write('X') }, 20)
  t.teardown(() => { clearInterval(dribble) })
  const r = await report
  t.match(r, { clean: true, connections: { stalledClosed: 1, idleClosed: 0, forced: 0 } }, 'closed, not cut at the deadline')
  await closed
  clearInterval(dribble)
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

t.test('a failing app.close() makes the drain unclean, not a crash', async (t) => {
  const { app, logs } = await drainApp()
  app.addHook('onClose', async () => { throw new Error('onClose failed') })
  await app.ready()
  const report = await app.zeroDowntime.drain()
  t.equal(report.clean, false)
  t.match(logs.find((l) => l.drain === 'close-error'), { error: 'onClose failed' })
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
