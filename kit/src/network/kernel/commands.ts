/**
 * The kernel data path is set up with the system's own tools (iproute2,
 * nftables, conntrack, util-linux), run as child processes: the same commands
 * an operator would type, and no native module to build.
 */
import { spawn } from 'node:child_process'
import { readlink } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'

/** Runs a command to its end; rejects with the command and its stderr when it fails. */
export async function run (file: string, args: readonly string[], input?: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (c: Buffer) => { out += c.toString() })
    child.stderr.on('data', (c: Buffer) => { err += c.toString() })
    child.on('error', reject)
    child.on('close', (code) => {
      if (code === 0) resolve(out)
      else reject(new Error(`${[file, ...args].join(' ')}: exit code ${String(code)}: ${err.trim()}`))
    })
    child.stdin.end(input)
  })
}

/** The prefix that runs a command in the network namespace of process `pid` (nsenter execs it: same pid). */
export const inNamespaceOf = (pid: number): string[] => ['nsenter', '-t', String(pid), '-n', '--']

/** Runs a command in the network namespace of process `pid`. */
export async function runIn (pid: number, file: string, args: readonly string[], input?: string): Promise<string> {
  const [nsenter, ...prefix] = inNamespaceOf(pid)
  return await run(nsenter as string, [...prefix, file, ...args], input)
}

const NAMESPACE_POLL_MS = 5
const NAMESPACE_POLLS = 400

/**
 * Resolves once process `pid` is in a network namespace other than ours:
 * `unshare --net` is spawned in ours and moves itself a moment later, and a
 * link moved into its namespace before that would land in ours.
 */
export async function ownNamespace (pid: number): Promise<void> {
  const ours = await readlink('/proc/self/ns/net')
  for (let i = 0; i < NAMESPACE_POLLS; i++) {
    const theirs = await readlink(`/proc/${pid}/ns/net`)
    if (theirs !== ours) return
    await sleep(NAMESPACE_POLL_MS)
  }
  throw new Error(`process ${pid} did not enter a network namespace of its own within ${NAMESPACE_POLL_MS * NAMESPACE_POLLS} ms`)
}
