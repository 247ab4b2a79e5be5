// The kit's accounting proven against a server that misbehaves on purpose: it
// resets exactly K requests (and answers some with 503, some with
// `Connection: close`, lets one time out) and the kit must report exactly that.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { Agent, createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { constants as h2, createServer as createH2cServer } from 'node:http2'
import { connect, type AddressInfo, type Socket } from 'node:net'
import t, { type Test } from 'tap'
import { failureOf, percentile, Recorder } from '../src/load/accounting.js'
import { autocannonLoad } from '../src/load/autocannon-load.js'
import { grpcStyle } from '../src/load/h2-client.js'
import { closedLoop, send } from '../src/load/http-client.js'
import type { Load, Target } from '../src/load/target.js'
import { jsonReport } from '../src/report/json.js'
import { textReport } from '../src/report/text.js'
import { resultOf } from '../src/run/result.js'
import { ClusterEventLog } from '../src/cluster/events.js'
import { sseStreams } from '../src/load/sse-client.js'
import { until } from '../../test/helpers/wait.js'

const K = 7

/** Resets request number every `every` until K are reset; more behaviours by request number. */
async function faultyServer (every: number, extra: (n: number, req: IncomingMessage, res: ServerResponse) => boolean = () => false) {
  let n = 0
  let resets = 0
  let resolveDone: () => void = () => {}
  const done = new Promise<void>((resolve) => { resolveDone = resolve })
  const server = createServer((req, res) => {
    n++
    if (n % every === 0 && resets < K) {
      resets++
      req.socket.resetAndDestroy()
      return
    }
    if (n > every * (K + 2)) resolveDone()
    if (extra(n, req, res)) return
    req.resume()
    req.on('end', () => { res.end('ok') })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, port: (server.address() as AddressInfo).port, done, count: () => resets }
}

function target (port: number, requestTimeoutMs = 2000): Target {
  const start = performance.now()
  return { host: '127.0.0.1', port, recorder: new Recorder(() => performance.now() - start), podFor: (p) => p === undefined ? undefined : 'pod-a', requestTimeoutMs }
}

async function measure (t: Test, tg: Target, start: (tg: Target) => Promise<Load> | Load, done: Promise<void>): Promise<void> {
  const load = await start(tg)
  await done
  await load.stop()
  const { counts } = tg.recorder
  t.equal(counts.sent, tg.recorder.settled, 'sent = 2xx + non-2xx + failed')
}

t.test('closed-loop keep-alive clients count exactly K resets and every 503', async (t) => {
  const f = await faultyServer(20, (n, _req, res) => {
    if (n % 33 !== 0) return false
    res.statusCode = 503
    res.end()
    return true
  })
  t.teardown(() => { f.server.close() })
  const tg = target(f.port)
  await measure(t, tg, (x) => closedLoop(x, { connections: 5, request: { method: 'POST', path: '/', body: '{"a":1}' } }), f.done)
  t.equal(tg.recorder.counts.failed.reset, K, `exactly ${K} resets reported`)
  t.equal(f.count(), K)
  t.ok((tg.recorder.counts.statuses['503'] ?? 0) >= 1, '503 answers counted as non-2xx')
  t.equal(tg.recorder.dropped, K + (tg.recorder.counts.statuses['503'] ?? 0))
  t.ok(tg.recorder.failures.every((x) => x.pod === 'pod-a'), 'failures carry the pod of their connection')
})

t.test('autocannon wrapped: K resets counted, Connection: close honoured, a timeout counted', async (t) => {
  let hung = false
  const f = await faultyServer(25, (n, req, res) => {
    if (n % 10 === 0) {
      // A correct server retiring a connection: the client must reconnect, nothing is lost.
      res.setHeader('connection', 'close')
      return false
    }
    if (n > 300 && !hung) {
      hung = true
      req.resume()
      return true
    }
    return false
  })
  t.teardown(() => { f.server.close() })
  const tg = target(f.port, 1000)
  await measure(t, tg, async (x) => await autocannonLoad(x, 4, '/'), f.done.then(async () => { await until(() => tg.recorder.counts.failed.timeout !== undefined, 'a timeout was counted', { intervalMs: 50 }) }))
  t.equal(tg.recorder.counts.failed.reset, K, `exactly ${K} resets reported`)
  t.equal(tg.recorder.counts.failed.timeout, 1, 'the hung request is one timeout')
  t.equal(tg.recorder.dropped, K + 1, 'Connection: close answers cost nothing')
})

t.test('autocannon: requests still in flight at stop are settled as timeouts', async (t) => {
  const server = createServer((req) => { req.resume() })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close(); server.closeAllConnections() })
  const tg = target((server.address() as AddressInfo).port, 200)
  const load = await autocannonLoad(tg, 2)
  await until(() => tg.recorder.counts.sent >= 2, 'two sent', { intervalMs: 20 })
  await load.stop()
  t.equal(tg.recorder.counts.sent, tg.recorder.settled)
  t.equal(tg.recorder.counts.failed.timeout, tg.recorder.counts.sent)
})

t.test('SSE: a stream ended with a retry hint is served and reconnects; cut or reset streams are drops', async (t) => {
  let n = 0
  const server = createServer((req, res) => {
    n++
    if (n === 2) { res.statusCode = 500; res.end(); return }
    if (n === 3) { req.socket.resetAndDestroy(); return }
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    if (n === 4) { res.end('data: cut without a hint\n\n'); return }
    if (n === 1) { res.write('data: a\n\nretry: 10\n'); setTimeout(() => res.end('\n'), 20); return }
    if (n === 5) { res.write('data: then reset\n\n', () => { setTimeout(() => { req.socket.resetAndDestroy() }, 20) }); return }
    res.write('data: open\n\n')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close(); server.closeAllConnections() })
  const tg = target((server.address() as AddressInfo).port)
  const load = sseStreams(tg, 1)
  // One stream at a time: the sixth arrived only once the fifth was settled,
  // and the sixth, open at stop, counts as served whether or not its headers arrived.
  await until(() => n >= 6, 'six requests arrived', { intervalMs: 20 })
  await load.stop()
  t.same(tg.recorder.counts.statuses, { 500: 1 })
  t.same(tg.recorder.counts.failed, { reset: 2, cut: 1 })
  t.equal(tg.recorder.counts.ok, 2, 'the hinted stream and the one open at stop')
  t.equal(tg.recorder.counts.sent, 6)
})

t.test('SSE and closed-loop clients stopped before they connect', async (t) => {
  const tg = target(1)
  const sse = sseStreams(tg, 2)
  await sse.stop()
  t.equal(tg.recorder.counts.sent, tg.recorder.settled)
})

t.test('the recorder keeps every outcome apart', async (t) => {
  let now = 0
  const r = new Recorder(() => now)
  const a = r.send()
  const b = r.send()
  const c = r.send()
  const d = r.send()
  now = 300
  r.settle(a, { kind: 'response', status: 503 })
  r.settle(b, { kind: 'response', status: 503 }, 'p1')
  r.settle(c, { kind: 'reset', code: 'ECONNRESET' }, 'p1')
  r.settle(d, { kind: 'cut' })
  t.same(r.counts, { sent: 4, ok: 0, statuses: { 503: 2 }, failed: { reset: 1, cut: 1 }, retried: 0 })
  t.same(r.failures, [{ at: 300, kind: 'status 503' }, { at: 300, kind: 'status 503', pod: 'p1' }, { at: 300, kind: 'reset', code: 'ECONNRESET', pod: 'p1' }, { at: 300, kind: 'cut' }])
  t.same(r.drops, [undefined, 4])
})

t.test('a request slower than the request timeout is a timeout', async (t) => {
  const server = createServer((req) => { req.resume() })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close(); server.closeAllConnections() })
  const tg = target((server.address() as AddressInfo).port, 100)
  const load = closedLoop(tg, { connections: 1, request: { method: 'GET', path: '/' } })
  await until(() => tg.recorder.counts.sent >= 2, 'two sent', { intervalMs: 20 })
  await load.stop()
  t.equal(tg.recorder.counts.failed.timeout, tg.recorder.counts.sent)
})

t.test('a connect that never completes is a timeout after the request timeout, not after the kernel gives up', async (t) => {
  // A listener whose accept queue is full drops every further SYN: the
  // connect hangs as one to the address of a pod that is gone does. Its
  // process blocks its own event loop (bounded), so nothing is ever accepted.
  const listener = spawn(process.execPath, ['-e', `
    const s = require('node:net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      console.log(s.address().port)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000)
    })`], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { listener.kill('SIGKILL') })
  const [line] = await once(listener.stdout!, 'data') as [Buffer]
  const port = Number(line.toString())
  const fillers: Socket[] = []
  t.teardown(() => { for (const f of fillers) f.destroy() })
  // Fill the accept queue (backlog + 1 entries), then one more to be sure.
  for (let i = 0; i < 3; i++) fillers.push(connect(port, '127.0.0.1').on('error', () => {}))
  await until(() => fillers.filter((f) => !f.connecting).length >= 2, 'the accept queue full', { intervalMs: 20 })
  const tg = target(port, 200)
  const outcome = await send(tg, new Agent({ keepAlive: true }), { method: 'GET', path: '/' })
  t.same(outcome, { kind: 'timeout' })
  t.equal(tg.recorder.counts.failed.timeout, 1)
})

t.test('autocannon over IPv6 loopback', async (t) => {
  const server = createServer((_req, res) => { res.end('ok') })
  server.listen(0, '::1')
  await once(server, 'listening')
  t.teardown(() => { server.close(); server.closeAllConnections() })
  const tg = { ...target((server.address() as AddressInfo).port), host: '::1' }
  const load = await autocannonLoad(tg, 1)
  await until(() => tg.recorder.counts.ok >= 10, 'ten answered', { intervalMs: 20 })
  await load.stop()
  t.equal(tg.recorder.dropped, 0)
})

t.test('failure classification and percentiles', async (t) => {
  const e = (code?: string): Error & { code?: string } => Object.assign(new Error('x'), code === undefined ? {} : { code })
  t.same(failureOf(e('ECONNREFUSED')), { kind: 'refused', code: 'ECONNREFUSED' })
  t.same(failureOf(e('EPIPE')), { kind: 'reset', code: 'EPIPE' })
  t.same(failureOf(e('ETIMEDOUT')), { kind: 'timeout', code: 'ETIMEDOUT' })
  t.same(failureOf(e('EHOSTUNREACH')), { kind: 'error', code: 'EHOSTUNREACH' })
  t.same(failureOf(e()), { kind: 'error' })
  t.equal(percentile([], 50), 0)
  t.equal(percentile([3, 1, 2], 0), 1)
  t.equal(percentile([3, 1, 2, 4], 50), 2)
  t.equal(percentile([3, 1, 2, 4], 99), 4)
})

t.test('a refused connection is counted as refused', async (t) => {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  server.close()
  const tg = target(port)
  const load = closedLoop(tg, { connections: 1, request: { method: 'GET', path: '/' }, thinkMs: 5 })
  await until(() => tg.recorder.counts.sent >= 3, 'three sent', { intervalMs: 20 })
  await load.stop()
  t.ok((tg.recorder.counts.failed.refused ?? 0) >= 3)
  t.equal(tg.recorder.counts.sent, tg.recorder.settled)
})

t.test('h2: streams refused unprocessed are sent again and counted as retries, not drops', async (t) => {
  // Refuses exactly K streams with REFUSED_STREAM (RFC 9113 8.7: not
  // processed), answers every other one.
  let refused = 0
  const server = createH2cServer()
  server.on('stream', (stream) => {
    // Closing with an error code emits it on the server's stream too.
    stream.on('error', () => {})
    if (refused < K) {
      refused++
      stream.close(h2.NGHTTP2_REFUSED_STREAM)
      return
    }
    stream.respond({ ':status': 200 })
    stream.end('ok')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  const tg = target((server.address() as AddressInfo).port)
  const load = grpcStyle(tg, { sessions: 1, streams: 4, request: { method: 'GET', path: '/' } })
  await until(() => tg.recorder.counts.ok >= 3 * K, `${3 * K} answered`, { intervalMs: 20 })
  await load.stop()
  t.equal(tg.recorder.counts.retried, K, 'each refused stream retried once')
  t.equal(tg.recorder.dropped, 0, 'and answered on its retry')
  t.equal(tg.recorder.counts.sent, tg.recorder.counts.ok, 'a retry is not another request')
  const r = resultOf({ scenario: { name: 'grpc', description: 'd' }, label: 'service', command: ['x'], proxy: 'l4', timeline: new ClusterEventLog(), recorder: tg.recorder, balancer: { connections: 0, noEndpoint: 0, upstreamErrors: 0 }, error: undefined })
  t.match(textReport([r]), `grpc / service: ${K} retries of requests refused unprocessed`)
  t.match(jsonReport([r], 'service').summary, [{ scenario: 'grpc', retried: K }])
})
