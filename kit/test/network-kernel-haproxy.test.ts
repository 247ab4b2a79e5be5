// A whole run on the kernel data path (as root, as CI runs) through HAProxy,
// which runs in the ingress namespace and talks to the pods' own addresses.
import t from 'tap'
import { KERNEL } from './helpers/kernel.js'
import { io, outDir, report } from './helpers/loadtest.js'
import { rollout } from '../src/cli/rollout.js'

t.test('HAProxy in the ingress namespace: pods at addresses of their own, nothing dropped', async (t) => {
  const o = io()
  const out = await outDir(t)
  t.equal(await rollout([...KERNEL, '--proxy', 'l7', '--out', out], o), 0, o.out() + o.err())
  t.match(o.err(), /^network: kernel \(as root; run [0-9a-z]+\)\n/)
  const [r] = (await report(out)).runs
  t.match(r?.dataPath, /^kernel /)
  t.equal(r?.proxy, 'l7')
  const addresses = r?.events.filter((e) => e.type === 'ready').map((e) => e.detail).sort()
  t.same(addresses, ['198.18.1.1:8080', '198.18.1.2:8080', '198.18.1.3:8080', '198.18.1.4:8080'], 'each pod its own address, none reused')
  t.ok(r !== undefined && r.counts.ok > 0 && r.dropped === 0)
})
