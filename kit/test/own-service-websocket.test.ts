// The WebSocket scenario against a real `ws` server: the preflight takes a
// 101 for "there" and anything else for a refused upgrade; the clients count
// a 1001 "Going Away" as a clean hand-over and reconnect, a connection cut
// without a close frame as a drop, a refused upgrade as refused.
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { WebSocketServer, type WebSocket } from 'ws'
import { Recorder } from '../src/load/accounting.js'
import { preflight } from '../src/load/preflight.js'
import { selectScenarios, SCENARIOS } from '../src/load/scenarios.js'
import { DEFAULT_TRAFFIC, type Traffic } from '../src/load/traffic.js'
import { webSocketClients } from '../src/load/websocket-client.js'
import { until } from '../../test/helpers/wait.js'

async function wsServer (t: { teardown: (fn: () => void) => void }) {
  const http = createServer((req, res) => { res.statusCode = req.url === '/plain' ? 200 : 404; res.end() })
  const wss = new WebSocketServer({ noServer: true })
  const sockets: WebSocket[] = []
  http.on('upgrade', (req, socket, head) => {
    // A route that is there but takes no upgrade answers 400.
    if (req.url !== '/ws') { socket.end(`HTTP/1.1 ${req.url === '/plain' ? '400 Bad Request' : '404 Not Found'}\r\ncontent-length: 0\r\n\r\n`); return }
    wss.handleUpgrade(req, socket, head, (ws) => { sockets.push(ws) })
  })
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')
  t.teardown(() => { for (const s of sockets) s.terminate(); http.closeAllConnections(); http.close() })
  return { port: (http.address() as AddressInfo).port, sockets }
}

const at = (path: string): Traffic => ({ ...DEFAULT_TRAFFIC, websocket: { ...DEFAULT_TRAFFIC.websocket, request: { method: 'GET', path } } })

t.test('the websocket scenario is opt-in: not in rollout\'s default set', async (t) => {
  t.same(SCENARIOS.filter((s) => s.optIn === true).map((s) => s.name), ['websocket'])
})

t.test('preflight: 101 is there; 404 is not; any other answer refused the upgrade', async (t) => {
  const { port } = await wsServer(t)
  const address = { host: '127.0.0.1', port }
  const ws = selectScenarios(['websocket'])
  t.same((await preflight(address, ws, at('/ws'), 'service', 2000)).notRun, [])
  t.same((await preflight(address, ws, at('/nope'), 'service', 2000)).notRun.map((n) => n.reason), ['GET /nope answered 404; point it with --websocket-path or leave it out'])
  t.same((await preflight(address, ws, at('/plain'), 'service', 2000)).notRun.map((n) => n.reason), ['GET /plain answered 400, not 101: the WebSocket upgrade was refused; point it with --websocket-path or leave it out'])
})

t.test('clients: Going Away hands over, a cut is a drop, a refused upgrade is refused, open ones are served at stop', async (t) => {
  const { port, sockets } = await wsServer(t)
  const recorder = new Recorder(() => 0)
  const target = { host: '127.0.0.1', port, recorder, podFor: () => undefined, requestTimeoutMs: 2000 }
  const load = webSocketClients(target, 2, '/ws')
  await until(() => sockets.length >= 2, 'both connected', { intervalMs: 20 })
  sockets[0]!.close(1001, 'going away')
  await until(() => sockets.length >= 3, 'the client reconnected', { intervalMs: 20 })
  sockets[1]!.terminate()
  await until(() => recorder.dropped >= 1, 'the cut connection counted', { intervalMs: 20 })
  await load.stop()
  const kind = 'GET /ws (WebSocket)'
  t.same(recorder.counts.failed, { cut: 1 })
  t.equal(recorder.failures[0]?.code, 'close 1006')
  t.equal(recorder.counts.sent, recorder.settled, 'every connection settled once')
  t.equal(recorder.byRequest[kind]?.ok, recorder.counts.sent - 1, 'the hand-over and the ones open at stop are served')

  const refused = new Recorder(() => 0)
  const nowhere = webSocketClients({ ...target, host: '::1', recorder: refused }, 1, '/nope')
  await until(() => refused.dropped >= 1, 'a refused one counted', { intervalMs: 20 })
  await nowhere.stop()
  t.match(refused.failures[0], { kind: 'refused', code: 'upgrade failed' })
})
