// The user's own traffic: the route flags, the requests file (JSON and YAML,
// every mistake refused with its place), the seeded weighted draw, and the
// run plan that keeps out what the preflight found missing.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { UsageError } from '../src/cli/command.js'
import { trafficOf } from '../src/cli/traffic-flags.js'
import { readRequestsFile, requestsOf } from '../src/load/requests-file.js'
import { loadShape, selectScenarios } from '../src/load/scenarios.js'
import { seededRandom } from '../src/load/seeded-random.js'
import { nextRequest, requestKind, type RequestSpec } from '../src/load/target.js'
import { DEFAULT_POST_BODY, DEFAULT_TRAFFIC, mixOr, type Traffic } from '../src/load/traffic.js'
import { runPlan } from '../src/run/preflight.js'

const FLAGS = { 'fast-path': '/', 'slow-path': '/slow?ms=2000', 'post-path': '/echo', 'post-content-type': 'application/json', 'sse-path': '/events', 'h2-path': '/', 'websocket-path': '/ws' }

t.test('requests files in YAML and JSON; an object body is sent as JSON', async (t) => {
  const dir = t.testdir({
    'r.yaml': 'requests:\n  - { method: GET, path: /, weight: 5 }\n  - name: new order\n    method: POST\n    path: /orders\n    headers: { x-tenant: a }\n    body: { sku: 42 }\n',
    'r.json': JSON.stringify([{ method: 'PUT', path: '/x', body: 'raw' }])
  })
  t.same(await readRequestsFile(join(dir, 'r.yaml')), [
    { method: 'GET', path: '/', weight: 5 },
    { method: 'POST', path: '/orders', weight: 1, name: 'new order', headers: { 'x-tenant': 'a' }, body: '{"sku":42}' }
  ])
  t.same(await readRequestsFile(join(dir, 'r.json')), [{ method: 'PUT', path: '/x', weight: 1, body: 'raw' }])
  await t.rejects(readRequestsFile(join(dir, 'missing.yaml')), { name: 'TypeError', message: /cannot read the requests file .*missing\.yaml: ENOENT/ })
  await writeFile(join(dir, 'bad.yaml'), 'requests: [')
  await t.rejects(readRequestsFile(join(dir, 'bad.yaml')), /cannot read the requests file .*bad\.yaml/)
})

t.test('every mistake in a requests file is refused with its place', async (t) => {
  const bad: Array<[unknown, RegExp]> = [
    [{}, /f must hold a non-empty list of requests/],
    [[], /f must hold a non-empty list/],
    [['GET /'], /f: requests\[0\] must be a map with method and path, got "GET \/"/],
    [[{ method: 'GET', path: '/', wieght: 2 }], /requests\[0\] has unknown key\(s\) wieght; expected name, method, path, headers, body, weight/],
    [[{ method: 'get', path: '/' }], /requests\[0\]\.method must be an HTTP method in capitals/],
    [[{ method: 'GET', path: '/' }, { method: 'GET', path: 'orders' }], /requests\[1\]\.path must be a path starting with \//],
    [[{ method: 'GET', path: '/', name: '' }], /requests\[0\]\.name must be a non-empty string/],
    [[{ method: 'GET', path: '/', weight: 0 }], /requests\[0\]\.weight must be a number > 0, got 0/],
    [[{ method: 'GET', path: '/', weight: '2' }], /\.weight must be a number > 0, got "2"/],
    [[{ method: 'GET', path: '/', headers: { a: 1 } }], /requests\[0\]\.headers must be a map of header names to strings/],
    [[{ method: 'GET', path: '/', headers: ['a'] }], /\.headers must be a map/]
  ]
  for (const [doc, message] of bad) t.throws(() => requestsOf('f', doc), { name: 'TypeError', message }, JSON.stringify(doc))
})

t.test('the mix is drawn by weight, from the seed: the same draws on every run', async (t) => {
  const mix = requestsOf('f', [{ method: 'GET', path: '/a', weight: 3 }, { method: 'GET', path: '/b', weight: 1 }])
  const traffic: Traffic = { ...DEFAULT_TRAFFIC, mix, mixFile: 'f' }
  const draws = (seed: number): string[] => {
    const source = mixOr(traffic, traffic.fast, loadShape(1, seed).draw)
    return Array.from({ length: 400 }, () => nextRequest(source).path)
  }
  const a = draws(7)
  t.same(draws(7), a, 'same seed, same draws')
  t.not(draws(8).join(), a.join(), 'another seed, other draws')
  const share = a.filter((p) => p === '/a').length / a.length
  t.ok(share > 0.65 && share < 0.85, `/a drawn about 3 times in 4 (${share})`)
  t.equal(nextRequest(mixOr(DEFAULT_TRAFFIC, DEFAULT_TRAFFIC.slow, Math.random)), DEFAULT_TRAFFIC.slow.request, 'no mix: the route itself')
  // A draw so close to the total that subtracting the weights in turn leaves
  // a rounding error above zero still picks a request: the last.
  const tenths = requestsOf('f', [{ method: 'GET', path: '/x', weight: 0.1 }, { method: 'GET', path: '/y', weight: 0.2 }])
  t.equal(nextRequest(mixOr({ ...DEFAULT_TRAFFIC, mix: tenths }, DEFAULT_TRAFFIC.fast, () => 1 - Number.EPSILON)).path, '/y')
  t.not(loadShape(1, 7).draw(), seededRandom(7)(), 'the draws are not the think times')
  t.equal(loadShape(1, undefined).draw, Math.random)
})

t.test('request kinds: a name, else method and path', async (t) => {
  t.equal(requestKind({ method: 'GET', path: '/slow?ms=2000' }), 'GET /slow?ms=2000')
  t.equal(requestKind({ method: 'POST', path: '/orders', name: 'new order' } satisfies RequestSpec), 'new order')
})

t.test('route flags: each path checked, the POST body read from its file', async (t) => {
  const dir = t.testdir({ 'order.xml': '<order/>' })
  t.same(await trafficOf(FLAGS), { fast: DEFAULT_TRAFFIC.fast, slow: DEFAULT_TRAFFIC.slow, post: { ...DEFAULT_TRAFFIC.post, request: { ...DEFAULT_TRAFFIC.post.request, headers: { 'content-type': 'application/json' } } }, sse: DEFAULT_TRAFFIC.sse, h2: DEFAULT_TRAFFIC.h2, websocket: DEFAULT_TRAFFIC.websocket }, 'the defaults: the example service\'s routes')
  const own = await trafficOf({ ...FLAGS, 'slow-path': '/reports', 'post-path': '/orders', 'post-body': join(dir, 'order.xml'), 'post-content-type': 'application/xml' })
  t.same(own.slow.request, { method: 'GET', path: '/reports' })
  t.same(own.post.request, { method: 'POST', path: '/orders', headers: { 'content-type': 'application/xml' }, body: '<order/>' })
  t.equal((await trafficOf(FLAGS)).post.request.body, DEFAULT_POST_BODY)
  await t.rejects(trafficOf({ ...FLAGS, 'sse-path': 'events' }), new UsageError('--sse-path must be a path starting with /, got "events"'))
  await t.rejects(trafficOf({ ...FLAGS, 'post-body': join(dir, 'nope.json') }), { name: 'Error', message: /--post-body: cannot read .*nope\.json: ENOENT/ })
  await writeFile(join(dir, 'r.yaml'), '- { method: GET, path: /a }\n')
  const mixed = await trafficOf({ ...FLAGS, requests: join(dir, 'r.yaml') })
  t.same([mixed.mix, mixed.mixFile], [[{ method: 'GET', path: '/a', weight: 1 }], join(dir, 'r.yaml')])
})

t.test('the run plan: the service decides what runs at all, the baseline may keep out more', async (t) => {
  const [hot, slow, post] = selectScenarios(['hot-loop', 'slow', 'post'])
  const service = { label: 'service', cluster: {} as never }
  const baseline = { label: 'baseline', cluster: {} as never }
  const plan = runPlan([hot!, slow!, post!], [service, baseline], [
    { runnable: [hot!, post!], notRun: [{ scenario: 'slow', label: 'service', reason: 'a' }] },
    { runnable: [hot!, slow!], notRun: [{ scenario: 'post', label: 'baseline', reason: 'b' }, { scenario: 'slow', label: 'baseline', reason: 'c' }] }
  ])
  t.same(plan.runs.map((r) => `${r.scenario.name} ${r.target.label}`), ['hot-loop service', 'hot-loop baseline', 'post service'])
  t.same(plan.notRun, [{ scenario: 'slow', label: 'service', reason: 'a' }, { scenario: 'post', label: 'baseline', reason: 'b' }], 'the baseline\'s reasons only for what the service runs')
})
