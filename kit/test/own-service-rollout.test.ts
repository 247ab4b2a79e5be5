// `rollout` and `check` on a user's own service that lacks the example's
// routes: what is not there is not run and said so, never counted as drops;
// nothing runnable is an error of its own (exit 3), and `check` then rolls
// nothing. The reports show the requests by kind.
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { check } from '../src/cli/check.js'
import { rollout } from '../src/cli/rollout.js'
import { DEFAULT_POD, DEFAULT_STRATEGY, parseCommand } from '../src/cluster/spec.js'
import { selectScenarios } from '../src/load/scenarios.js'
import { DEFAULT_TRAFFIC } from '../src/load/traffic.js'
import { htmlReport } from '../src/report/html.js'
import { jsonReport } from '../src/report/json.js'
import { textReport } from '../src/report/text.js'
import { preflightTarget } from '../src/run/preflight.js'
import type { RunResult } from '../src/run/result.js'
import { FAST, FIXTURE, io, outDir, report } from './helpers/loadtest.js'

const ONLY_ROOT = ['--env', 'FIXTURE_ROUTES=GET /']

// Several real rollouts and checks: on the shared 2-core machine more than
// the suite's 120 s per file, like the other load-test files.
t.setTimeout(300_000)

t.test('a service with only GET /: hot-loop runs at 0 dropped, the others are listed as not run', async (t) => {
  const out = await outDir(t)
  const o = io(false)
  const code = await rollout([...FAST, '--command', FIXTURE, ...ONLY_ROOT, '--no-baseline', '--scenarios', 'hot-loop,slow,post,sse', '--out', out], o)
  t.equal(code, 0, o.out() + o.err())
  const r = await report(out)
  t.equal(r.ok, true)
  t.same(r.runs.map((x) => [x.scenario, x.dropped]), [['hot-loop', 0]])
  t.same(r.notRun, [
    { scenario: 'slow', label: 'service', reason: 'GET /slow?ms=2000 answered 404; point it with --slow-path or leave it out' },
    { scenario: 'post', label: 'service', reason: 'POST /echo answered 404; point it with --post-path or leave it out' },
    { scenario: 'sse', label: 'service', reason: 'GET /events answered 404; point it with --sse-path or leave it out' }
  ])
  const kinds = r.runs[0]!.byRequest!
  t.same(Object.keys(kinds), ['GET /'])
  t.equal(kinds['GET /']!.sent, r.runs[0]!.counts.sent, 'every request under its kind')
  t.match(o.err(), /^slow \/ service: not run: GET \/slow\?ms=2000 answered 404; point it with --slow-path or leave it out\n/, 'said before the runs start')
  t.match(o.out(), /by request\nscenario\s+target\s+request\s+sent\s+ok\s+dropped\n[- ]+\nhot-loop\s+service\s+GET \/\s+\d+\s+\d+\s+0\n/)
  t.match(o.out(), /sse \/ service: not run: GET \/events answered 404/)
  t.match(o.out(), /PASS: service dropped no request/)
  const html = await readFile(join(out, 'report.html'), 'utf8')
  t.match(html, /<h2 id="not-run">Not run<\/h2>.*<li>post \/ service: not run: POST \/echo answered 404; point it with --post-path or leave it out<\/li>/s)
  t.match(html, /<table class="requests"><tr><th>request<\/th>.*<td>GET \/<\/td>/s)
})

t.test('no scenario could run: exit 3 with what to do, and a report that says so', async (t) => {
  const out = await outDir(t)
  const o = io(false)
  t.equal(await rollout([...FAST, '--command', FIXTURE, ...ONLY_ROOT, '--no-baseline', '--scenarios', 'slow,post', '--out', out], o), 3, o.out() + o.err())
  t.match(o.err(), /ERROR: no scenario could run against service: .*point the scenarios at your routes \(--fast-path, --slow-path, ... or --requests\)/)
  t.notMatch(o.out(), /PASS|FAIL/)
  const r = await report(out)
  t.equal(r.ok, false, 'no verdict is not a pass')
  t.same(r.runs, [])
  t.same(r.notRun.map((n) => n.scenario), ['slow', 'post'])
  t.match(await readFile(join(out, 'report.html'), 'utf8'), /<h1>Rolling update: no scenario could run against the service under test<\/h1>/)
})

t.test('--no-preflight: every scenario runs, and a route the service lacks is counted as the drops it then is', async (t) => {
  const out = await outDir(t)
  const o = io(false)
  t.equal(await rollout([...FAST, '--command', FIXTURE, ...ONLY_ROOT, '--no-baseline', '--no-preflight', '--scenarios', 'post', '--out', out], o), 1, o.out() + o.err())
  const r = await report(out)
  t.same(r.notRun, [], 'nothing was tried first, so nothing is kept out')
  const [post] = r.runs
  t.equal(post!.scenario, 'post')
  t.ok(post!.counts.statuses['404']! > 0 && post!.dropped === post!.counts.sent, 'every POST /echo answered 404: all dropped')
})

t.test('a replica that never becomes ready is not the preflight\'s to judge: every scenario runs', async (t) => {
  const scenarios = selectScenarios(['hot-loop', 'slow'])
  const cluster = {
    proxy: 'l4' as const,
    propagationMs: 100,
    strategy: DEFAULT_STRATEGY,
    pod: { ...DEFAULT_POD, command: parseCommand(FIXTURE), cwd: process.cwd(), env: { FIXTURE_ROUTES: 'GET /' }, readiness: { path: '/never', periodMs: 100, timeoutMs: 500, failureThreshold: 1, successThreshold: 1 } }
  }
  const r = await preflightTarget({ label: 'service', cluster }, scenarios, DEFAULT_TRAFFIC, 1000, 500)
  t.same(r, { runnable: scenarios, notRun: [] })
})

t.test('check: the preflight goes to the URL; nothing runnable rolls nothing', async (t) => {
  const s = createServer((req, res) => {
    req.resume()
    res.statusCode = req.url === '/' ? 200 : 404
    req.on('end', () => { res.end() })
  })
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  t.teardown(() => { s.close(); s.closeAllConnections() })
  const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`
  const kubectl = join(import.meta.dirname, 'fixtures', 'stand-in-kubectl.mjs')
  const flags = ['--steady-seconds', '0.2', '--poll-seconds', '0.05', '--scale', '0.1', '--kubectl', kubectl, '--deployment', 'web', '--url', url]
  const dir = await outDir(t)
  process.env.KUBECTL_LOG = join(dir, 'kubectl.log')
  const none = io()
  t.equal(await check([...flags, '--scenarios', 'slow,post', '--out', dir], none), 3, none.out() + none.err())
  t.notOk(existsSync(process.env.KUBECTL_LOG), 'kubectl never called: nothing was rolled')
  t.match(none.out(), /slow \/ web: not run: GET \/slow\?ms=2000 answered 404; point it with --slow-path or leave it out/)
  t.match(none.err(), /no scenario could run against web/)
  const some = io()
  t.equal(await check([...flags, '--scenarios', 'hot-loop,slow', '--out', dir], some), 0, some.out() + some.err())
  const r = await report(dir)
  t.same([r.runs.map((x) => x.scenario), r.notRun.map((n) => n.scenario)], [['hot-loop'], ['slow']])
  t.ok(existsSync(process.env.KUBECTL_LOG), 'and the rollout ran for the rest')
})

t.test('the reports by request kind: drops marked, runs from before the counts by kind shown without them', async (t) => {
  const base = { scenario: 'hot-loop', description: 'd', label: 'service', command: ['x'], proxy: 'l4', durationMs: 1000, counts: { sent: 4, ok: 3, statuses: { 503: 1 }, failed: {}, retried: 0 }, dropped: 1, unsettled: 0, latencyMs: { p50: 1, p99: 2 }, failures: [{ at: 10, kind: 'status 503' }], events: [], throughput: [4], drops: [1], pods: [] } satisfies RunResult
  const counted: RunResult = { ...base, byRequest: { 'GET /': { sent: 3, ok: 3, dropped: 0 }, 'new order': { sent: 1, ok: 0, dropped: 1 } } }
  t.match(textReport([counted]), /hot-loop\s+service\s+new order\s+1\s+0\s+1\n/)
  t.notMatch(textReport([base]), /by request/)
  const html = htmlReport(jsonReport([counted, { ...base, label: 'baseline' }], 'service'), 'service')
  t.match(html, /<tr class="dropped"><td>new order<\/td><td>1<\/td><td>0<\/td><td>1<\/td><\/tr>/)
  t.equal(html.match(/<table class="requests">/g)?.length, 1, 'no table for a run without counts by kind')
  t.notMatch(html, /Not run/)
})
