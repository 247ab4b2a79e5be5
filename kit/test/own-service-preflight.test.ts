// The preflight against real servers: a route that is not there keeps its
// scenario out (with the flag that points it elsewhere), anything else - an
// answer, an error, a timeout - lets it run and count.
import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createH2Server, constants } from 'node:http2'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { preflight } from '../src/load/preflight.js'
import { SCENARIOS, selectScenarios, type Scenario } from '../src/load/scenarios.js'
import { DEFAULT_TRAFFIC, type Traffic } from '../src/load/traffic.js'

const LOCAL = '127.0.0.1'

async function h1 (t: Test, handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: string[] = []
  const s = createServer((req, res) => { seen.push(`${req.method as string} ${req.url as string} ${req.headers.accept ?? ''}`.trim()); req.resume(); handler(req, res) })
  s.listen(0, LOCAL)
  await once(s, 'listening')
  t.teardown(() => { s.closeAllConnections(); s.close() })
  return { address: { host: LOCAL, port: (s.address() as AddressInfo).port }, seen }
}

const names = (xs: readonly Scenario[]): string[] => xs.map((x) => x.name)

t.test('the example routes all there: every scenario runs, each distinct request tried once', async (t) => {
  const { address, seen } = await h1(t, (req, res) => {
    if (req.url === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' })
      res.write('data: hi\n\n')
      return
    }
    res.end('ok')
  })
  const h1Scenarios = SCENARIOS.filter((s) => s.protocol !== 'h2' && s.optIn !== true)
  const r = await preflight(address, h1Scenarios, DEFAULT_TRAFFIC, 'service', 2000)
  t.same(names(r.runnable), names(h1Scenarios))
  t.same(r.notRun, [])
  t.same(seen.sort(), ['GET /', 'GET /events text/event-stream', 'GET /slow?ms=2000', 'POST /echo'], 'GET / once for its five scenarios')
})

t.test('a service with only GET /: the others are not run, with the flag to point them', async (t) => {
  const { address } = await h1(t, (req, res) => {
    res.statusCode = req.url === '/' ? (req.method === 'GET' ? 200 : 405) : 404
    res.end()
  })
  const r = await preflight(address, selectScenarios(['hot-loop', 'slow', 'post', 'sse']), DEFAULT_TRAFFIC, 'service', 2000)
  t.same(names(r.runnable), ['hot-loop'])
  t.same(r.notRun, [
    { scenario: 'slow', label: 'service', reason: 'GET /slow?ms=2000 answered 404; point it with --slow-path or leave it out' },
    { scenario: 'post', label: 'service', reason: 'POST /echo answered 404; point it with --post-path or leave it out' },
    { scenario: 'sse', label: 'service', reason: 'GET /events answered 404; point it with --sse-path or leave it out' }
  ])
  const moved: Traffic = { ...DEFAULT_TRAFFIC, post: { ...DEFAULT_TRAFFIC.post, request: { ...DEFAULT_TRAFFIC.post.request, path: '/' } } }
  const post = await preflight(address, selectScenarios(['post']), moved, 'service', 2000)
  t.same(post.notRun.map((n) => n.reason), ['POST / answered 405; point it with --post-path or leave it out'], 'a route without the method: 405')
})

t.test('an SSE route must answer 200 with an event stream', async (t) => {
  const answers: Record<string, [number, string | undefined]> = { '/json': [200, 'application/json'], '/none': [200, undefined], '/refused': [406, 'text/plain'], '/stream': [200, 'text/event-stream'] }
  const { address } = await h1(t, (req, res) => {
    const [status, type] = answers[req.url as string] as [number, string | undefined]
    res.statusCode = status
    if (type !== undefined) res.setHeader('content-type', type)
    // An event stream never ends: the preflight must not wait for it.
    if (type === 'text/event-stream') res.write('data: x\n\n')
    else res.end()
  })
  const sse = selectScenarios(['sse'])
  const reasons: Record<string, string | undefined> = {}
  for (const path of Object.keys(answers)) {
    const traffic: Traffic = { ...DEFAULT_TRAFFIC, sse: { ...DEFAULT_TRAFFIC.sse, request: { method: 'GET', path } } }
    reasons[path] = (await preflight(address, sse, traffic, 'service', 2000)).notRun[0]?.reason
  }
  t.same(reasons, {
    '/json': 'GET /json answered application/json, not text/event-stream; point it with --sse-path or leave it out',
    '/none': 'GET /none answered no content-type, not text/event-stream; point it with --sse-path or leave it out',
    '/refused': 'GET /refused answered 406, not an event stream; point it with --sse-path or leave it out',
    '/stream': undefined
  })
})

t.test('errors, timeouts and failures are the run\'s to count: the scenario runs', async (t) => {
  const { address } = await h1(t, (req, res) => {
    if (req.url === '/') { res.socket?.destroy(); return }
    if (req.url?.startsWith('/slow') === true) return // never answers
    res.statusCode = 500
    res.end()
  })
  const r = await preflight(address, selectScenarios(['hot-loop', 'slow', 'post']), DEFAULT_TRAFFIC, 'service', 200)
  t.same(names(r.runnable), ['hot-loop', 'slow', 'post'], 'reset, timeout, 500')
  const refused = await preflight({ host: LOCAL, port: 1 }, selectScenarios(['hot-loop', 'grpc']), DEFAULT_TRAFFIC, 'service', 2000)
  t.same(names(refused.runnable), ['hot-loop', 'grpc'], 'nothing listening (h1 and h2)')
})

t.test('a requests file: every request of the mix is tried, the fix is in the file', async (t) => {
  const { address, seen } = await h1(t, (req, res) => {
    res.statusCode = req.url === '/orders' && req.method === 'POST' && req.headers['x-tenant'] === 'a' ? 201 : req.url === '/' ? 200 : 404
    res.end()
  })
  const traffic: Traffic = {
    ...DEFAULT_TRAFFIC,
    mix: [{ method: 'GET', path: '/', weight: 1 }, { method: 'POST', path: '/orders', headers: { 'x-tenant': 'a' }, body: '{}', weight: 1 }, { name: 'report', method: 'GET', path: '/report', weight: 1 }],
    mixFile: 'requests.yaml'
  }
  const r = await preflight(address, selectScenarios(['keep-alive', 'hot-loop', 'idle-pool']), traffic, 'service', 2000)
  t.same(names(r.runnable), ['keep-alive'], 'keep-alive sends the fast route, never the mix')
  t.same(r.notRun.map((n) => n.reason), ['report answered 404; fix it in requests.yaml or leave the scenario out', 'report answered 404; fix it in requests.yaml or leave the scenario out'])
  t.same(seen.sort(), ['GET /', 'GET /report', 'POST /orders'])
})

t.test('over h2c: the h2 route, a refused stream and a session that never answers', async (t) => {
  const s = createH2Server()
  s.on('stream', (stream, headers) => {
    const path = headers[':path']
    // The server's side of a refused stream errors too.
    stream.on('error', () => {})
    if (path === '/refuse') { stream.close(constants.NGHTTP2_REFUSED_STREAM); return }
    if (path === '/hang') return
    stream.respond({ ':status': path === '/' ? 200 : 404 })
    stream.end()
  })
  s.listen(0, LOCAL)
  await once(s, 'listening')
  t.teardown(() => { s.close() })
  const address = { host: LOCAL, port: (s.address() as AddressInfo).port }
  const at = (path: string): Traffic => ({ ...DEFAULT_TRAFFIC, h2: { ...DEFAULT_TRAFFIC.h2, request: { method: 'GET', path } } })
  const grpc = selectScenarios(['grpc'])
  t.same((await preflight(address, grpc, at('/'), 'service', 2000)).notRun, [])
  t.same((await preflight(address, grpc, at('/nope'), 'service', 2000)).notRun.map((n) => n.reason), ['GET /nope answered 404; point it with --h2-path or leave it out'])
  t.same((await preflight(address, grpc, at('/refuse'), 'service', 2000)).notRun, [], 'a refused stream is not a missing route')
  t.same((await preflight(address, grpc, at('/hang'), 'service', 200)).notRun, [], 'nor is a stream that never answers')
})

t.test('every scenario names the requests it will send and the flag that moves them', async (t) => {
  const probes = Object.fromEntries(SCENARIOS.map((s) => [s.name, s.probes(DEFAULT_TRAFFIC).map((p) => `${p.via} ${p.request.method} ${p.request.path} (${p.advice.split(' ')[3] as string})`)]))
  t.same(probes, {
    'keep-alive': ['h1 GET / (--fast-path)'],
    'hot-loop': ['h1 GET / (--fast-path)'],
    slow: ['h1 GET /slow?ms=2000 (--slow-path)'],
    post: ['h1 POST /echo (--post-path)'],
    'idle-pool': ['h1 GET / (--fast-path)'],
    'idle-pool-undici': ['h1 GET / (--fast-path)'],
    sse: ['sse GET /events (--sse-path)'],
    grpc: ['h2 GET / (--h2-path)'],
    websocket: ['ws GET /ws (--websocket-path)'],
    'grpc-slow': ['h2 GET /slow?ms=2000 (--slow-path)'],
    'grpc-no-prestop': ['h2 GET / (--h2-path)'],
    'no-prestop': ['h1 GET / (--fast-path)']
  })
})
