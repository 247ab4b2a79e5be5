// `check` against a URL while a rollout runs through kubectl. No cluster can
// run here, so kubectl is a stand-in script that logs its calls; the load and
// the accounting are real, against a real local server.
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { io, outDir } from './helpers/loadtest.js'
import { check } from '../src/cli/check.js'
import type { ReportFile } from '../src/report/json.js'

const KUBECTL = join(import.meta.dirname, 'fixtures', 'stand-in-kubectl.mjs')

async function server (failEvery = 0) {
  let n = 0
  const s = createServer((req, res) => {
    n++
    if (failEvery > 0 && n % failEvery === 0) { res.statusCode = 503 }
    req.resume()
    req.on('end', () => { res.end('ok') })
  })
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  return { s, url: `http://127.0.0.1:${(s.address() as AddressInfo).port}` }
}

const FAST = ['--steady-seconds', '0.2', '--poll-seconds', '0.05', '--scale', '0.1', '--kubectl', KUBECTL, '--deployment', 'web']

t.test('a restart rollout with no drop passes; kubectl calls and terminating pods are followed', async (t) => {
  const { s, url } = await server()
  t.teardown(() => { s.close(); s.closeAllConnections() })
  const dir = await outDir(t)
  process.env.KUBECTL_LOG = join(dir, 'kubectl.log')
  const o = io()
  const code = await check([...FAST, '--url', url, '--namespace', 'shop', '--context', 'kind-kind', '--scenarios', 'hot-loop,post,idle-pool', '--seed', '7', '--out', dir], o)
  t.equal(code, 0, o.out() + o.err())
  const calls = (await readFile(process.env.KUBECTL_LOG, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as string[])
  t.same(calls[0], ['--context', 'kind-kind', '-n', 'shop', 'get', 'deployment', 'web', '-o', 'jsonpath={.spec.selector.matchLabels}'])
  t.same(calls[1]!.slice(4), ['rollout', 'restart', 'deployment/web'])
  t.match(calls[2]!.join(' '), /rollout status deployment\/web --timeout=600s/)
  t.same(calls[3]!.slice(4), ['get', 'pods', '-l', 'app=web,tier=api', '-o', 'json'])
  const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as ReportFile
  t.equal(report.ok, true)
  t.same(report.runs.map((r) => r.scenario), ['hot-loop', 'post', 'idle-pool'])
  t.same(report.runs.map((r) => r.seed), [7, 7, 7], 'the seed is in the report, to rerun with')
  t.ok(report.runs.every((r) => r.counts.ok > 0 && r.dropped === 0))
  t.ok(report.runs.every((r) => r.balancer === undefined && r.endpointErrors === undefined), 'no balancer of the kit\'s in the path: no counters, no endpoint updates')
  const types = report.runs[0]!.events.map((e) => `${e.type} ${e.pod}`)
  t.same(types, ['rollout-started deployment/web', 'rollout-complete deployment/web', 'deleted web-old', 'exited web-old'])
})

t.test('set image, a dropping service fails, a failing kubectl fails the run', async (t) => {
  const { s, url } = await server(7)
  t.teardown(() => { s.close(); s.closeAllConnections() })
  const dir = await outDir(t)
  process.env.KUBECTL_LOG = join(dir, 'kubectl.log')
  const o = io()
  t.equal(await check([...FAST, '--url', url, '--image', 'app=web:v2', '--scenarios', 'hot-loop', '--out', dir], o), 1)
  t.match(o.out(), /\d+×503/)
  t.match(await readFile(process.env.KUBECTL_LOG, 'utf8'), /"set","image","deployment\/web","app=web:v2"/)
  process.env.KUBECTL_FAIL = 'status'
  t.teardown(() => { delete process.env.KUBECTL_FAIL })
  const f = io()
  const { s: s2, url: url2 } = await server()
  t.teardown(() => { s2.close(); s2.closeAllConnections() })
  t.equal(await check([...FAST, '--url', url2, '--scenarios', 'hot-loop', '--out', dir], f), 1)
  t.match(f.out(), /RUN FAILED: .*rollout status deployment\/web .* failed: error: status failed on purpose/)
  const m = io()
  t.equal(await check([...FAST, '--kubectl', '/nonexistent/kubectl', '--url', url2, '--scenarios', 'hot-loop', '--out', dir], m), 1)
  t.match(m.out(), /RUN FAILED: \/nonexistent\/kubectl .* failed: spawn \/nonexistent\/kubectl ENOENT/)
})

t.test('pods that never finish terminating time the run out', async (t) => {
  const dir = await outDir(t)
  process.env.KUBECTL_LOG = join(dir, 'kubectl.log')
  process.env.TERMINATING_POLLS = '1000'
  t.teardown(() => { delete process.env.TERMINATING_POLLS })
  const o = io()
  // No port: 80, where nothing listens; refused requests do not stop the run.
  t.equal(await check([...FAST, '--url', 'http://127.0.0.1', '--rollout-timeout-seconds', '0.3', '--scenarios', 'hot-loop', '--out', dir], o), 1)
  t.match(o.out(), /pods still terminating after 0.3s: web-old/)
})

t.test('flags', async (t) => {
  const o = io()
  t.equal(await check(['--help'], o), 0)
  t.match(o.out(), /usage: fastify-zero-downtime-kit check/)
  for (const [argv, message] of [
    [['--deployment', 'web'], /--url and --deployment are required/],
    [['--url', 'nope', '--deployment', 'web'], /--url must be an http URL/],
    [['--url', 'https://example.com', '--deployment', 'web'], /--url must be an http URL/],
    [['--url', 'http://127.0.0.1', '--deployment', 'web', '--image', 'noequals'], /--image must be container=image/],
    [['--url', 'http://[::1]', '--deployment', 'web', '--scale', '0'], /--scale must be a number >= 0.01/],
    [['--url', 'http://[::1]', '--deployment', 'web', '--seed', 'x'], /--seed must be an integer >= 0/],
    [['--url', 'http://127.0.0.1', '--deployment', 'web', '--scenarios', 'x'], /unknown scenario x/]
  ] as const) {
    const e = io()
    t.equal(await check([...argv], e), 2)
    t.match(e.err(), message)
  }
})
