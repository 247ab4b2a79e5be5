/**
 * Where a process listens, learnt from the operating system, so a pod can be
 * started with PORT=0 (the kernel picks a free port at bind time, nothing can
 * take it in between) without any cooperation from the service: on Linux from
 * /proc (the TCP sockets in LISTEN state whose inodes are among the open
 * files of the process or of its descendants), elsewhere (macOS) from `lsof`,
 * which the system ships.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readdir, readFile, readlink } from 'node:fs/promises'
import { join } from 'node:path'

/** A listening socket's local address: `0.0.0.0` and `::` stand for every address. */
export interface ListeningSocket {
  readonly host: string
  readonly port: number
}

/** TCP_LISTEN in the kernel's `st` column of /proc/net/tcp. */
const LISTEN = '0A'

const orEmpty = async (read: Promise<string>): Promise<string> => await read.catch(() => '')

/** The process and its descendants, from each task's `children` file (a process that is gone has none). */
async function processTree (pid: number, proc: string): Promise<number[]> {
  const tasks = await readdir(join(proc, String(pid), 'task')).catch(() => [])
  const children = (await Promise.all(tasks.map(async (t) => await orEmpty(readFile(join(proc, String(pid), 'task', t, 'children'), 'utf8')))))
    .join(' ').split(/\s+/).filter((x) => x !== '').map(Number)
  return [pid, ...(await Promise.all(children.map(async (c) => await processTree(c, proc)))).flat()]
}

/** The socket inodes among a process's open files (`socket:[12345]`). */
async function socketInodes (pid: number, proc: string): Promise<string[]> {
  const fds = await readdir(join(proc, String(pid), 'fd')).catch(() => [])
  const links = await Promise.all(fds.map(async (fd) => await orEmpty(readlink(join(proc, String(pid), 'fd', fd)))))
  return links.map((l) => /^socket:\[(\d+)\]$/.exec(l)?.[1]).filter((x) => x !== undefined)
}

/** An address of /proc/net/tcp{,6}: hex, in 32-bit words of host byte order (little-endian here). */
export function procAddress (hex: string): string {
  const words = hex.match(/.{8}/g) as string[]
  const bytes = words.flatMap((w) => (w.match(/../g) as string[]).reverse().map((b) => parseInt(b, 16)))
  if (bytes.length === 4) return bytes.join('.')
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] as number) << 8 | (bytes[2 * i + 1] as number)).toString(16))
  // Shortened only where it matters to the kit: every address, and loopback.
  const full = groups.join(':')
  return full === '0:0:0:0:0:0:0:0' ? '::' : full === '0:0:0:0:0:0:0:1' ? '::1' : full
}

/** Listening sockets of `pid` and its descendants, from /proc (Linux). */
export async function procListeningSockets (pid: number, proc = '/proc'): Promise<ListeningSocket[]> {
  const pids = await processTree(pid, proc)
  const inodes = new Set((await Promise.all(pids.map(async (p) => await socketInodes(p, proc)))).flat())
  const tables = await Promise.all(['tcp', 'tcp6'].map(async (t) => await orEmpty(readFile(join(proc, String(pid), 'net', t), 'utf8'))))
  const found: ListeningSocket[] = []
  for (const line of tables.join('\n').split('\n')) {
    const f = line.trim().split(/\s+/)
    if (f[3] !== LISTEN || !inodes.has(f[9] as string)) continue
    const [address, port] = (f[1] as string).split(':') as [string, string]
    found.push({ host: procAddress(address), port: parseInt(port, 16) })
  }
  return found
}

async function run (file: string, args: readonly string[]): Promise<string> {
  return await new Promise((resolve, reject) => {
    execFile(file, args, (err, stdout) => {
      // lsof exits 1 when it found nothing: an empty answer, not a failure.
      if (err === null || (err.code === 1 && stdout === '')) resolve(stdout)
      else reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}`))
    })
  })
}

/** Listening sockets of `pid` and its descendants, from `ps` and `lsof` (where there is no /proc). */
export async function lsofListeningSockets (pid: number): Promise<ListeningSocket[]> {
  const parents = (await run('ps', ['-A', '-o', 'pid=,ppid='])).trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number))
  const pids = [pid]
  for (let i = 0; i < pids.length; i++) for (const [child, parent] of parents) if (parent === pids[i]) pids.push(child as number)
  const out = await run('lsof', ['-nP', '-a', '-p', pids.join(','), '-iTCP', '-sTCP:LISTEN', '-Fn'])
  return out.split('\n').filter((l) => l.startsWith('n')).map((l) => {
    const m = /^n\[?(.*?)\]?:(\d+)$/.exec(l) as RegExpExecArray
    return { host: m[1] === '*' ? '0.0.0.0' : m[1] as string, port: Number(m[2]) }
  })
}

/** Listening sockets of `pid` and its descendants: /proc where there is one, lsof elsewhere. */
export async function listeningSockets (pid: number, proc = '/proc'): Promise<ListeningSocket[]> {
  return existsSync(join(proc, 'self', 'net', 'tcp')) ? await procListeningSockets(pid, proc) : await lsofListeningSockets(pid)
}
