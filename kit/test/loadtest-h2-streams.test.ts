// How the gRPC-style HTTP/2 load settles streams that do not get an answer,
// against a real h2c server that misbehaves one way per test: a pod that
// refuses the connection, streams reset with one code or another, a stream
// ended without a response, streams refused more times than are retried; and
// a request with a body.
import { once } from 'node:events'
import { constants as h2, createServer, type ServerHttp2Stream } from 'node:http2'
import { createServer as createTcpServer, type AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { Recorder } from '../src/load/accounting.js'
import { grpcStyle } from '../src/load/h2-client.js'
import type { RequestSpec, Target } from '../src/load/target.js'
import { until } from '../../test/helpers/wait.js'

function target (port: number): Target {
  const start = performance.now()
  return { host: '127.0.0.1', port, recorder: new Recorder(() => performance.now() - start), podFor: (p) => p === undefined ? undefined : 'pod-a', requestTimeoutMs: 5000 }
}

/** An h2c server on loopback whose every stream `onStream` handles. */
async function h2c (t: Test, onStream: (stream: ServerHttp2Stream, headers: Record<string, unknown>) => void): Promise<number> {
  const server = createServer()
  server.on('stream', (stream, headers) => {
    // Closing a stream with an error code emits it on the server's side too.
    stream.on('error', () => {})
    onStream(stream, headers)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  return (server.address() as AddressInfo).port
}

/** Runs one session of `streams` streams until `done`, stops, and checks every stream was settled once. */
async function load (t: Test, tg: Target, done: () => boolean, what: string, request: RequestSpec = { method: 'GET', path: '/' }): Promise<void> {
  const l = grpcStyle(tg, { sessions: 1, streams: 2, request })
  await until(done, what, { intervalMs: 20 })
  await l.stop()
  t.equal(tg.recorder.counts.sent, tg.recorder.settled, 'every request settled exactly once')
}

t.test('a pod that refuses the connection: every request counted as refused, none sent', async (t) => {
  const closed = createTcpServer().listen(0, '127.0.0.1')
  await once(closed, 'listening')
  const port = (closed.address() as AddressInfo).port
  await new Promise((resolve) => closed.close(resolve))
  const tg = target(port)
  await load(t, tg, () => tg.recorder.counts.sent >= 4, 'four requests tried')
  t.equal(tg.recorder.counts.failed.refused, tg.recorder.counts.sent, 'all refused')
  t.match(tg.recorder.failures[0], { kind: 'refused', code: 'ECONNREFUSED' })
  t.equal(tg.recorder.counts.retried, 0, 'a connection refused is not a stream refused unprocessed: no retry')
})

t.test('streams reset by the server: INTERNAL_ERROR is a reset, another code an error', async (t) => {
  let n = 0
  const port = await h2c(t, (stream) => {
    // Alternately: reset as a server failing mid-stream does, and as one out of patience.
    stream.close(++n % 2 === 1 ? h2.NGHTTP2_INTERNAL_ERROR : h2.NGHTTP2_ENHANCE_YOUR_CALM)
  })
  const tg = target(port)
  await load(t, tg, () => tg.recorder.dropped >= 6, 'six streams reset')
  t.ok((tg.recorder.counts.failed.reset ?? 0) >= 1, 'INTERNAL_ERROR: reset')
  t.ok((tg.recorder.counts.failed.error ?? 0) >= 1, 'ENHANCE_YOUR_CALM: error')
  t.equal((tg.recorder.counts.failed.reset ?? 0) + (tg.recorder.counts.failed.error ?? 0), tg.recorder.dropped, 'nothing else')
  t.match(tg.recorder.failures.find((f) => f.kind === 'reset'), { code: 'ERR_HTTP2_STREAM_ERROR', pod: 'pod-a' })
  t.equal(tg.recorder.counts.ok, 0)
})

t.test('a stream ended without a response, with no error or cancelled, is cut', async (t) => {
  let n = 0
  // Node's client reports neither code as a stream error: the stream just ends.
  const port = await h2c(t, (stream) => { stream.close(++n % 2 === 1 ? h2.NGHTTP2_NO_ERROR : h2.NGHTTP2_CANCEL) })
  const tg = target(port)
  await load(t, tg, () => tg.recorder.dropped >= 4, 'four streams ended')
  t.equal(tg.recorder.counts.failed.cut, tg.recorder.dropped, 'each one cut')
  t.ok(n >= 4, 'both codes were sent')
})

t.test('a stream refused every time is retried 3 times, then counted once as refused', async (t) => {
  let streams = 0
  const port = await h2c(t, (stream) => { streams++; stream.close(h2.NGHTTP2_REFUSED_STREAM) })
  const tg = target(port)
  await load(t, tg, () => tg.recorder.dropped >= 2, 'two requests given up')
  t.equal(tg.recorder.counts.failed.refused, tg.recorder.dropped)
  t.match(tg.recorder.failures[0], { kind: 'refused', code: 'REFUSED_STREAM' })
  t.equal(tg.recorder.counts.retried, 3 * tg.recorder.counts.sent, 'three retries per request')
  t.equal(streams, 4 * tg.recorder.counts.sent, 'each request sent four times in all')
})

t.test('a request with a body is sent as JSON', async (t) => {
  const received: string[] = []
  const port = await h2c(t, (stream, headers) => {
    let body = ''
    stream.setEncoding('utf8')
    stream.on('data', (c: string) => { body += c })
    stream.on('end', () => {
      received.push(`${String(headers[':method'])} ${String(headers['content-type'])} ${body}`)
      stream.respond({ ':status': 200 })
      stream.end()
    })
  })
  const tg = target(port)
  await load(t, tg, () => tg.recorder.counts.ok >= 3, 'three answered', { method: 'POST', path: '/orders', body: '{"n":1}' })
  t.equal(tg.recorder.dropped, 0)
  t.same([...new Set(received)], ['POST application/json {"n":1}'])
})

t.test('a session whose connection is reset under its streams: they are lost, the next ones go on a new session', async (t) => {
  let sessions = 0
  const server = createServer()
  server.on('session', () => { sessions++ })
  // No answer: the connection is reset with the streams open, as by a pod killed mid-request.
  server.on('stream', (stream) => { stream.session?.socket.resetAndDestroy() })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  const tg = target((server.address() as AddressInfo).port)
  await load(t, tg, () => sessions >= 3 && tg.recorder.dropped >= 3, 'three sessions reset')
  t.equal(tg.recorder.counts.ok, 0)
  t.ok(tg.recorder.failures.every((f) => f.kind === 'reset' || f.kind === 'error'), JSON.stringify(tg.recorder.counts.failed))
})
