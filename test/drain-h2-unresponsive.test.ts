// HTTP/2 peers that stop answering during a drain (issue 27 item 2): a peer
// that never answers the drain's PING (a paused container, a stuck event loop,
// a half-open connection) is given the final GOAWAY after the bound HTTP/1.1
// gives a peer that never answers a FIN (drain.idleCloseSpacingMs), and no
// longer holds the drain to its hard deadline. Real h2c over a real socket: the
// peer speaks just enough HTTP/2 by hand to open a session, then goes silent.
import { once } from 'node:events'
import http2 from 'node:http2'
import net from 'node:net'
import t from 'tap'
import { Http2SessionTracker } from '../src/drain/http2-sessions.js'
import { drainApp } from './fixtures/drain/app.js'
import { FakeClock } from './helpers/fake-clock.js'
import { until } from './helpers/wait.js'

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
/** An empty SETTINGS frame (RFC 9113 6.5): all the peer ever sends. */
const SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])
const FRAME_PING = 0x6
const FRAME_GOAWAY = 0x7

interface Frame { type: number, flags: number, payload: Buffer }

/** Opens a session by hand and never answers anything; collects what the server sends. */
async function silentPeer (port: number): Promise<{ socket: net.Socket, frames: Frame[], closed: Promise<unknown> }> {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  await once(socket, 'connect')
  const frames: Frame[] = []
  let buffered = Buffer.alloc(0)
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk])
    while (buffered.length >= 9) {
      const length = buffered.readUIntBE(0, 3)
      if (buffered.length < 9 + length) break
      frames.push({ type: buffered[3]!, flags: buffered[4]!, payload: buffered.subarray(9, 9 + length) })
      buffered = buffered.subarray(9 + length)
    }
  })
  const closed = once(socket, 'close')
  socket.write(Buffer.concat([PREFACE, SETTINGS]))
  return { socket, frames, closed }
}

t.test('a peer that never answers the drain\'s PING gets the final GOAWAY after the spacing bound, not the deadline', async (t) => {
  // Idle sessions are told to go away at once; the deadline is 8.5 s away.
  const { app } = await drainApp({ idleCloseMs: 0, idleCloseSpacingMs: 200 }, { http2: true } as never)
  app.get('/', async () => 'ok')
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  const port = (app.server.address() as net.AddressInfo).port
  const answering = http2.connect(`http://127.0.0.1:${port}`)
  answering.on('error', () => {})
  await once(answering, 'connect')
  const peer = await silentPeer(port)
  const report = await app.zeroDowntime.drain('test', { delayMs: 0 })
  await peer.closed
  const goAways = peer.frames.filter((f) => f.type === FRAME_GOAWAY).map((f) => f.payload.readUInt32BE(0) & 0x7fffffff)
  t.ok(peer.frames.some((f) => f.type === FRAME_PING && (f.flags & 1) === 0), 'the drain sent a PING the peer never answered')
  t.equal(goAways[0], 2 ** 31 - 1, 'the graceful GOAWAY first')
  t.ok(goAways.length >= 2 && goAways.slice(1).every((last) => last === 0), 'then the final one (no stream received), although no PING ACK came')
  t.match(report, { clean: true, cut: [], http2: { sessions: 2, goaways: 2, idleClosed: 2, forced: 0 } }, 'let go, not cut at the deadline')
  answering.destroy()
})

t.test('a session whose PINGs are all outstanding already gets the final GOAWAY at once: the drain\'s PING cannot be sent', async (t) => {
  // One outstanding PING allowed, and the app's own (a liveness probe of its
  // client) takes it: Node refuses the drain's (session.ping() is false).
  const server = http2.createServer({ maxOutstandingPings: 1 })
  const clock = new FakeClock()
  const tracker = new Http2SessionTracker(server, { clock, pingTimeoutMs: 60_000 })
  const sessions: http2.ServerHttp2Session[] = []
  server.on('session', (session) => { sessions.push(session) })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  const peer = await silentPeer((server.address() as net.AddressInfo).port)
  const [session] = sessions.length > 0 ? sessions : await once(server, 'session') as [http2.ServerHttp2Session]
  if (session!.connecting) await once(session!, 'connect')
  t.equal(session!.ping(() => {}), true, 'the app\'s PING is sent')
  const [connection] = [...tracker.connections()]
  t.equal(tracker.retire(connection!, 'max-age'), true)
  await peer.closed
  const goAways = peer.frames.filter((f) => f.type === FRAME_GOAWAY).map((f) => f.payload.readUInt32BE(0) & 0x7fffffff)
  t.equal(peer.frames.filter((f) => f.type === FRAME_PING).length, 1, 'only the app\'s PING went out')
  t.equal(goAways[0], 2 ** 31 - 1, 'the graceful GOAWAY first')
  t.ok(goAways.length >= 2 && goAways.slice(1).every((last) => last === 0), 'then the final one (no stream received)')
  t.equal(clock.now(), 0, 'without waiting for the PING bound')
  t.same(clock.pending, [], 'and no bound left pending')
})

t.test('pingTimeoutMs 0 (idle connections closed at once) still bounds the wait for the PING ACK by 250 ms', async (t) => {
  const server = http2.createServer()
  const clock = new FakeClock()
  const tracker = new Http2SessionTracker(server, { clock, pingTimeoutMs: 0 })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  const accepted = once(server, 'session') as Promise<[http2.ServerHttp2Session]>
  const peer = await silentPeer((server.address() as net.AddressInfo).port)
  const [session] = await accepted
  if (session.connecting) await once(session, 'connect')
  const [connection] = [...tracker.connections()]
  t.equal(tracker.retire(connection!, 'max-age'), true)
  t.same(clock.pending.map((x) => x.at), [250], 'the final GOAWAY waits for the ACK, 250 ms at most')
  await clock.advanceTo(250)
  await peer.closed
  const goAways = peer.frames.filter((f) => f.type === FRAME_GOAWAY).map((f) => f.payload.readUInt32BE(0) & 0x7fffffff)
  t.ok(peer.frames.some((f) => f.type === FRAME_PING && (f.flags & 1) === 0), 'the PING went out, unanswered')
  t.equal(goAways[0], 2 ** 31 - 1, 'the graceful GOAWAY first')
  t.ok(goAways.length >= 2 && goAways.slice(1).every((last) => last === 0), 'the final one once the bound passed')
})

t.test('two idle sessions on a fake clock: looked at again when they are due, then both told to go away', async (t) => {
  const server = http2.createServer()
  const clock = new FakeClock()
  const tracker = new Http2SessionTracker(server, { clock })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  const peers = [await silentPeer((server.address() as net.AddressInfo).port), await silentPeer((server.address() as net.AddressInfo).port)]
  await until(() => tracker.counts.connections === 2, 'both sessions tracked', { intervalMs: 1 })
  tracker.startRetiring({ idleCloseMs: 100, spacingMs: 250 })
  t.equal(tracker.closeIdle(), 100, 'both due 100 ms after the drain start')
  await clock.advanceTo(100)
  t.equal(tracker.closeIdle(), undefined, 'both told to go away: none left idle')
  for (const peer of peers) {
    await until(() => peer.frames.some((f) => f.type === FRAME_GOAWAY), 'the graceful GOAWAY reached the peer', { intervalMs: 1 })
    peer.socket.destroy()
  }
})
