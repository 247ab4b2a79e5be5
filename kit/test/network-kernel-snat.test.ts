// The kernel data path's Service with NodePort-style SNAT and several client
// addresses; and a run whose isolation (unshare) is killed under it ends
// with exit 1 and leaves nothing behind.
import t from 'tap'
import { KERNEL, leftovers, runMarker, waitFor } from './helpers/kernel.js'
import { io, outDir, report } from './helpers/loadtest.js'
import { rollout } from '../src/cli/rollout.js'

t.test('SNAT to the node and three client addresses: the pods serve through the Service, nothing dropped', async (t) => {
  const o = io()
  const out = await outDir(t)
  t.equal(await rollout([...KERNEL, '--snat', '--client-addresses', '3', '--out', out], o), 0, o.out() + o.err())
  const [r] = (await report(out)).runs
  t.match(r?.dataPath, /^kernel .*clients from 198\.19\.1\.1-198\.19\.1\.3, SNAT-ed to the node's 198\.18\.0\.1/)
  t.ok(r !== undefined && r.counts.ok > 0 && r.dropped === 0)
  t.ok(r?.balancer !== undefined && r.balancer.connections > 0, 'the Service counted its connections')
  t.ok(r?.pods.some((p) => p.goneAfterDeletionMs !== undefined), 'old pods deleted and gone')
})

t.test('unshare killed under a run: exit 1, no process, link or table left', async (t) => {
  const o = io()
  const running = rollout([...KERNEL, '--scenarios', 'idle-pool', '--out', await outDir(t)], o)
  const marker = runMarker(process.pid)
  t.ok((await waitFor(marker, 'loadtest-pod')).length > 0, 'a pod of the run was running')
  // unshare carries the re-run's command line and is the older of the two: its --kill-child takes the re-run down.
  const [unshare] = await waitFor(marker, 'cli/index')
  process.kill(unshare as number, 'SIGKILL')
  t.equal(await running, 1)
  t.same(await leftovers(process.pid), { processes: [], names: [] })
})
