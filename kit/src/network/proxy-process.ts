/** Starting a real proxy (HAProxy, nginx) as a child process for the L7 modes. */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { rm } from 'node:fs/promises'
import type { HandedSocket } from './listen-socket.js'

export interface ProxyStart {
  /** How errors name it: `HAProxy`, `nginx`. */
  readonly name: string
  readonly bin: string
  readonly args: readonly string[]
  /** A command it runs under (the ingress namespace on the kernel path). */
  readonly launcher?: readonly string[]
  readonly env?: NodeJS.ProcessEnv
  /** Listening sockets it inherits as fd 3, 4, ...; this process's copies are closed once it has them. */
  readonly sockets?: readonly HandedSocket[]
  /** Its config and runtime files: removed when it cannot start. */
  readonly dir: string
  /** Resolves true once it serves (its admin interface answers); false while it does not yet. */
  readonly serving: () => Promise<boolean>
  /** What to do when it is missing, for the error message. */
  readonly hint: string
  /** How long it may take to serve before it counts as not started (default 10 s). */
  readonly startTimeoutMs?: number
}

/** How long to wait between two looks at a proxy that does not serve yet. */
const START_POLL_MS = 50
const START_TIMEOUT_MS = 10_000

/** Spawns the proxy and resolves once it serves; rejects with its stderr when it exits, cannot start or does not serve in time. */
export async function startProxy (p: ProxyStart): Promise<ChildProcess> {
  const sockets = p.sockets ?? []
  const stdio: StdioOptions = ['ignore', 'ignore', 'pipe', ...sockets.map((s) => s.fd)]
  const [file, ...args] = [...p.launcher ?? [], p.bin, ...p.args]
  const child = spawn(file as string, args, { stdio, ...(p.env === undefined ? {} : { env: p.env }) })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  let gone = false
  const failed = new Promise<never>((_resolve, reject) => {
    const fail = (why: string): void => { gone = true; reject(new Error(`${p.name} did not start (${why}); ${p.hint}\n${stderr}`)) }
    child.on('error', (err) => { fail(err.message) })
    child.on('exit', (code) => { fail(`exit code ${String(code)}`) })
  })
  failed.catch(() => {})
  await Promise.all(sockets.map(async (s) => { await s.close() }))
  const timeoutMs = p.startTimeoutMs ?? START_TIMEOUT_MS
  const deadline = performance.now() + timeoutMs
  const started = (async () => {
    while (!gone && !await p.serving()) {
      if (performance.now() > deadline) throw new Error(`${p.name} did not start (not serving after ${timeoutMs} ms)\n${stderr}`)
      await new Promise((resolve) => setTimeout(resolve, START_POLL_MS))
    }
    // Gone before it served (it may have failed before this loop began): its failure is the answer.
    if (gone) await failed
  })()
  try {
    await Promise.race([started, failed])
  } catch (err) {
    child.kill('SIGKILL')
    await rm(p.dir, { recursive: true, force: true })
    throw err
  }
  return child
}
