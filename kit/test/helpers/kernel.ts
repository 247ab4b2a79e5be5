// Shared by the kernel data path's tests: fast flags, the processes of a run
// (found by the run id in their environment) and what a run leaves behind.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { FIXTURE } from './loadtest.js'
import { run } from '../../src/network/kernel/commands.js'

export const KERNEL = ['--network', 'kernel', '--replicas', '2', '--prestop-seconds', '0.6', '--propagation-seconds', '0.3', '--readiness-period-seconds', '0.2', '--steady-seconds', '0.3', '--scale', '0.1', '--no-baseline', '--scenarios', 'hot-loop', '--command', FIXTURE]

/** The environment entry that marks every process of the run started by process `pid`. */
export const runMarker = (pid: number): string => `FZD_KIT_NETWORK_RUN=${pid.toString(36)}`

/** Pids of the processes whose environment carries `marker` and whose command line has `part`. */
export async function processesWith (marker: string, part = ''): Promise<number[]> {
  const pids: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const env = await readFile(join('/proc', entry, 'environ'), 'utf8').catch(() => '')
    const cmdline = await readFile(join('/proc', entry, 'cmdline'), 'utf8').catch(() => '')
    if (env.split('\0').includes(marker) && cmdline.includes(part)) pids.push(Number(entry))
  }
  return pids
}

/** Waits (bounded) until a process of the run with `part` in its command line runs; its pids. */
export async function waitFor (marker: string, part: string): Promise<number[]> {
  for (let i = 0; i < 1200; i++) {
    const pids = await processesWith(marker, part)
    if (pids.length > 0) return pids
    await sleep(50)
  }
  return []
}

/** What is left of the run after a bounded wait: its processes, and its names in the host's links, tables and namespaces. */
export async function leftovers (pid: number): Promise<{ processes: number[], names: string[] }> {
  const marker = runMarker(pid)
  let processes = await processesWith(marker)
  for (let i = 0; i < 200 && processes.length > 0; i++) {
    await sleep(50)
    processes = await processesWith(marker)
  }
  const prefix = `fz${pid.toString(36)}`
  const host = [await run('ip', ['-o', 'link']), await run('nft', ['list', 'tables']), await run('ip', ['netns', 'list'])].join('\n')
  return { processes, names: host.split(/\s+/).filter((word) => word.includes(prefix)) }
}
