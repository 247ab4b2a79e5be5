/**
 * Real servers for the tests.
 * - Read-only checks use DATABASE_URL / REDIS_URL / AMQP_URL when set, else
 *   the shared loopback servers that .ci/run starts.
 * - Tests that stop, kill or hang a dependency get a throwaway instance
 *   (Postgres, Redis) or a fault-injecting proxy (RabbitMQ boots too slowly to
 *   throw away), never the shared servers.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, chownSync, rmSync, readdirSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const sharedUrls = Object.freeze({
  database: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  amqp: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
})

/** Host and port of a URL, for putting a proxy in front of it. */
export function hostPort (url: string): { host: string, port: number } {
  const u = new URL(url)
  return { host: u.hostname, port: Number(u.port) }
}

export async function freePort (): Promise<number> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  return port
}

function missing (binary: string, pkg: string): Error {
  return new Error(`${binary} not found: install the Debian package "${pkg}" (apt-get install ${pkg}), or set the matching *_URL for read-only tests`)
}

/** Waits until the child prints `pattern` (or fails with its output if it exits first). */
async function waitForOutput (child: ChildProcess, pattern: RegExp, what: string): Promise<void> {
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (pattern.test(output)) { cleanup(); resolve() }
    }
    const onExit = (code: number | null): void => { cleanup(); reject(new Error(`${what} exited (${String(code)}) before it was ready:\n${output}`)) }
    const cleanup = (): void => {
      child.stdout?.off('data', onData)
      child.stderr?.off('data', onData)
      child.off('exit', onExit)
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.on('exit', onExit)
  })
  // Keep draining so a chatty server never blocks on a full pipe.
  child.stdout?.resume()
  child.stderr?.resume()
}

export interface ThrowawayServer {
  readonly url: string
  readonly port: number
  /** Graceful stop (the server closes its connections). */
  stop: () => Promise<void>
  /** SIGKILL: connections die without a goodbye. */
  kill: () => Promise<void>
  /** Starts again on the same port (and data directory). */
  start: () => Promise<void>
  /** Stops and removes everything. */
  close: () => Promise<void>
}

async function stopChild (child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill(signal)
  await exited
}

function postgresBin (): string {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))) : []
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0]
  if (newest === undefined) throw missing('postgres', 'postgresql')
  return join(root, newest, 'bin')
}

/** Postgres refuses to run as root: run it as the `postgres` system user then. */
function postgresUser (): { uid: number, gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  return {
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim())
  }
}

/** What a helper needs of a tap test to clean up after it. */
export interface Teardown {
  teardown: (fn: () => unknown) => void
}

/**
 * A Postgres of its own: initdb in a temp dir, trust auth, on a free port;
 * stopped and its directory removed at `t`'s teardown, whatever fails first.
 */
export async function startThrowawayPostgres (t: Teardown): Promise<ThrowawayServer> {
  const bin = postgresBin()
  const user = postgresUser()
  // Under os.tmpdir(), not t.testdir(): Postgres puts its unix socket in it
  // (-k), and a socket path must stay under 108 bytes; a testdir, named after
  // the worktree, the file and the test's title, is far longer.
  const dir = mkdtempSync(join(tmpdir(), 'fzd-pg-'))
  let child: ChildProcess | undefined
  const close = async (): Promise<void> => {
    await stopChild(child, 'SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
  // Registered before initdb: a failed start removes the directory too.
  t.teardown(close)
  if (user !== undefined) chownSync(dir, user.uid, user.gid)
  const data = join(dir, 'data')
  execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'], { stdio: 'ignore', ...user })
  const port = await freePort()
  const start = async (): Promise<void> => {
    child = spawn(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'], { stdio: ['ignore', 'pipe', 'pipe'], ...user })
    await waitForOutput(child, /ready to accept connections/, 'postgres')
  }
  await start()
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    // SIGINT is Postgres' "fast shutdown": it disconnects clients and exits.
    stop: async () => { await stopChild(child, 'SIGINT') },
    kill: async () => { await stopChild(child, 'SIGKILL') },
    start,
    close
  }
}

/** A Redis of its own, without persistence, on a free port. */
export async function startThrowawayRedis (): Promise<ThrowawayServer> {
  let binary: string
  try {
    binary = execFileSync('sh', ['-c', 'command -v redis-server']).toString().trim()
  } catch {
    throw missing('redis-server', 'redis-server')
  }
  const port = await freePort()
  let child: ChildProcess | undefined
  const start = async (): Promise<void> => {
    child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
    await waitForOutput(child, /Ready to accept connections/i, 'redis-server')
  }
  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => { await stopChild(child, 'SIGTERM') },
    kill: async () => { await stopChild(child, 'SIGKILL') },
    start,
    close: async () => { await stopChild(child, 'SIGKILL') }
  }
}
