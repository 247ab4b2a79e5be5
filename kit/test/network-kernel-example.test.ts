// The example service (examples/service) rolled on the kernel data path, as
// CI runs it: each replica in a network namespace of its own behind the
// nftables Service, under the hot loop; it must drop nothing. The same run
// with the baseline and every scenario is `npm run rollout -- --network kernel`.
// A pod's 127.0.0.1 is its own there, as in a cluster: the loopback Postgres,
// Redis and RabbitMQ that CI hands the suite are out of its reach, so the
// example runs without them (its dependency checks have tests of their own).
// A light load (scale 0.1): on a machine loaded far beyond its cores the
// example's own load shedding answers 503 when its event loop stalls over 1 s.
import t from 'tap'
import { io, outDir, report } from './helpers/loadtest.js'
import { rollout } from '../src/cli/rollout.js'

t.test('the example service drops nothing on the kernel data path', async (t) => {
  const o = io()
  const out = await outDir(t)
  const code = await rollout(['--network', 'kernel', '--no-baseline', '--scenarios', 'hot-loop', '--scale', '0.1', '--replicas', '2', '--prestop-seconds', '1.5',
    '--propagation-seconds', '0.5', '--readiness-period-seconds', '0.3', '--steady-seconds', '0.5',
    '--env', 'DATABASE_URL=', '--env', 'REDIS_URL=', '--env', 'AMQP_URL=', '--out', out], o)
  t.equal(code, 0, o.out() + o.err())
  const [run] = (await report(out)).runs
  t.match(run?.dataPath, /^kernel /)
  t.ok(run?.events.some((e) => e.type === 'rollout-complete' && e.version === 'v2'), 'through a whole rollout to v2')
  t.ok(run !== undefined && run.counts.ok > 0 && run.dropped === 0 && run.unsettled === 0, 'served, dropped nothing, every request settled')
  t.ok(run?.balancer !== undefined && run.balancer.connections > 0 && run.balancer.noEndpoint === 0, 'through the Service: connections counted by nftables, none without an endpoint')
})
