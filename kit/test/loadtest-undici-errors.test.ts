// The undici client: each of undici's own errors counted as the kind the
// report shows (a real body timeout among them); and a request with a body
// sent as JSON.
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { errors } from 'undici'
import { Recorder } from '../src/load/accounting.js'
import { undiciFailureOf, undiciLoop } from '../src/load/undici-client.js'
import { until } from '../../test/helpers/wait.js'

t.test("undici's errors in the report's kinds", async (t) => {
  t.same(undiciFailureOf(new errors.SocketError('other side closed')), { kind: 'reset', code: 'UND_ERR_SOCKET' })
  t.same(undiciFailureOf(new errors.ConnectTimeoutError()), { kind: 'timeout', code: 'UND_ERR_CONNECT_TIMEOUT' })
  t.same(undiciFailureOf(new errors.HeadersTimeoutError()), { kind: 'timeout', code: 'UND_ERR_HEADERS_TIMEOUT' })
  t.same(undiciFailureOf(new errors.BodyTimeoutError()), { kind: 'timeout', code: 'UND_ERR_BODY_TIMEOUT' })
  t.same(undiciFailureOf(new errors.ClientClosedError()), { kind: 'reset', code: 'UND_ERR_CLOSED' })
  t.same(undiciFailureOf(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), { kind: 'refused', code: 'ECONNREFUSED' }, 'the rest as for node:http')
})

t.test('undiciLoop: a request with a body is sent as JSON; one whose answer stalls is a timeout', async (t) => {
  const received: string[] = []
  let n = 0
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => { body += c })
    req.on('end', () => {
      received.push(`${String(req.method)} ${String(req.headers['content-type'])} ${body}`)
      // The fourth answer starts and never ends: undici's body timeout.
      if (++n === 4) res.write('partial')
      else res.end('ok')
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const recorder = new Recorder(() => performance.now())
  const target = { host: '127.0.0.1', port: (server.address() as AddressInfo).port, recorder, podFor: () => undefined, requestTimeoutMs: 2000 }
  const load = undiciLoop(target, { connections: 1, request: { method: 'POST', path: '/orders', body: '{"n":1}' } })
  await until(() => recorder.counts.ok >= 5 && recorder.dropped >= 1, 'five answered after the stalled one')
  await load.stop()
  t.same([...new Set(received)], ['POST application/json {"n":1}'])
  t.same(recorder.failures.map((f) => `${f.kind} ${f.code ?? ''}`), ['timeout UND_ERR_BODY_TIMEOUT'], 'the stalled answer, and nothing else')
  t.equal(recorder.counts.sent, recorder.settled)
})
