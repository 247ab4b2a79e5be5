// What every benchmark here shares: a server case forked from server.ts, its
// CPU time read over IPC, and rounds that run every case once in an order
// rotated from round to round, so ratios taken WITHIN a round (paired) cancel
// the drift of a busy machine between rounds; their medians and range are
// what gets printed and recorded in docs/benchmarks.md.
import { fork, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { availableParallelism } from 'node:os'

/** Refuses any flag that is not a positive whole number, naming it. */
export function positiveIntegers<K extends string> (flags: Record<K, string | undefined>): Record<K, number> {
  const parsed = {} as Record<K, number>
  for (const name of Object.keys(flags) as K[]) {
    const v = Number(flags[name])
    if (!Number.isInteger(v) || v <= 0) throw new TypeError(`--${name} must be a positive whole number`)
    parsed[name] = v
  }
  return parsed
}

export interface BenchServer { readonly child: ChildProcess, readonly port: number }

/**
 * Where each side runs: with `--pin`, the load generator (this process, every
 * thread) on CPU 0 and each server on the last CPU, so that the two never
 * take turns on one core. Linux only (taskset, util-linux); `undefined`
 * leaves placement to the scheduler.
 */
export interface Pinning { readonly generatorCpu: number, readonly serverCpu: number }

/** Pins this process to the generator's CPU; refuses a machine it cannot pin. */
export function pinGenerator (): Pinning {
  const cpus = availableParallelism()
  if (cpus < 2) throw new TypeError('--pin needs at least 2 CPUs: one for the load generator, one for the server')
  const pinning = { generatorCpu: 0, serverCpu: cpus - 1 }
  taskset(process.pid, pinning.generatorCpu)
  return pinning
}

function taskset (pid: number, cpu: number): void {
  const r = spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`taskset could not pin process ${pid} to CPU ${cpu}: ${r.error?.message ?? r.stderr.trim()}`)
}

/** Forks server.ts in `mode` (with `env` added, and Node's `nodeFlags`), pinned when asked, and waits for its port. */
export async function startServer (mode: string, env: Record<string, string> = {}, pinning?: Pinning, nodeFlags: readonly string[] = []): Promise<BenchServer> {
  const child = fork(new URL('./server.ts', import.meta.url).pathname, { execArgv: ['--import', 'tsx', ...nodeFlags], env: { ...process.env, ...env, BENCH_MODE: mode } })
  const [msg] = await once(child, 'message') as [{ port: number }]
  // Every thread it has now; threads it starts later inherit the pinning.
  if (pinning !== undefined) taskset(child.pid!, pinning.serverCpu)
  return { child, port: msg.port }
}

export async function stopServer ({ child }: BenchServer): Promise<void> {
  child.kill('SIGTERM')
  await once(child, 'exit')
}

/** The server process's user + system CPU time so far, in µs. */
export async function serverCpuMicros ({ child }: BenchServer): Promise<number> {
  const reply = once(child, 'message') as Promise<[{ cpuMicros: number }]>
  child.send('cpu')
  return (await reply)[0].cpuMicros
}

/**
 * Runs `rounds` rounds of every case, in rotated order, and returns each
 * round's samples by case; `describe` gives the progress line (stderr) of one.
 */
export async function pairedRounds<Id extends string, S> (
  ids: readonly Id[], rounds: number, measure: (id: Id) => Promise<S>, describe: (id: Id, sample: S) => string
): Promise<Array<Record<Id, S>>> {
  const all: Array<Record<Id, S>> = []
  for (let round = 0; round < rounds; round++) {
    const samples = {} as Record<Id, S>
    for (let i = 0; i < ids.length; i++) {
      const id = ids[(i + round) % ids.length] as Id
      samples[id] = await measure(id)
      process.stderr.write(`round ${round + 1} ${describe(id, samples[id])}\n`)
    }
    all.push(samples)
  }
  return all
}

function median (xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * A 95 % interval of the median of `xs` by bootstrap (2 000 resamples with
 * replacement), on a fixed-seed generator (mulberry32) so that the same
 * samples print the same interval. Says how far the median itself can be
 * trusted, which the range of single rounds does not.
 */
function medianInterval (xs: readonly number[]): [number, number] {
  let seed = 0x9e3779b9
  const random = (): number => {
    seed = (seed + 0x6d2b79f5) | 0
    let r = Math.imul(seed ^ (seed >>> 15), seed | 1)
    r ^= r + Math.imul(r ^ (r >>> 7), r | 61)
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296
  }
  const medians = Array.from({ length: 2000 }, () => median(xs.map(() => xs[Math.floor(random() * xs.length)]!))).sort((a, b) => a - b)
  return [medians[50]!, medians[1949]!]
}

/** The printed table: one row per paired ratio, its median, the median's 95 % interval and the range over the rounds. */
export function ratioTable<S> (title: string, rounds: ReadonlyArray<S>, ratios: ReadonlyArray<readonly [label: string, ratio: (round: S) => number]>): string {
  const rows = ratios.map(([label, ratio]) => {
    const xs = rounds.map(ratio)
    const [low, high] = medianInterval(xs)
    return `| ${label} | ${median(xs).toFixed(3)} | ${low.toFixed(3)} – ${high.toFixed(3)} | ${Math.min(...xs).toFixed(3)} – ${Math.max(...xs).toFixed(3)} |`
  })
  return [title, '', '| ratio (paired within each round) | median | 95 % interval of the median | range |', '|---|---|---|---|', ...rows, ''].join('\n')
}
