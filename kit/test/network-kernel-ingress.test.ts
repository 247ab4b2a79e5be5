// Whole runs on the kernel data path (as root, as CI runs): HAProxy and
// nginx in the ingress namespace, talking to the pods' own addresses.
import t from 'tap'
import { FIXTURE, io, outDir, report } from './helpers/loadtest.js'
import { rollout } from '../src/cli/rollout.js'

const KERNEL = ['--network', 'kernel', '--replicas', '2', '--prestop-seconds', '0.6', '--propagation-seconds', '0.3', '--readiness-period-seconds', '0.2', '--steady-seconds', '0.3', '--scale', '0.1', '--no-baseline', '--scenarios', 'hot-loop', '--command', FIXTURE]

for (const flags of [['--proxy', 'l7'], ['--proxy', 'nginx']]) {
  t.test(`the kernel path with ${flags.join(' ')}: pods at addresses of their own, nothing dropped`, async (t) => {
    const o = io()
    const out = await outDir(t)
    t.equal(await rollout([...KERNEL, ...flags, '--out', out], o), 0, o.out() + o.err())
    t.match(o.err(), /^network: kernel \(as root; run [0-9a-z]+\)\n/)
    const [r] = (await report(out)).runs
    t.match(r?.dataPath, /^kernel /)
    const addresses = r?.events.filter((e) => e.type === 'ready').map((e) => e.detail).sort()
    t.same(addresses, ['198.18.1.1:8080', '198.18.1.2:8080', '198.18.1.3:8080', '198.18.1.4:8080'].slice(0, addresses?.length), 'each pod its own address, none reused')
    t.ok(r !== undefined && r.counts.ok > 0 && r.dropped === 0)
  })
}
