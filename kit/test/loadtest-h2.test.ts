// The kit over HTTP/2 and through nginx: gRPC-style h2c clients against the
// HTTP/2 example service through the L4 balancer and through HAProxy talking
// h2 to the pods, and the HTTP/1.1 fixture through nginx set up like
// ingress-nginx. Real replicas, real proxies, a real rolling update.
import t from 'tap'
import { rollout } from '../src/cli/rollout.js'
import { FAST, FIXTURE, io, outDir, report } from './helpers/loadtest.js'

// Several real rollouts one after another: minutes on a shared, busy machine (over
// 120 s, the runner's budget per file, at load average 30), whatever the test asserts.
t.setTimeout(300_000)

for (const proxy of ['l4', 'l7']) {
  t.test(`--protocol h2 through ${proxy}: gRPC-style streams across a rollout of the HTTP/2 example`, async (t) => {
    const out = await outDir(t)
    const o = io(false)
    // Through HAProxy a busy machine can be late to take a pod out of its
    // backend: a preStop that covers that lateness, as the manifests' does.
    const preStop = proxy === 'l7' ? ['--prestop-seconds', '1.5'] : []
    const code = await rollout([...FAST, ...preStop, '--protocol', 'h2', '--proxy', proxy, '--no-baseline', '--scenarios', 'grpc', '--scale', '0.5', '--out', out], o)
    const r = await report(out)
    const run = r.runs[0]!
    t.equal(run.error, undefined, o.err())
    t.equal(run.scenario, 'grpc')
    t.ok(run.counts.ok > 0, `streams answered: ${run.counts.ok}`)
    t.equal(run.unsettled, 0, 'every stream settled exactly once')
    t.equal(run.counts.sent, run.counts.ok + run.dropped, 'sent = answered + dropped')
    t.equal(run.dropped, 0, JSON.stringify(run.failures.slice(0, 5)))
    t.equal(code, 0)
  })
}

t.test('--proxy nginx: the HTTP/1.1 fixture across a rollout, endpoints changed without a reload', async (t) => {
  const out = await outDir(t)
  const o = io(false)
  const code = await rollout([...FAST, '--proxy', 'nginx', '--command', FIXTURE, '--no-baseline', '--scenarios', 'hot-loop', '--out', out], o)
  const r = await report(out)
  t.equal(r.runs[0]!.proxy, 'nginx')
  t.ok(r.runs[0]!.counts.ok > 0)
  t.equal(r.runs[0]!.dropped, 0, JSON.stringify(r.runs[0]!.failures.slice(0, 5)))
  t.equal(code, 0, o.out())
})

t.test('flags that cannot work together', async (t) => {
  const bad = io(false)
  t.equal(await rollout(['--protocol', 'h3'], bad), 2)
  t.match(bad.err(), /--protocol must be h1 or h2, got "h3"/)
  const h2nginx = io(false)
  t.equal(await rollout(['--protocol', 'h2', '--proxy', 'nginx'], h2nginx), 2)
  t.match(h2nginx.err(), /--proxy nginx talks HTTP\/1.1 to the pods/)
})
