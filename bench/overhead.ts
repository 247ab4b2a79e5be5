// What the plugin costs, measured with autocannon side by side in one run:
// bare Fastify, the usual recipe (Fastify + close-with-grace) and Fastify with
// the plugin on the same hello route, and the readiness route vs a bare route
// on the plugin app. Each round runs every case once, in an order rotated from
// round to round, and ratios are taken WITHIN a round (paired), so drift of a
// busy machine between rounds cancels out; the medians of those ratios, with
// their range, are printed (record them in docs/benchmarks.md).
//   npm run bench [-- --duration 5 --rounds 5 --connections 50]
import { parseArgs } from 'node:util'
import { pairedRounds, positiveIntegers, ratioTable, serverCpuMicros, startServer, stopServer } from './paired.js'

interface Result { requests: { average: number, total: number }, latency: { p99: number }, non2xx: number, errors: number, timeouts: number }
// autocannon ships no type declarations; this is the part used here.
const { default: autocannon } = await import('autocannon' as string) as { default: (opts: object) => Promise<Result> }

const { values } = parseArgs({ options: { duration: { type: 'string', default: '5' }, rounds: { type: 'string', default: '5' }, connections: { type: 'string', default: '50' } } })
const { duration, rounds, connections } = positiveIntegers(values)

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

async function measure (id: CaseId): Promise<Sample> {
  const c = cases[id]
  const server = await startServer(c.mode)
  try {
    const url = `http://127.0.0.1:${server.port}${c.path}`
    // Warm up the JIT before measuring.
    await autocannon({ url, connections, duration: 1 })
    const cpuBefore = await serverCpuMicros(server)
    const r = await autocannon({ url, connections, duration })
    const cpu = await serverCpuMicros(server) - cpuBefore
    const bad = r.non2xx + r.errors + r.timeouts
    if (bad > 0) throw new Error(`${c.name}: ${bad} failed requests`)
    return { rps: r.requests.average, p99: r.latency.p99, cpuMicrosPerRequest: cpu / r.requests.total }
  } finally {
    await stopServer(server)
  }
}

const results = await pairedRounds(ids, rounds, measure, (id, s) =>
  `${cases[id].name}: ${Math.round(s.rps)} req/s, p99 ${s.p99} ms, ${s.cpuMicrosPerRequest.toFixed(1)} µs CPU/request`)
process.stdout.write(ratioTable(`autocannon, ${connections} connections, ${duration} s per case, ${rounds} rounds, Node ${process.version}`, results, [
  ['throughput: plugin / bare Fastify, GET /hello', (s) => s.plugin.rps / s.bare.rps],
  ['throughput: plugin / close-with-grace recipe, GET /hello', (s) => s.plugin.rps / s.recipe.rps],
  ['throughput: close-with-grace recipe / bare Fastify, GET /hello', (s) => s.recipe.rps / s.bare.rps],
  ['throughput: GET /ready / GET /bare (plugin app)', (s) => s.ready.rps / s.pluginBare.rps],
  ['p99 latency: plugin / bare Fastify, GET /hello', (s) => s.plugin.p99 / s.bare.p99],
  ['server CPU per request: plugin / bare Fastify, GET /hello', (s) => s.plugin.cpuMicrosPerRequest / s.bare.cpuMicrosPerRequest],
  ['server CPU per request: plugin / close-with-grace recipe, GET /hello', (s) => s.plugin.cpuMicrosPerRequest / s.recipe.cpuMicrosPerRequest],
  ['server CPU per request: GET /ready / GET /bare (plugin app)', (s) => s.ready.cpuMicrosPerRequest / s.pluginBare.cpuMicrosPerRequest]
]))
