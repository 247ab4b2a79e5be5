// Whole runs on the kernel data path (as root, as CI runs): the Service
// with NodePort-style SNAT and several client addresses; and a run killed
// midway leaves nothing behind.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { FIXTURE, io, outDir, report } from './helpers/loadtest.js'
import { rollout } from '../src/cli/rollout.js'
import { run } from '../src/network/kernel/commands.js'

const KERNEL = ['--network', 'kernel', '--replicas', '2', '--prestop-seconds', '0.6', '--propagation-seconds', '0.3', '--readiness-period-seconds', '0.2', '--steady-seconds', '0.3', '--scale', '0.1', '--no-baseline', '--scenarios', 'hot-loop', '--command', FIXTURE]

for (const flags of [['--snat', '--client-addresses', '3']]) {
  t.test(`the kernel path with ${flags.join(' ')}: pods at addresses of their own, nothing dropped`, async (t) => {
    const o = io()
    const out = await outDir(t)
    t.equal(await rollout([...KERNEL, ...flags, '--out', out], o), 0, o.out() + o.err())
    t.match(o.err(), /^network: kernel \(as root; run [0-9a-z]+\)\n/)
    const [r] = (await report(out)).runs
    t.match(r?.dataPath, flags[0] === '--snat' ? /^kernel .*clients from 198\.19\.1\.1-198\.19\.1\.3, SNAT-ed to the node's 198\.18\.0\.1/ : /^kernel /)
    const addresses = r?.events.filter((e) => e.type === 'ready').map((e) => e.detail).sort()
    t.same(addresses, ['198.18.1.1:8080', '198.18.1.2:8080', '198.18.1.3:8080', '198.18.1.4:8080'].slice(0, addresses?.length), 'each pod its own address, none reused')
    t.ok(r !== undefined && r.counts.ok > 0 && r.dropped === 0)
    if (flags[0] === '--snat') t.ok(r !== undefined && r.balancer !== undefined && r.balancer.connections > 0, 'the Service counted its connections')
  })
}

/** Pids of the processes whose environment carries `marker`. */
async function processesWith (marker: string): Promise<number[]> {
  const pids: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const env = await readFile(join('/proc', entry, 'environ'), 'utf8').catch(() => '')
    if (env.split('\0').includes(marker)) pids.push(Number(entry))
  }
  return pids
}

t.test('a run killed midway (SIGKILL) leaves no process, namespace, link or nftables table; the next run starts clean', async (t) => {
  const cli = join(import.meta.dirname, '../src/cli/index.ts')
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'rollout', ...KERNEL, '--scenarios', 'idle-pool', '--out', await outDir(t)], { stdio: ['ignore', 'ignore', 'pipe'] })
  const exited = once(child, 'exit')
  const marker = `FZD_KIT_NETWORK_RUN=${(child.pid as number).toString(36)}`
  // Midway: once a pod of the run is up (a process of its own started under unshare --net).
  let pods: number[] = []
  for (let i = 0; i < 600 && pods.length === 0; i++) {
    await sleep(50)
    pods = (await Promise.all((await processesWith(marker)).map(async (pid) => (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes('loadtest-pod') ? [pid] : []))).flat()
  }
  t.ok(pods.length > 0, 'a pod of the run was running')
  child.kill('SIGKILL')
  await exited
  let left = await processesWith(marker)
  for (let i = 0; i < 100 && left.length > 0; i++) {
    await sleep(50)
    left = await processesWith(marker)
  }
  t.same(left, [], 'every process of the run is gone')
  const prefix = `fz${(child.pid as number).toString(36)}`
  t.notMatch(await run('ip', ['-o', 'link']), prefix, 'no link of the run in the host namespace')
  t.notMatch(await run('nft', ['list', 'tables']), prefix, 'no nftables table of the run')
  t.notMatch(await run('ip', ['netns', 'list']), prefix, 'no named namespace of the run')
  const o = io()
  t.equal(await rollout([...KERNEL, '--out', await outDir(t)], o), 0, o.out() + o.err())
})
