// What the plugin costs, measured with autocannon side by side in one run:
// bare Fastify, the usual recipe (Fastify + close-with-grace) and Fastify with
// the plugin on the same hello route, and the readiness route vs a bare route
// on the plugin app. Each round runs every case once, in an order rotated from
// round to round, and ratios are taken WITHIN a round (paired), so drift of a
// busy machine between rounds cancels out; the medians of those ratios, with
// their range, are printed (record them in docs/benchmarks.md). The plugin
// runs with its defaults, connection max age included; a fourth case turns max
// age off (`connectionMaxAgeMs: 0`) to show what it costs on its own.
// With --together, the four GET /hello servers are loaded at the same time,
// each by its own autocannon, every round: what slows one slows all of them
// in that window, so their ratios are free of the machine's drift between
// windows (see measureTogether).
//   npm run bench [-- --duration 5 --rounds 5 --connections 50 --pin --live 5 --together --semi-space 32]
import { parseArgs } from 'node:util'
import { pairedRounds, pinGenerator, positiveIntegers, ratioTable, serverCpuMicros, startServer, stopServer, type BenchServer } from './paired.js'

interface Result { requests: { average: number, total: number }, latency: { p99: number }, non2xx: number, errors: number, timeouts: number }
// autocannon ships no type declarations; this is the part used here.
const { default: autocannon } = await import('autocannon' as string) as { default: (opts: object) => Promise<Result> }

const { values } = parseArgs({ options: { duration: { type: 'string', default: '5' }, rounds: { type: 'string', default: '5' }, connections: { type: 'string', default: '50' }, pin: { type: 'boolean', default: false }, together: { type: 'boolean', default: false }, 'semi-space': { type: 'string', default: '0' }, live: { type: 'string', default: '0' } } })
const { duration, rounds, connections } = positiveIntegers({ duration: values.duration, rounds: values.rounds, connections: values.connections })
const liveRounds = values.live === '0' ? 0 : positiveIntegers({ live: values.live }).live
const pinning = values.pin ? pinGenerator() : undefined
/**
 * --semi-space MB fixes V8's young generation of every server at that size.
 * By default V8 grows it per process from what survives its scavenges, and
 * on this machine a server either grew it or did not, for its whole life:
 * one server served GET /hello for 12 µs of CPU and the next, identical one
 * for 16 µs, whatever its case. A fixed size takes that lottery out of the
 * comparison (every server at 12-13 µs); a run without it shows the default.
 */
const semiSpaceMb = values['semi-space'] === '0' ? 0 : positiveIntegers({ 'semi-space': values['semi-space'] })['semi-space']
const nodeFlags = semiSpaceMb === 0 ? [] : [`--min-semi-space-size=${semiSpaceMb}`, `--max-semi-space-size=${semiSpaceMb}`]

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
/** The cases of a run: with --together, those on GET /hello (each in a server of its own, loaded at once). */
const ids = (values.together ? ['bare', 'recipe', 'plugin', 'pluginNoAge'] : Object.keys(cases)) as CaseId[]

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
  const server = await startServer(cases[id].mode, {}, pinning, nodeFlags)
  // Warm up the JIT before measuring.
  await autocannon({ url: urlOf(id, server), connections, duration: 1 })
  return server
}

const urlOf = (id: CaseId, server: BenchServer): string => `http://127.0.0.1:${server.port}${cases[id].path}`

/** One case's window on its server: autocannon's numbers and the server's CPU over the same window. */
async function window (id: CaseId, server: BenchServer): Promise<Sample> {
  const cpuBefore = await serverCpuMicros(server)
  const r = await autocannon({ url: urlOf(id, server), connections, duration })
  const cpu = await serverCpuMicros(server) - cpuBefore
  const bad = r.non2xx + r.errors + r.timeouts
  if (bad > 0) throw new Error(`${cases[id].name}: ${bad} failed requests`)
  return { rps: r.requests.average, p99: r.latency.p99, cpuMicrosPerRequest: cpu / r.requests.total }
}

async function measure (id: CaseId): Promise<Sample> {
  const server = await serverFor(id)
  try {
    return await window(id, server)
  } finally {
    if (liveRounds === 0) await stopServer(server)
  }
}

/**
 * --together: one round is one window in which every case's server is loaded
 * at once, by one autocannon each (the same connections), with --pin all of
 * them on the one server CPU. This VM changes speed from second to second
 * (the ratio of two identical servers measured one after the other ranged
 * 0.64-1.07); measured in the same window, such a change falls on every
 * case alike and cancels out of their ratio. Each server's CPU per request
 * is still its own: its process's CPU time over its requests. The servers
 * share the core as the scheduler sees fit; throughput and p99, which
 * depend on that share, are not compared in this mode.
 */
async function measureTogether (): Promise<Record<CaseId, Sample>> {
  // One after the other: serverFor restarts them all every --live rounds.
  const servers: BenchServer[] = []
  for (const id of ids) servers.push(await serverFor(id))
  const samples = await Promise.all(ids.map(async (id, i) => await window(id, servers[i]!)))
  if (liveRounds === 0) await Promise.all(servers.map(stopServer))
  const round = Object.fromEntries(ids.map((id, i) => [id, samples[i]!])) as Record<CaseId, Sample>
  process.stderr.write(`round: ${ids.map((id) => `${id} ${round[id].cpuMicrosPerRequest.toFixed(2)} µs CPU/request`).join(', ')}\n`)
  return round
}

const describe = (id: CaseId, s: Sample): string => `${cases[id].name}: ${Math.round(s.rps)} req/s, p99 ${s.p99} ms, ${s.cpuMicrosPerRequest.toFixed(1)} µs CPU/request`
const results: Array<Record<CaseId, Sample>> = []
if (values.together) for (let round = 0; round < rounds; round++) results.push(await measureTogether())
else results.push(...await pairedRounds(ids, rounds, measure, describe))
await Promise.all([...live.values()].map(stopServer))
const placement = `${pinning === undefined ? 'unpinned' : `generator on CPU ${pinning.generatorCpu}, servers on CPU ${pinning.serverCpu}`}, ${liveRounds === 0 ? 'a fresh server per window' : `servers kept for ${liveRounds} rounds`}${values.together ? ', the cases loaded together' : ''}${semiSpaceMb === 0 ? '' : `, young generation fixed at ${semiSpaceMb} MB`}`
/** `shared`: also a row with --together (CPU per request between the GET /hello cases). */
type Ratio = readonly [label: string, ratio: (round: Record<CaseId, Sample>) => number, shared?: 'shared']
const ratios: Ratio[] = [
  ['throughput: plugin / bare Fastify, GET /hello', (s) => s.plugin.rps / s.bare.rps],
  ['throughput: plugin / close-with-grace recipe, GET /hello', (s) => s.plugin.rps / s.recipe.rps],
  ['throughput: close-with-grace recipe / bare Fastify, GET /hello', (s) => s.recipe.rps / s.bare.rps],
  ['throughput: GET /ready / GET /bare (plugin app)', (s) => s.ready.rps / s.pluginBare.rps],
  ['p99 latency: plugin / bare Fastify, GET /hello', (s) => s.plugin.p99 / s.bare.p99],
  ['server CPU per request: plugin / bare Fastify, GET /hello', (s) => s.plugin.cpuMicrosPerRequest / s.bare.cpuMicrosPerRequest, 'shared'],
  ['server CPU per request: plugin / close-with-grace recipe, GET /hello', (s) => s.plugin.cpuMicrosPerRequest / s.recipe.cpuMicrosPerRequest, 'shared'],
  ['server CPU per request: close-with-grace recipe / bare Fastify, GET /hello (the noise floor: same request path)', (s) => s.recipe.cpuMicrosPerRequest / s.bare.cpuMicrosPerRequest, 'shared'],
  ['server CPU per request: plugin / plugin with connectionMaxAgeMs 0, GET /hello', (s) => s.plugin.cpuMicrosPerRequest / s.pluginNoAge.cpuMicrosPerRequest, 'shared'],
  ['server CPU per request: plugin with connectionMaxAgeMs 0 / bare Fastify, GET /hello', (s) => s.pluginNoAge.cpuMicrosPerRequest / s.bare.cpuMicrosPerRequest, 'shared'],
  ['server CPU per request: GET /ready / GET /bare (plugin app)', (s) => s.ready.cpuMicrosPerRequest / s.pluginBare.cpuMicrosPerRequest]
]
process.stdout.write(ratioTable(`autocannon, ${connections} connections, ${duration} s per case, ${rounds} rounds, ${placement}, Node ${process.version}`, results,
  ratios.filter(([, , shared]) => !values.together || shared === 'shared').map(([label, ratio]) => [label, ratio] as const)))
