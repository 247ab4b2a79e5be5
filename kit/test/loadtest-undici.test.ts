// The kit's undici client over real sockets: every request settled once, a
// connection closed under a request counted as a reset, undici's error codes
// mapped to the report's kinds.
import { createServer } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { Pool } from 'undici'
import { Recorder } from '../src/load/accounting.js'
import { undiciFailureOf, undiciLoop } from '../src/load/undici-client.js'

t.test('undici error codes map to the kinds the report shows', async (t) => {
  const err = (code: string): Error & { code: string } => Object.assign(new Error(code), { code })
  t.same(undiciFailureOf(err('UND_ERR_SOCKET')), { kind: 'reset', code: 'UND_ERR_SOCKET' })
  t.same(undiciFailureOf(err('UND_ERR_HEADERS_TIMEOUT')), { kind: 'timeout', code: 'UND_ERR_HEADERS_TIMEOUT' })
  t.same(undiciFailureOf(err('ECONNREFUSED')), { kind: 'refused', code: 'ECONNREFUSED' })
})

t.test('undiciLoop: requests settle once each; a socket destroyed under a request is a reset', async (t) => {
  let served = 0
  const server = createServer((req, res) => {
    // Every third request loses its connection before an answer.
    if (++served % 3 === 0) req.socket.destroy()
    else res.end('ok')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  const recorder = new Recorder(() => performance.now())
  const target = { host: '127.0.0.1', port: (server.address() as AddressInfo).port, recorder, podFor: () => undefined, requestTimeoutMs: 5000 }
  const load = undiciLoop(target, { connections: 3, request: { method: 'GET', path: '/' } })
  // Bounded by its own count, not the clock.
  for (let i = 0; i < 1000 && recorder.counts.sent < 30; i++) await new Promise((resolve) => setTimeout(resolve, 5))
  await load.stop()
  t.equal(recorder.counts.sent, recorder.settled, 'every request settled')
  t.ok(recorder.counts.ok > 0)
  t.ok((recorder.counts.failed.reset ?? 0) > 0, 'the destroyed ones are resets')
})

t.test('undiciLoop: each request is counted on the pod of the connection it went out on; other pools\' requests are not its own', async (t) => {
  const server = createServer((req, res) => { res.end('ok') })
  const clientPorts = new Set<number>()
  server.on('connection', (socket) => { clientPorts.add(socket.remotePort as number) })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  const port = (server.address() as AddressInfo).port
  const recorder = new Recorder(() => performance.now())
  // The pod of a connection, as the L4 relay knows it: here, any connection the server accepted.
  const podFor = (clientPort: number | undefined): string | undefined => clientPort !== undefined && clientPorts.has(clientPort) ? 'pod-a' : undefined
  const load = undiciLoop({ host: '127.0.0.1', port, recorder, podFor, requestTimeoutMs: 5000 }, { connections: 2, request: { method: 'POST', path: '/echo', body: '{}' } })
  const other = new Pool(`http://127.0.0.1:${port}`)
  t.teardown(async () => { await other.close() })
  for (let i = 0; i < 1000 && recorder.counts.ok < 20; i++) {
    // A request of another pool in the same process, seen on the same channel.
    await (await other.request({ method: 'GET', path: '/' })).body.text()
  }
  await load.stop()
  t.ok(recorder.counts.ok >= 20)
  t.same(recorder.served, { 'pod-a': recorder.counts.ok }, 'every answered request on its pod')
})
