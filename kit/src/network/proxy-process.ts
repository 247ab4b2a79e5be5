/** Starting a real proxy (HAProxy, nginx) as a child process for the L7 modes. */
import { spawn, type ChildProcess } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { probeOnce } from './http-probe.js'

export interface ProxyStart {
  /** How errors name it: `HAProxy`, `nginx`. */
  readonly name: string
  readonly bin: string
  readonly args: readonly string[]
  /** Its config and runtime files: removed when it cannot start. */
  readonly dir: string
  readonly port: number
  /** A path it answers 200 on once it serves. */
  readonly alivePath: string
  /** What to do when it is missing, for the error message. */
  readonly hint: string
}

/** Spawns the proxy and resolves once it answers; rejects with its stderr when it exits or cannot start. */
export async function startProxy (p: ProxyStart): Promise<ChildProcess> {
  const child = spawn(p.bin, [...p.args], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  let gone = false
  const failed = new Promise<never>((_resolve, reject) => {
    const fail = (why: string): void => { gone = true; reject(new Error(`${p.name} did not start (${why}); ${p.hint}\n${stderr}`)) }
    child.on('error', (err) => { fail(err.message) })
    child.on('exit', (code) => { fail(`exit code ${String(code)}`) })
  })
  failed.catch(() => {})
  const started = (async () => {
    while (!gone && !await probeOnce(p.port, p.alivePath, 500)) await new Promise((resolve) => setTimeout(resolve, 50))
  })()
  try {
    await Promise.race([started, failed])
  } catch (err) {
    await rm(p.dir, { recursive: true, force: true })
    throw err
  }
  return child
}
