/**
 * The machine and the versions a matrix ran with: drop counts depend on
 * timing, so the document says where they come from. Peer versions come
 * from package-lock.json (what `npm ci` installs), proxy versions from the
 * binaries the kit starts.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, loadavg, release, totalmem, type } from 'node:os'
import { join } from 'node:path'
import { MatrixError } from './errors.js'

export interface Machine {
  readonly cores: number
  readonly cpu: string
  readonly memoryGiB: number
  readonly node: string
  readonly kernel: string
  /** 1, 5 and 15 minute load averages when the session started. */
  readonly loadAverage: readonly number[]
}

export interface Versions {
  /** npm package -> version, from package-lock.json. */
  readonly packages: Readonly<Record<string, string>>
  /** This repository's commit (with `-dirty` when the tree had changes). */
  readonly commit: string
  readonly haproxy: string
  readonly nginx: string
}

export function machine (): Machine {
  const cpu = cpus()
  return {
    cores: cpu.length,
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: `${type()} ${release()}`,
    loadAverage: roundedLoad()
  }
}

export const roundedLoad = (): number[] => loadavg().map((n) => Math.round(n * 100) / 100)

interface Lockfile {
  readonly packages: Readonly<Record<string, { readonly version?: string }>>
}

/** The version package-lock.json pins for each package (the root package for its own name). */
export function lockedVersions (root: string, names: readonly string[]): Record<string, string> {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Lockfile & { readonly name?: string }
  const out: Record<string, string> = {}
  for (const name of names) {
    const entry = name === lock.name ? lock.packages[''] : lock.packages[`node_modules/${name}`]
    if (entry?.version === undefined) throw new MatrixError(`package-lock.json has no version for ${name}: run npm ci`)
    out[name] = entry.version
  }
  return out
}

/** The first line a binary prints about its version, or why there is none. */
export function binaryVersion (bin: string, args: readonly string[]): string {
  const r = spawnSync(bin, args, { encoding: 'utf8' })
  if (r.error !== undefined) return `not found (${bin})`
  const text = `${r.stdout}${r.stderr}`.trim().split('\n')[0] ?? ''
  return text === '' ? `no version output (${bin})` : text
}

export function commitOf (root: string): string {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' })
  if (head.status !== 0) return 'unknown (not a git checkout)'
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' })
  return `${head.stdout.trim()}${dirty.stdout.trim() === '' ? '' : '-dirty'}`
}

export function versions (root: string, packages: readonly string[]): Versions {
  return {
    packages: lockedVersions(root, packages),
    commit: commitOf(root),
    haproxy: binaryVersion(process.env.HAPROXY_BIN ?? 'haproxy', ['-v']),
    nginx: binaryVersion(process.env.NGINX_BIN ?? 'nginx', ['-v'])
  }
}
