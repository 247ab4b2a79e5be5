// What the plugin costs, measured with autocannon side by side in one run:
// bare Fastify, the usual recipe (Fastify + close-with-grace) and Fastify with
// the plugin on the same hello route, and the readiness route vs a bare route
// on the plugin app. Each round runs every case once, in an order rotated from
// round to round, and ratios are taken WITHIN a round (paired), so drift of a
// busy machine between rounds cancels out; the medians of those ratios, with
// their range, are printed (record them in docs/benchmarks.md). The plugin
// runs with its defaults, connection max age included; a fourth case turns max
// age off (`connectionMaxAgeMs: 0`) to show what it costs on its own.
//   npm run bench [-- --duration 5 --rounds 5 --connections 50 --pin --live 5]
import { parseArgs } from 'node:util'
import { pairedRounds, pinGenerator, positiveIntegers, ratioTable, serverCpuMicros, startServer, stopServer, type BenchServer } from './paired.js'

interface Result { requests: { average: number, total: number }, latency: { p99: number }, non2xx: number, errors: number, timeouts: number }
// autocannon ships no type declarations; this is the part used here.
const { default: autocannon } = await import('autocannon' as string) as { default: (opts: object) => Promise<Result> }

const { values } = parseArgs({ options: { duration: { type: 'string', default: '5' }, rounds: { type: 'string', default: '5' }, connections: { type: 'string', default: '50' }, pin: { type: 'boolean', default: false }, live: { type: 'string', default: '0' } } })
const { duration, rounds, connections } = positiveIntegers({ duration: values.duration, rounds: values.rounds, connections: values.connections })
const liveRounds = values.live === '0' ? 0 : positiveIntegers({ live: values.live }).live
const pinning = values.pin ? pinGenerator() : undefined

interface Sample { rps: number, p99: number, cpuMicrosPerRequest: number }
const cases = {
  bare: { name: 'bare Fastify, GET /hello', mode: 'bare', path: '/hello' },
  recipe: { name: 'Fastify + close-with-grace, GET /hello', mode: 'recipe', path: '/hello' },
  plugin: { name: 'Fastify + plugin, GET /hello', mode: 'plugin', path: '/hello' },
  pluginNoAge: { name: 'Fastify + plugin, connectionMaxAgeMs 0, GET /hello', mode: 'plugin-no-age', path: '/hello' },
  pluginBare: { name: 'Fastify + plugin, GET /bare', mode: 'plugin', path: '/bare' },
  ready: { name: 'Fastify + plugin, GET /ready', mode: 'plugin', path: '/ready' }
} as const
type CaseId = keyof typeof cases
const ids = Object.keys(cases) as CaseId[]

/**
 * With --live N, every case's server is started once and kept for N rounds
 * (then all are started afresh), so a round is only the measured windows:
 * seconds instead of a minute of process starts, and the machine drifts less
 * between the cases it pairs. Fresh processes every N rounds still sample
 * each process's own JIT luck. Without it (N = 0), each case starts its own
 * server for its one window, as the benchmark always did.
 */
const live = new Map<CaseId, BenchServer>()
let windows = 0

async function serverFor (id: CaseId): Promise<BenchServer> {
  if (liveRounds === 0) return await warmedUp(id)
  if (windows++ % (ids.length * liveRounds) === 0) {
    await Promise.all([...live.values()].map(stopServer))
    live.clear()
    for (const other of ids) live.set(other, await warmedUp(other))
  }
  return live.get(id)!
}

async function warmedUp (id: CaseId): Promise<BenchServer> {
  const server = await startServer(cases[id].mode, {}, pinning)
  // Warm up the JIT before measuring.
  await autocannon({ url: urlOf(id, server), connections, duration: 1 })
  return server
}

const urlOf = (id: CaseId, server: BenchServer): string => `http://127.0.0.1:${server.port}${cases[id].path}`

async function measure (id: CaseId): Promise<Sample> {
  const server = await serverFor(id)
  try {
    const cpuBefore = await serverCpuMicros(server)
    const r = await autocannon({ url: urlOf(id, server), connections, duration })
    const cpu = await serverCpuMicros(server) - cpuBefore
    const bad = r.non2xx + r.errors + r.timeouts
    if (bad > 0) throw new Error(`${cases[id].name}: ${bad} failed requests`)
    return { rps: r.requests.average, p99: r.latency.p99, cpuMicrosPerRequest: cpu / r.requests.total }
  } finally {
    if (liveRounds === 0) await stopServer(server)
  }
}

const results = await pairedRounds(ids, rounds, measure, (id, s) =>
  `${cases[id].name}: ${Math.round(s.rps)} req/s, p99 ${s.p99} ms, ${s.cpuMicrosPerRequest.toFixed(1)} µs CPU/request`)
await Promise.all([...live.values()].map(stopServer))
const placement = `${pinning === undefined ? 'unpinned' : `generator on CPU ${pinning.generatorCpu}, servers on CPU ${pinning.serverCpu}`}, ${liveRounds === 0 ? 'a fresh server per window' : `servers kept for ${liveRounds} rounds`}`
process.stdout.write(ratioTable(`autocannon, ${connections} connections, ${duration} s per case, ${rounds} rounds, ${placement}, Node ${process.version}`, results, [
  ['throughput: plugin / bare Fastify, GET /hello', (s) => s.plugin.rps / s.bare.rps],
  ['throughput: plugin / close-with-grace recipe, GET /hello', (s) => s.plugin.rps / s.recipe.rps],
  ['throughput: close-with-grace recipe / bare Fastify, GET /hello', (s) => s.recipe.rps / s.bare.rps],
  ['throughput: GET /ready / GET /bare (plugin app)', (s) => s.ready.rps / s.pluginBare.rps],
  ['p99 latency: plugin / bare Fastify, GET /hello', (s) => s.plugin.p99 / s.bare.p99],
  ['server CPU per request: plugin / bare Fastify, GET /hello', (s) => s.plugin.cpuMicrosPerRequest / s.bare.cpuMicrosPerRequest],
  ['server CPU per request: plugin / close-with-grace recipe, GET /hello', (s) => s.plugin.cpuMicrosPerRequest / s.recipe.cpuMicrosPerRequest],
  ['server CPU per request: close-with-grace recipe / bare Fastify, GET /hello (the noise floor: same request path)', (s) => s.recipe.cpuMicrosPerRequest / s.bare.cpuMicrosPerRequest],
  ['server CPU per request: plugin / plugin with connectionMaxAgeMs 0, GET /hello', (s) => s.plugin.cpuMicrosPerRequest / s.pluginNoAge.cpuMicrosPerRequest],
  ['server CPU per request: plugin with connectionMaxAgeMs 0 / bare Fastify, GET /hello', (s) => s.pluginNoAge.cpuMicrosPerRequest / s.bare.cpuMicrosPerRequest],
  ['server CPU per request: GET /ready / GET /bare (plugin app)', (s) => s.ready.cpuMicrosPerRequest / s.pluginBare.cpuMicrosPerRequest]
]))
