// What the plugin costs, measured with autocannon side by side in one run:
// bare Fastify vs Fastify + plugin on a hello route, and the readiness route vs
// a bare route on the plugin app. Rounds alternate so drift hits every case;
// the medians and their ratios are printed (record them in docs/benchmarks.md).
//   npm run bench [-- --duration 5 --rounds 3 --connections 50]
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { parseArgs } from 'node:util'

interface Result { requests: { average: number }, latency: { p99: number }, non2xx: number, errors: number, timeouts: number }
// autocannon ships no type declarations; this is the part used here.
const { default: autocannon } = await import('autocannon' as string) as { default: (opts: object) => Promise<Result> }

const { values } = parseArgs({ options: { duration: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' }, connections: { type: 'string', default: '50' } } })
const duration = Number(values.duration)
const rounds = Number(values.rounds)
const connections = Number(values.connections)

async function start (mode: string): Promise<{ child: ChildProcess, port: number }> {
  const child = fork(new URL('./server.ts', import.meta.url).pathname, { execArgv: ['--import', 'tsx'], env: { ...process.env, BENCH_MODE: mode } })
  const [msg] = await once(child, 'message') as [{ port: number }]
  return { child, port: msg.port }
}

interface Sample { rps: number, p99: number }
const cases = [
  { name: 'bare Fastify  GET /hello', mode: 'bare', path: '/hello' },
  { name: 'with plugin   GET /hello', mode: 'plugin', path: '/hello' },
  { name: 'with plugin   GET /bare', mode: 'plugin', path: '/bare' },
  { name: 'with plugin   GET /ready', mode: 'plugin', path: '/ready' }
]
const samples = new Map<string, Sample[]>(cases.map((c) => [c.name, []]))

for (let round = 1; round <= rounds; round++) {
  for (const c of cases) {
    const { child, port } = await start(c.mode)
    // Warm up the JIT before measuring.
    await autocannon({ url: `http://127.0.0.1:${port}${c.path}`, connections, duration: 1 })
    const r = await autocannon({ url: `http://127.0.0.1:${port}${c.path}`, connections, duration })
    const bad = r.non2xx + r.errors + r.timeouts
    if (bad > 0) throw new Error(`${c.name}: ${bad} failed requests`)
    samples.get(c.name)!.push({ rps: r.requests.average, p99: r.latency.p99 })
    process.stderr.write(`round ${round} ${c.name}: ${Math.round(r.requests.average)} req/s, p99 ${r.latency.p99} ms\n`)
    child.kill('SIGTERM')
    await once(child, 'exit')
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const m = (name: string): Sample => ({ rps: median(samples.get(name)!.map((s) => s.rps)), p99: median(samples.get(name)!.map((s) => s.p99)) })
const bare = m(cases[0]!.name)
const plugin = m(cases[1]!.name)
const pluginBare = m(cases[2]!.name)
const ready = m(cases[3]!.name)
const lines = [
  `autocannon, ${connections} connections, ${duration} s x ${rounds} rounds (medians), Node ${process.version}`,
  '',
  '| case | req/s | p99 (ms) |',
  '|---|---|---|',
  ...cases.map((c) => { const s = m(c.name); return `| ${c.name} | ${Math.round(s.rps)} | ${s.p99} |` }),
  '',
  `plugin / bare throughput on /hello: ${(plugin.rps / bare.rps).toFixed(3)} (cost ${((1 - plugin.rps / bare.rps) * 100).toFixed(1)} %)`,
  `plugin / bare p99 on /hello: ${(plugin.p99 / bare.p99).toFixed(2)}`,
  `/ready / bare route throughput (plugin app): ${(ready.rps / pluginBare.rps).toFixed(3)}`,
  `/ready / bare route p99 (plugin app): ${(ready.p99 / pluginBare.p99).toFixed(2)}`
]
process.stdout.write(lines.join('\n') + '\n')
