// A kernel-path run killed midway (the command itself, SIGKILL: no handler
// runs) leaves no process, network namespace, link or nftables table; the
// next run starts clean.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import t from 'tap'
import { KERNEL, leftovers, runMarker, waitFor } from './helpers/kernel.js'
import { io, outDir } from './helpers/loadtest.js'
import { rollout } from '../src/cli/rollout.js'

t.test('SIGKILL midway, then the next run', async (t) => {
  const cli = join(import.meta.dirname, '../src/cli/index.ts')
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'rollout', ...KERNEL, '--scenarios', 'idle-pool', '--out', await outDir(t)], { stdio: 'ignore' })
  const exited = once(child, 'exit')
  t.ok((await waitFor(runMarker(child.pid as number), 'loadtest-pod')).length > 0, 'a pod of the run was running')
  child.kill('SIGKILL')
  await exited
  t.same(await leftovers(child.pid as number), { processes: [], names: [] }, 'nothing of the killed run is left')
  const o = io()
  t.equal(await rollout([...KERNEL, '--out', await outDir(t)], o), 0, o.out() + o.err())
  t.same(await leftovers(process.pid), { processes: [], names: [] }, 'nor of the next one')
})
