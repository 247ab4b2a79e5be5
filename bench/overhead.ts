// What the plugin costs, measured with autocannon side by side in one run:
// bare Fastify, the usual recipe (Fastify + close-with-grace) and Fastify with
// the plugin on the same hello route, and the readiness route vs a bare route
// on the plugin app. Each round runs every case once, in an order rotated from
// round to round, and ratios are taken WITHIN a round (paired), so drift of a
// busy machine between rounds cancels out; the medians of those ratios, with
// their range, are printed (record them in docs/benchmarks.md).
//   npm run bench [-- --duration 5 --rounds 5 --connections 50]
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { parseArgs } from 'node:util'

interface Result { requests: { average: number, total: number }, latency: { p99: number }, non2xx: number, errors: number, timeouts: number }
// autocannon ships no type declarations; this is the part used here.
const { default: autocannon } = await import('autocannon' as string) as { default: (opts: object) => Promise<Result> }

const { values } = parseArgs({ options: { duration: { type: 'string', default: '5' }, rounds: { type: 'string', default: '5' }, connections: { type: 'string', default: '50' } } })
const duration = Number(values.duration)
const rounds = Number(values.rounds)
const connections = Number(values.connections)
for (const [name, v] of Object.entries({ duration, rounds, connections })) {
  if (!Number.isInteger(v) || v <= 0) throw new TypeError(`--${name} must be a positive whole number`)
}

async function start (mode: string): Promise<{ child: ChildProcess, port: number }> {
  const child = fork(new URL('./server.ts', import.meta.url).pathname, { execArgv: ['--import', 'tsx'], env: { ...process.env, BENCH_MODE: mode } })
  const [msg] = await once(child, 'message') as [{ port: number }]
  return { child, port: msg.port }
}

interface Sample { rps: number, p99: number, cpuMicrosPerRequest: number }
const cases = {
  bare: { name: 'bare Fastify, GET /hello', mode: 'bare', path: '/hello' },
  recipe: { name: 'Fastify + close-with-grace, GET /hello', mode: 'recipe', path: '/hello' },
  plugin: { name: 'Fastify + plugin, GET /hello', mode: 'plugin', path: '/hello' },
  pluginBare: { name: 'Fastify + plugin, GET /bare', mode: 'plugin', path: '/bare' },
  ready: { name: 'Fastify + plugin, GET /ready', mode: 'plugin', path: '/ready' }
} as const
type CaseId = keyof typeof cases
const ids = Object.keys(cases) as CaseId[]

async function serverCpuMicros (child: ChildProcess): Promise<number> {
  const reply = once(child, 'message') as Promise<[{ cpuMicros: number }]>
  child.send('cpu')
  return (await reply)[0].cpuMicros
}

async function measure (id: CaseId): Promise<Sample> {
  const c = cases[id]
  const { child, port } = await start(c.mode)
  try {
    // Warm up the JIT before measuring.
    await autocannon({ url: `http://127.0.0.1:${port}${c.path}`, connections, duration: 1 })
    const cpuBefore = await serverCpuMicros(child)
    const r = await autocannon({ url: `http://127.0.0.1:${port}${c.path}`, connections, duration })
    const cpu = await serverCpuMicros(child) - cpuBefore
    const bad = r.non2xx + r.errors + r.timeouts
    if (bad > 0) throw new Error(`${c.name}: ${bad} failed requests`)
    return { rps: r.requests.average, p99: r.latency.p99, cpuMicrosPerRequest: cpu / r.requests.total }
  } finally {
    child.kill('SIGTERM')
    await once(child, 'exit')
  }
}

const ratios = {
  pluginVsBare: [] as number[],
  pluginVsRecipe: [] as number[],
  recipeVsBare: [] as number[],
  readyVsBareRoute: [] as number[],
  p99PluginVsBare: [] as number[],
  cpuPluginVsBare: [] as number[],
  cpuPluginVsRecipe: [] as number[],
  cpuReadyVsBareRoute: [] as number[]
}
for (let round = 0; round < rounds; round++) {
  const s = {} as Record<CaseId, Sample>
  for (let i = 0; i < ids.length; i++) {
    const id = ids[(i + round) % ids.length] as CaseId
    s[id] = await measure(id)
    process.stderr.write(`round ${round + 1} ${cases[id].name}: ${Math.round(s[id].rps)} req/s, p99 ${s[id].p99} ms, ${s[id].cpuMicrosPerRequest.toFixed(1)} µs CPU/request\n`)
  }
  ratios.pluginVsBare.push(s.plugin.rps / s.bare.rps)
  ratios.pluginVsRecipe.push(s.plugin.rps / s.recipe.rps)
  ratios.recipeVsBare.push(s.recipe.rps / s.bare.rps)
  ratios.readyVsBareRoute.push(s.ready.rps / s.pluginBare.rps)
  ratios.p99PluginVsBare.push(s.plugin.p99 / s.bare.p99)
  ratios.cpuPluginVsBare.push(s.plugin.cpuMicrosPerRequest / s.bare.cpuMicrosPerRequest)
  ratios.cpuPluginVsRecipe.push(s.plugin.cpuMicrosPerRequest / s.recipe.cpuMicrosPerRequest)
  ratios.cpuReadyVsBareRoute.push(s.ready.cpuMicrosPerRequest / s.pluginBare.cpuMicrosPerRequest)
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
const row = (label: string, xs: number[]): string =>
  `| ${label} | ${median(xs).toFixed(3)} | ${Math.min(...xs).toFixed(3)} – ${Math.max(...xs).toFixed(3)} |`
process.stdout.write([
  `autocannon, ${connections} connections, ${duration} s per case, ${rounds} rounds, Node ${process.version}`,
  '',
  '| ratio (paired within each round) | median | range |',
  '|---|---|---|',
  row('throughput: plugin / bare Fastify, GET /hello', ratios.pluginVsBare),
  row('throughput: plugin / close-with-grace recipe, GET /hello', ratios.pluginVsRecipe),
  row('throughput: close-with-grace recipe / bare Fastify, GET /hello', ratios.recipeVsBare),
  row('throughput: GET /ready / GET /bare (plugin app)', ratios.readyVsBareRoute),
  row('p99 latency: plugin / bare Fastify, GET /hello', ratios.p99PluginVsBare),
  row('server CPU per request: plugin / bare Fastify, GET /hello', ratios.cpuPluginVsBare),
  row('server CPU per request: plugin / close-with-grace recipe, GET /hello', ratios.cpuPluginVsRecipe),
  row('server CPU per request: GET /ready / GET /bare (plugin app)', ratios.cpuReadyVsBareRoute),
  ''
].join('\n'))
