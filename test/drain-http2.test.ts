// HTTP/2 across a drain, over real sockets and a real SIGTERM: h2c, h2 over
// TLS, and an allowHTTP1 server serving both protocols at once. The server
// tells each session to go away gracefully (GOAWAY 2^31-1, PING, final
// GOAWAY), so every stream it received is answered and the process exits
// after its last stream instead of at the deadline.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import http2 from 'node:http2'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { resolveDrainConfig } from '../src/drain/drain-options.js'
import { Http2SessionTracker } from '../src/drain/http2-sessions.js'
import { interposeTlsTransport } from '../src/drain/http2-transport.js'
import { spawnPod, type LogLine, type Pod } from './fixtures/drain/harness.js'
import { connect, newH2Outcome, untilGoAway, type H2Outcome } from './fixtures/drain/h2-client.js'
import { checkPromptEnd } from './helpers/drain-log.js'

const MAX_STREAM_ID = 2 ** 31 - 1
const CONCURRENCY = 32

interface Stopped extends LogLine {
  clean: boolean
  cut: unknown[]
  connections: { retired: number, idleClosed: number, forced: number }
  http2: { sessions: number, streams: number, streamsServed: number, goaways: number, idleClosed: number, forced: number }
}

function tlsFiles (dir: string): Record<string, string> {
  const key = join(dir, 'key.pem')
  const cert = join(dir, 'cert.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' })
  return { TLS_KEY: key, TLS_CERT: cert }
}

async function h2Pod (t: Test, mode: string, extra: Record<string, string> = {}): Promise<Pod> {
  const pod = await spawnPod({
    FIXTURE_HTTP2: mode,
    // preStop declared: no in-app delay; idle closing and the deadline far away,
    // so only GOAWAY and "no connection left" can end this drain early.
    TERMINATION_GRACE_PERIOD_SECONDS: '60',
    PRESTOP_SLEEP_SECONDS: '5',
    DRAIN_OPTIONS: JSON.stringify({ idleCloseMs: 30000 }),
    ...extra
  })
  t.teardown(() => { pod.kill('SIGKILL') })
  return pod
}

/** Streams in a tight loop on one session; SIGTERM once `warmup` were answered. */
async function loopAcrossDrain (pod: Pod, url: string, warmup = 200): Promise<H2Outcome> {
  const session = await connect(url)
  const outcome = newH2Outcome()
  let signalled = false
  const loop = untilGoAway(session, CONCURRENCY, (i) => {
    if (!signalled && outcome.ok >= warmup) {
      signalled = true
      pod.kill('SIGTERM')
    }
    return i % 10 === 0 ? '/slow?ms=50' : `/?i=${i}`
  }, outcome)
  await loop
  return outcome
}

/** The graceful sequence (GOAWAY 2^31-1, PING, final GOAWAY), for h2c and h2 over TLS alike. */
function checkGoAways (t: Test, outcome: H2Outcome): void {
  t.same(outcome.goaways[0], [0, MAX_STREAM_ID], 'first GOAWAY: NO_ERROR, last-stream-id 2^31-1 (refuses nothing)')
  t.ok(outcome.goaways.length >= 2, 'then the final GOAWAY')
  t.equal(outcome.goaways.at(-1)![0], 0, 'final GOAWAY: NO_ERROR')
}

/** `before`: a session that ended before the drain, with its one stream. */
function checkDrain (t: Test, outcome: H2Outcome, logs: LogLine[], exit: { code: number | null }, before = 0): void {
  const stopped = logs.find((l) => l.drain === 'stopped') as Stopped
  t.same(outcome.failed, [], 'no stream the server received failed')
  t.equal(outcome.refused, 0, 'no stream refused')
  t.ok(outcome.ok > 200, `streams answered across the drain (${outcome.ok}; ${outcome.notSent} never sent after GOAWAY)`)
  checkGoAways(t, outcome)
  t.equal(stopped.http2.streams, outcome.ok + before, 'every stream the server received was answered')
  t.equal(exit.code, 0)
  t.equal(stopped.clean, true)
  t.same(stopped.cut, [])
  t.match(stopped.http2, { sessions: 1 + before, goaways: 1, idleClosed: 0, forced: 0 })
  t.ok(stopped.http2.streamsServed > 0, 'streams served during the drain')
  t.equal(stopped.connections.retired, 0, 'HTTP/2 streams are not counted as HTTP/1.1 connections')
  checkPromptEnd(t, logs)
}

t.test('h2c: tens of concurrent streams in a tight loop across a drain, none fails, GOAWAY ends the session', async (t) => {
  const pod = await h2Pod(t, 'h2c')
  const outcome = await loopAcrossDrain(pod, `http://127.0.0.1:${pod.port}`)
  const exit = await pod.exited
  checkDrain(t, outcome, pod.logs, exit)
})

/** What a handler sees of its connection, over a new h2 session. */
async function connectionSeen (url: string): Promise<Record<string, unknown>> {
  const session = await connect(url)
  try {
    const req = session.request({ ':path': '/connection' })
    req.setEncoding('utf8')
    let body = ''
    for await (const chunk of req) body += chunk as string
    return { ...JSON.parse(body) as Record<string, unknown>, clientPort: (session.socket as { localPort?: number }).localPort }
  } finally {
    session.close()
  }
}

t.test('h2 over TLS: the same graceful GOAWAY, none fails or is refused', async (t) => {
  const pod = await h2Pod(t, 'tls', tlsFiles(t.testdir()))
  const seen = await connectionSeen(`https://127.0.0.1:${pod.port}`)
  t.match(seen, { protocol: 'https', ip: '127.0.0.1', socketAlpn: 'h2', tlsVersion: /^TLSv1\.[23]$/, sessionEncrypted: true, sessionAlpn: 'h2' }, 'handlers see the TLS connection under the drain\'s transport')
  t.equal(seen.remotePort, seen.clientPort, 'and the client\'s own port')
  const outcome = await loopAcrossDrain(pod, `https://127.0.0.1:${pod.port}`)
  const exit = await pod.exited
  checkDrain(t, outcome, pod.logs, exit, 1)
})

t.test('drain.http2TlsTransport: false keeps Node\'s native TLS path, where the final GOAWAY comes alone', async (t) => {
  const pod = await h2Pod(t, 'tls', { ...tlsFiles(t.testdir()), DRAIN_OPTIONS: JSON.stringify({ idleCloseMs: 30000, http2TlsTransport: false }) })
  const outcome = await loopAcrossDrain(pod, `https://127.0.0.1:${pod.port}`)
  const exit = await pod.exited
  const stopped = pod.logs.find((l) => l.drain === 'stopped') as Stopped
  // No first step: every GOAWAY the client sees carries the last stream
  // received. Node's session.close() sends one; when the server destroys the
  // session before the client has closed it (a loaded machine), Node's
  // Http2Session::Close sends one more (nghttp2_session_terminate_session), with the same last stream.
  t.ok(outcome.goaways.length >= 1, 'a GOAWAY')
  t.same(outcome.goaways.filter(([, id]) => id >= MAX_STREAM_ID), [], `each with the last stream received (${outcome.goaways.map(([, id]) => id).join(', ')}), none with 2^31-1`)
  t.equal(new Set(outcome.goaways.map(([, id]) => id)).size, 1, 'the same last stream in each')
  t.same(outcome.failed, [], 'no stream the server received failed (refused ones were not processed)')
  t.equal(stopped.http2.streams, outcome.ok, 'every stream the server received was answered')
  t.match(stopped, { clean: true, cut: [], http2: { sessions: 1, goaways: 1, forced: 0 } })
  t.equal(exit.code, 0)
})

t.test('drain.http2TlsTransport: default true, a boolean or a coded TypeError naming it', async (t) => {
  t.equal(resolveDrainConfig({}, {}).http2TlsTransport, true)
  t.equal(resolveDrainConfig({ http2TlsTransport: false }, {}).http2TlsTransport, false)
  for (const bad of [0, 'false', null]) {
    t.throws(() => resolveDrainConfig({ http2TlsTransport: bad }, {}), { code: 'FST_ZD_INVALID_OPTION', message: /drain\.http2TlsTransport.*true or false/ })
  }
})

t.test('allowHTTP1: h2 and HTTP/1.1 clients at once on one port, each drained its own way', async (t) => {
  const pod = await h2Pod(t, 'tls+http1', tlsFiles(t.testdir()))
  const agent = new https.Agent({ keepAlive: true, maxSockets: 4, rejectUnauthorized: false })
  t.teardown(() => { agent.destroy() })
  // HTTP/1.1 sockets reach Node's listener untouched by the h2 transport.
  const h1Seen = await new Promise<Record<string, unknown>>((resolve, reject) => {
    https.get({ host: '127.0.0.1', port: pod.port, path: '/connection', rejectUnauthorized: false, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => { resolve(JSON.parse(body) as Record<string, unknown>) })
    }).on('error', reject)
  })
  // Node's https client offers no ALPN: the socket says false, as Node's own does.
  t.match(h1Seen, { protocol: 'https', ip: '127.0.0.1', socketAlpn: false, tlsVersion: /^TLSv1\.[23]$/ }, 'an HTTP/1.1 handler sees its TLS socket')
  const h1 = { ok: 0, failed: [] as string[], close: 0, neverConnected: 0 }
  let h2Done = false
  const h1Loop = Promise.all(Array.from({ length: 4 }, async () => {
    // Bounded by the h2 loop: it ends when the server sent its GOAWAY.
    while (!h2Done) {
      await new Promise<void>((resolve) => {
        // Whether this request's socket finished its TLS handshake: a pooled
        // socket had; a new one has once 'secureConnect' fired.
        let handshaken = false
        https.get({ host: '127.0.0.1', port: pod.port, path: '/', agent }, (res) => {
          res.resume()
          res.on('end', () => {
            if (res.statusCode === 200) h1.ok++
            else h1.failed.push(String(res.statusCode))
            if (res.headers.connection === 'close') h1.close++
            resolve()
          })
        }).on('socket', (socket) => {
          if (socket.connecting) socket.once('secureConnect', () => { handshaken = true })
          else handshaken = true
        }).on('error', (err: NodeJS.ErrnoException) => {
          // The listener closes at drain start (no delay): a new connection is
          // refused, or, if the kernel had queued it just before the close, reset
          // before its TLS handshake. Either way no request was sent.
          if (err.code === 'ECONNREFUSED' || (err.code === 'ECONNRESET' && !handshaken)) h1.neverConnected++
          else h1.failed.push(`${String(err.code)} (handshaken: ${String(handshaken)})`)
          resolve()
        })
      })
    }
  }))
  const outcome = await loopAcrossDrain(pod, `https://127.0.0.1:${pod.port}`)
  h2Done = true
  await h1Loop
  const exit = await pod.exited
  const stopped = pod.logs.find((l) => l.drain === 'stopped') as Stopped
  t.same(h1.failed, [], 'no HTTP/1.1 request failed')
  t.ok(h1.ok > 0 && h1.close > 0, 'HTTP/1.1 connections retired with Connection: close')
  t.ok(stopped.connections.retired > 0 && stopped.connections.retired <= 4, `HTTP/1.1 connections counted as connections (${stopped.connections.retired})`)
  t.same(outcome.failed, [], 'no h2 stream failed')
  t.equal(outcome.refused, 0, 'no h2 stream refused')
  checkGoAways(t, outcome)
  t.equal(stopped.http2.streams, outcome.ok, 'every h2 stream the server received was answered')
  t.match(stopped, { clean: true, cut: [], http2: { sessions: 1, goaways: 1, forced: 0 } })
  checkPromptEnd(t, pod.logs)
  t.equal(exit.code, 0)
})

t.test('an idle session is told to go away after idleCloseMs; the deadline cuts a stream and names it', async (t) => {
  const pod = await h2Pod(t, 'h2c', {
    TERMINATION_GRACE_PERIOD_SECONDS: '4',
    PRESTOP_SLEEP_SECONDS: '0',
    DRAIN_OPTIONS: JSON.stringify({ delayMs: 0, idleCloseMs: 100, requestTimeoutMs: 1000, cleanupTimeoutMs: 500, marginMs: 500 })
  })
  const idle = await connect(`http://127.0.0.1:${pod.port}`)
  const idleGoAway = new Promise<number[]>((resolve) => {
    const got: number[] = []
    idle.on('goaway', (_code: number, last: number) => { got.push(last) })
    idle.once('close', () => { resolve(got) })
  })
  const busy = await connect(`http://127.0.0.1:${pod.port}`)
  const slow = busy.request({ ':path': '/slow?ms=60000' })
  slow.on('error', () => {})
  slow.resume()
  const slowEnded = new Promise<string>((resolve) => {
    slow.on('close', () => { resolve(`rst ${slow.rstCode}`) })
  })
  await pod.waitForLog((l) => l.msg === 'slow request started')
  pod.kill('SIGTERM')

  // Node's client ends a session with no stream as soon as a NO_ERROR GOAWAY arrives.
  t.same(await idleGoAway, [MAX_STREAM_ID], 'the idle session got the graceful GOAWAY and ended')
  const exit = await pod.exited
  t.equal(exit.code, 1, 'a cut drain exits non-zero')
  t.match(await slowEnded, /^rst /, 'the cut stream ended')
  const cut = pod.logs.find((l) => l.drain === 'cut') as LogLine & { requests: Array<{ method: string, url: string }>, forcedSessions: number }
  t.equal(cut.forcedSessions, 1)
  t.match(cut.requests, [{ method: 'GET', url: '/slow?ms=60000' }], 'names the stream it cut')
  t.match(pod.logs.find((l) => l.drain === 'stopped'), { clean: false, http2: { sessions: 2, streamsServed: 0, goaways: 2, idleClosed: 1, forced: 1 } }, 'the one stream was cut, not served')
  busy.destroy()
})

t.test('h2 over TLS: a request and a response larger than the TLS socket\'s buffers arrive whole through the drain\'s transport', async (t) => {
  const files = tlsFiles(t.testdir())
  const server = http2.createSecureServer({ key: readFileSync(files.TLS_KEY!), cert: readFileSync(files.TLS_CERT!) })
  const tracker = new Http2SessionTracker(server)
  // 4 MiB each way: the session's writes fill the TLS socket's queue (16 KiB)
  // and must wait for its 'drain'; the TLS records read fill the transport's
  // readable buffer and pause the TLS socket until the session reads on.
  const body = Buffer.alloc(4 * 1024 * 1024, 'abcdefghijklmnopqrstuvwxyz')
  let received = Buffer.alloc(0)
  server.on('stream', (stream) => {
    const chunks: Buffer[] = []
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('end', () => {
      received = Buffer.concat(chunks)
      stream.respond({ ':status': 200 })
      stream.end(body)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  const session = http2.connect(`https://127.0.0.1:${(server.address() as AddressInfo).port}`, { rejectUnauthorized: false })
  t.teardown(() => { session.destroy() })
  const req = session.request({ ':path': '/', ':method': 'POST' })
  req.end(body)
  const hash = createHash('sha256')
  let length = 0
  for await (const chunk of req) {
    hash.update(chunk as Buffer)
    length += (chunk as Buffer).length
  }
  t.equal(tracker.counts.connections, 1, 'through the tracked session')
  t.equal(length, body.length, 'every byte')
  t.equal(hash.digest('hex'), createHash('sha256').update(body).digest('hex'), 'in order')
  t.ok(received.equals(body), 'and the request body the server read, whole and in order')
})

t.test('the TLS transport is not put in where Node\'s HTTP/2 connection listener is not found', async (t) => {
  const files = tlsFiles(t.testdir())
  const server = http2.createSecureServer({ key: readFileSync(files.TLS_KEY!), cert: readFileSync(files.TLS_CERT!) })
  server.removeAllListeners('secureConnection')
  const own = (): void => {}
  server.on('secureConnection', own)
  t.equal(interposeTlsTransport(server, () => { t.fail('no transport') }), false)
  t.same(server.rawListeners('secureConnection'), [own], 'the listeners are left as they were')
})
