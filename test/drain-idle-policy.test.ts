// The idle-close policy on a fake clock (no timers, no wall clock): one close
// in flight per client address, least recently used first (by last use from
// before the drain), held while the address keeps sending, never before
// idleCloseMs; the keep-alive hint arithmetic; the option's validation. Then
// over real sockets: a pool of idle connections closed one at a time, each
// after its client's own close of the previous one, in the order of their last
// request; a pool walked by its client not closed under it; the hint header.
import { once } from 'node:events'
import http from 'node:http'
import net from 'node:net'
import t from 'tap'
import { resolveDrainConfig } from '../src/drain/drain-options.js'
import { IdleClosePolicy, QUIET_SPACINGS, type IdleSocket } from '../src/drain/idle-policy.js'
import { keepAliveHintMs } from '../src/drain/keep-alive-hint.js'
import { drainApp } from './fixtures/drain/app.js'

function fakeClock (start = 1000): { now: () => number, advance: (ms: number) => void } {
  let time = start
  return { now: () => time, advance: (ms) => { time += ms } }
}

t.test('one close in flight per address, the socket used longest ago first, the next once the client closed it', async (t) => {
  const clock = fakeClock()
  const policy = new IdleClosePolicy<string>({ idleCloseMs: 5000, spacingMs: 250 }, clock.now)
  const idle = new Map<string, IdleSocket>([
    ['a-new', { address: 'A', idleSince: 900, lastUse: 9 }],
    ['a-old', { address: 'A', idleSince: 100, lastUse: 1 }],
    ['a-mid', { address: 'A', idleSince: 500, lastUse: 5 }],
    ['b-1', { address: 'B', idleSince: 800, lastUse: 8 }]
  ])
  t.same(policy.plan(idle), { end: [], destroy: [], nextInMs: 4100 }, 'none before idleCloseMs: the first is due at 5100')
  clock.advance(5000)
  t.same(policy.plan(idle).end, ['a-old', 'b-1'], 'the least recently used of each address, not the rest')
  t.same(policy.plan(idle).end, [], 'nothing more while those wait for their client')
  idle.delete('a-old')
  clock.advance(1)
  t.same(policy.plan(idle), { end: ['a-mid'], destroy: [], nextInMs: 249 }, 'the next of A once its client closed the first (B still waits 249 ms)')
  idle.delete('b-1')
  clock.advance(1)
  t.same(policy.plan(idle).end, [], 'B has nothing left; A still waits')
  t.equal(policy.closing, 1)
})

t.test('idle since the drain start alike: the order of last use before it decides, not the order of connection', async (t) => {
  const clock = fakeClock(0)
  const policy = new IdleClosePolicy<string>({ idleCloseMs: 100, spacingMs: 250 }, clock.now)
  // All idle before the drain: the caller clamps idleSince to the drain start (0).
  const idle = new Map<string, IdleSocket>([
    ['first-connected', { address: 'A', idleSince: 0, lastUse: 40 }],
    ['second', { address: 'A', idleSince: 0, lastUse: 7 }],
    ['third', { address: 'A', idleSince: 0, lastUse: 12 }]
  ])
  clock.advance(100)
  const closed: string[] = []
  for (let i = 0; i < 3; i++) {
    const { end } = policy.plan(idle)
    t.equal(end.length, 1, `close ${i + 1}: one at a time`)
    closed.push(end[0] as string)
    idle.delete(end[0] as string)
  }
  t.same(closed, ['second', 'third', 'first-connected'], 'the end of a LIFO pool first: the client would reach it last')
})

t.test('while its client reaches into the pool, an address is held until quiet for QUIET_SPACINGS x spacingMs; others are not', async (t) => {
  t.equal(QUIET_SPACINGS, 4, 'the documented default: 1 s at idleCloseSpacingMs 250')
  const spacingMs = 25
  const quietMs = QUIET_SPACINGS * spacingMs
  const clock = fakeClock(0)
  const policy = new IdleClosePolicy<string>({ idleCloseMs: 1000, spacingMs }, clock.now)
  const idle = new Map<string, IdleSocket>([['a', { address: 'A', idleSince: 0, lastUse: 1 }], ['b', { address: 'B', idleSince: 0, lastUse: 2 }]])
  const lastRequestAt = new Map([['A', 1030 - quietMs]])
  clock.advance(1000)
  t.same(policy.plan(idle, lastRequestAt), { end: ['b'], destroy: [], nextInMs: 25 }, 'A had a request lately: held until 1030; B closes (its FIN answered within 25)')
  idle.delete('b')
  clock.advance(30)
  lastRequestAt.set('A', 1030)
  t.same(policy.plan(idle, lastRequestAt), { end: [], destroy: [], nextInMs: quietMs }, 'another request: quiet only quietMs later')
  clock.advance(quietMs - 1)
  t.same(policy.plan(idle, lastRequestAt).end, [], 'held the whole quiet time')
  clock.advance(1)
  t.same(policy.plan(idle, lastRequestAt).end, ['a'], 'quiet: closed')
})

t.test('the hold is bounded: an address that never goes quiet is closed idleCloseMs after due', async (t) => {
  const clock = fakeClock(0)
  const policy = new IdleClosePolicy<string>({ idleCloseMs: 100, spacingMs: 250 }, clock.now)
  const idle = new Map<string, IdleSocket>([['a', { address: 'A', idleSince: 0, lastUse: 1 }]])
  const lastRequestAt = new Map<string, number>()
  const closedAt: number[] = []
  // A request every 100 ms, forever: bounded loop over 3 s of fake time.
  for (let ms = 0; ms <= 3000 && closedAt.length === 0; ms += 50) {
    if (ms % 100 === 0) lastRequestAt.set('A', ms)
    if (policy.plan(idle, lastRequestAt).end.length > 0) closedAt.push(ms)
    clock.advance(50)
  }
  t.same(closedAt, [200], 'due at 100, closed at 200 despite the requests')
})

/** Raw keep-alive clients that answer the server's FIN only when the test does (allowHalfOpen). */
async function rawClients (port: number, count: number): Promise<net.Socket[]> {
  return await Promise.all(Array.from({ length: count }, async () => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true })
    await once(socket, 'connect')
    return socket
  }))
}

async function get (socket: net.Socket): Promise<string> {
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
  const [chunk] = await once(socket, 'data') as [Buffer]
  return chunk.toString()
}

t.test('a client that never answers the FIN is destroyed after spacingMs, and the next one goes', async (t) => {
  const clock = fakeClock(0)
  const policy = new IdleClosePolicy<string>({ idleCloseMs: 100, spacingMs: 250 }, clock.now)
  const idle = new Map<string, IdleSocket>([['x', { address: 'A', idleSince: 0, lastUse: 1 }], ['y', { address: 'A', idleSince: 10, lastUse: 2 }]])
  clock.advance(200)
  t.same(policy.plan(idle), { end: ['x'], destroy: [], nextInMs: 250 })
  clock.advance(249)
  t.same(policy.plan(idle), { end: [], destroy: [], nextInMs: 1 }, 'waits the whole bound')
  clock.advance(1)
  t.same(policy.plan(idle), { end: ['y'], destroy: ['x'], nextInMs: 250 }, 'half-open peer destroyed, next one half-closed')
})

t.test('spacingMs 0, and idleCloseMs 0 (the prompt drain), destroy every due socket at once', async (t) => {
  const clock = fakeClock(0)
  const idle = new Map<string, IdleSocket>([['x', { address: 'A', idleSince: 0, lastUse: 1 }], ['y', { address: 'A', idleSince: 0, lastUse: 2 }], ['z', { address: 'A', idleSince: 50, lastUse: 3 }]])
  clock.advance(100)
  t.same(new IdleClosePolicy<string>({ idleCloseMs: 100, spacingMs: 0 }, clock.now).plan(idle), { end: [], destroy: ['x', 'y'], nextInMs: 50 })
  t.same(new IdleClosePolicy<string>({ idleCloseMs: 0, spacingMs: 250 }, clock.now).plan(idle), { end: [], destroy: ['x', 'y', 'z'], nextInMs: undefined })
})

t.test('the keep-alive hint: whole seconds, at least one before idle closing, never past the server\'s own timeout', async (t) => {
  t.equal(keepAliveHintMs(5000, 72000), 4000)
  t.equal(keepAliveHintMs(5999, 72000), 4000)
  t.equal(keepAliveHintMs(15000, 5000), 5000, 'the server closes at 5 s: never advertise longer')
  t.equal(keepAliveHintMs(4000, 72000), 3000)
  t.equal(keepAliveHintMs(3999, 72000), 0, 'a hint under 3 s would turn keep-alive off for undici (it subtracts 2 s): no header')
  t.equal(keepAliveHintMs(15000, 2000), 0, 'nor when the server itself keeps sockets under 3 s')
  t.equal(keepAliveHintMs(0, 72000), 0)
})

t.test('drain.idleCloseSpacingMs: default 250, 0 allowed, bad values refused naming the option', async (t) => {
  t.equal(resolveDrainConfig({}, {}).idleCloseSpacingMs, 250)
  t.equal(resolveDrainConfig({ idleCloseSpacingMs: 0 }, {}).idleCloseSpacingMs, 0)
  for (const bad of [-1, '250', Number.NaN, 2 ** 31]) {
    t.throws(() => resolveDrainConfig({ idleCloseSpacingMs: bad }, {}), { code: 'FST_ZD_INVALID_OPTION', message: /option "drain.idleCloseSpacingMs" must be a non-negative number of milliseconds/ })
  }
})

t.test('real sockets: idle connections of one address are closed one at a time, each after the client closed the previous', async (t) => {
  const { app } = await drainApp({ idleCloseMs: 100, idleCloseSpacingMs: 5000 })
  app.get('/', async () => ({ ok: true }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as net.AddressInfo).port
  // Raw clients that do NOT answer the server's FIN until told to: the drain
  // must not half-close a second one meanwhile.
  const sockets = await Promise.all([0, 1, 2].map(async () => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true })
    await once(socket, 'connect')
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    await once(socket, 'data')
    return socket
  }))
  const ended: net.Socket[] = []
  let onEnd: (s: net.Socket) => void = () => {}
  for (const s of sockets) s.once('end', () => { ended.push(s); onEnd(s) })
  const nextEnd = (): Promise<net.Socket> => new Promise((resolve) => { onEnd = resolve })
  let next = nextEnd()
  const report = app.zeroDowntime.drain('pool')
  for (let i = 0; i < 3; i++) {
    const s = await next
    // Another FIN would arrive while this one is unanswered if the drain did not wait.
    await new Promise((resolve) => setTimeout(resolve, 50))
    t.equal(ended.length, i + 1, `close ${i + 1}: only one FIN outstanding`)
    t.equal(s, sockets[i], `close ${i + 1}: the one idle longest (answered first)`)
    next = nextEnd()
    s.end()
  }
  t.match(await report, { clean: true, connections: { idleClosed: 3, forced: 0 } })
})

t.test('real sockets: the connection whose last request is oldest is closed first, whatever the order they connected in', async (t) => {
  const { app } = await drainApp({ idleCloseMs: 100, idleCloseSpacingMs: 5000 })
  app.get('/', async () => ({ ok: true }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const sockets = await rawClients((app.server.address() as net.AddressInfo).port, 3)
  // Used in the order 2, 0, 1 (a LIFO pool would reach 1 first, 2 last).
  for (const i of [2, 0, 1]) await get(sockets[i] as net.Socket)
  const order: number[] = []
  const report = app.zeroDowntime.drain('lru')
  for (let i = 0; i < 3; i++) {
    const ended = await Promise.race(sockets.map(async (s, index) => { await once(s, 'end'); return index }).filter((_, index) => !order.includes(index)))
    order.push(ended)
    sockets[ended]?.end()
  }
  t.same(order, [2, 0, 1])
  t.match(await report, { clean: true, connections: { idleClosed: 3 } })
})

t.test('real sockets: while the client walks its pool (each socket it uses retires), the socket it reaches last is not closed under it', async (t) => {
  const { app } = await drainApp({ idleCloseMs: 1000, idleCloseSpacingMs: 250 })
  app.get('/', async () => ({ ok: true }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const [deepest, ...pool] = await rawClients((app.server.address() as net.AddressInfo).port, 16) as [net.Socket, ...net.Socket[]]
  for (const s of [deepest, ...pool]) await get(s)
  let deepestEnded = false
  deepest.once('end', () => { deepestEnded = true })
  const report = app.zeroDowntime.drain('walk')
  // LIFO: the socket used last first, 80 ms apart: 15 x 80 ms outlasts idleCloseMs (1 s) and stays within its hold (1 s more).
  const closedDuringWalk: boolean[] = []
  for (const s of pool.reverse()) {
    const response = await get(s)
    t.match(response, /connection: close/i)
    closedDuringWalk.push(deepestEnded)
    await new Promise((resolve) => setTimeout(resolve, 80))
  }
  t.notOk(closedDuringWalk.includes(true), 'the deepest socket got no FIN while its client kept reaching into the pool')
  if (!deepestEnded) await once(deepest, 'end')
  deepest.end()
  t.match(await report, { clean: true, connections: { retired: 15, idleClosed: 1, forced: 0 } })
})

t.test('real sockets: keep-alive responses advertise the hint, a drain response does not', async (t) => {
  const { app } = await drainApp({ idleCloseMs: 5000 })
  app.get('/', async () => ({ ok: true }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as net.AddressInfo).port
  const agent = new http.Agent({ keepAlive: true })
  t.teardown(() => { agent.destroy() })
  const get = async (): Promise<http.IncomingMessage> => {
    const [res] = await once(http.get({ port, host: '127.0.0.1', path: '/', agent }), 'response') as [http.IncomingMessage]
    res.resume()
    await once(res, 'end')
    return res
  }
  t.equal((await get()).headers['keep-alive'], 'timeout=4')
  t.equal(app.server.keepAliveTimeout, 72000, "the server's own idle timeout is unchanged")
  const report = app.zeroDowntime.drain('hint')
  const res = await get()
  t.equal(res.headers.connection, 'close')
  t.equal(res.headers['keep-alive'], undefined)
  await report
})
