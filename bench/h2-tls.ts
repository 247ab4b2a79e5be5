// What the drain's TLS transport costs h2 over TLS (see
// src/drain/http2-transport.ts), measured side by side in one run: bare
// Fastify with `http2: true, https`, the same app with only the transport put
// under its sessions, the same app with the whole plugin, and with the plugin
// but `drain.http2TlsTransport: false`. A gRPC-style
// closed loop drives each: a few sessions, many concurrent streams each (Node's
// http2 client; autocannon speaks HTTP/1.1 only). As in overhead.ts each round
// runs every case once in a rotated order, ratios are paired within a round,
// and the medians with their range are printed (record them in
// docs/benchmarks.md).
//   npm run bench:h2 [-- --duration 5 --rounds 5 --sessions 4 --streams 32]
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import http2 from 'node:http2'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { duration: { type: 'string', default: '5' }, rounds: { type: 'string', default: '5' }, sessions: { type: 'string', default: '4' }, streams: { type: 'string', default: '32' } } })
const duration = Number(values.duration)
const rounds = Number(values.rounds)
const sessions = Number(values.sessions)
const streams = Number(values.streams)
for (const [name, v] of Object.entries({ duration, rounds, sessions, streams })) {
  if (!Number.isInteger(v) || v <= 0) throw new TypeError(`--${name} must be a positive whole number`)
}

// A throwaway self-signed certificate for 127.0.0.1.
const dir = mkdtempSync(join(tmpdir(), 'fzd-bench-h2-'))
const key = join(dir, 'key.pem')
const cert = join(dir, 'cert.pem')
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' })
process.on('exit', () => { rmSync(dir, { recursive: true, force: true }) })

async function start (mode: string): Promise<{ child: ChildProcess, port: number }> {
  const child = fork(new URL('./server.ts', import.meta.url).pathname, { execArgv: ['--import', 'tsx'], env: { ...process.env, BENCH_MODE: mode, BENCH_TLS_KEY: key, BENCH_TLS_CERT: cert } })
  const [msg] = await once(child, 'message') as [{ port: number }]
  return { child, port: msg.port }
}

async function serverCpuMicros (child: ChildProcess): Promise<number> {
  const reply = once(child, 'message') as Promise<[{ cpuMicros: number }]>
  child.send('cpu')
  return (await reply)[0].cpuMicros
}

/** `sessions` × `streams` GET /hello in a closed loop for `seconds`; returns streams answered 200, throws on any other outcome. */
async function load (port: number, seconds: number): Promise<number> {
  const until = Date.now() + seconds * 1000
  let ok = 0
  await Promise.all(Array.from({ length: sessions }, async () => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false })
    await once(session, 'connect')
    await Promise.all(Array.from({ length: streams }, async () => {
      while (Date.now() < until) {
        await new Promise<void>((resolve, reject) => {
          const req = session.request({ ':path': '/hello' })
          req.on('response', (h) => { if (h[':status'] !== 200) reject(new Error(`status ${String(h[':status'])}`)) })
          req.on('error', reject)
          req.resume()
          req.on('end', () => { ok++; resolve() })
        })
      }
    }))
    session.close()
  }))
  return ok
}

interface Sample { rps: number, cpuMicrosPerRequest: number }
const cases = {
  bare: { name: 'bare Fastify, h2 over TLS', mode: 'h2tls-bare' },
  transport: { name: 'Fastify + the TLS transport alone, h2 over TLS', mode: 'h2tls-transport' },
  plugin: { name: 'Fastify + plugin, h2 over TLS', mode: 'h2tls-plugin' },
  pluginNative: { name: 'Fastify + plugin, drain.http2TlsTransport: false, h2 over TLS', mode: 'h2tls-plugin-native' }
} as const
type CaseId = keyof typeof cases
const ids = Object.keys(cases) as CaseId[]

async function measure (id: CaseId): Promise<Sample> {
  const { child, port } = await start(cases[id].mode)
  try {
    await load(port, 1) // JIT warm-up
    const cpuBefore = await serverCpuMicros(child)
    const started = Date.now()
    const total = await load(port, duration)
    const elapsed = (Date.now() - started) / 1000
    const cpu = await serverCpuMicros(child) - cpuBefore
    return { rps: total / elapsed, cpuMicrosPerRequest: cpu / total }
  } finally {
    child.kill('SIGTERM')
    await once(child, 'exit')
  }
}

const ratios = { transport: [] as number[], plugin: [] as number[], pluginNative: [] as number[], pluginVsNative: [] as number[], cpuTransport: [] as number[], cpuPlugin: [] as number[], cpuPluginNative: [] as number[], cpuPluginVsNative: [] as number[] }
for (let round = 0; round < rounds; round++) {
  const s = {} as Record<CaseId, Sample>
  for (let i = 0; i < ids.length; i++) {
    const id = ids[(i + round) % ids.length] as CaseId
    s[id] = await measure(id)
    process.stderr.write(`round ${round + 1} ${cases[id].name}: ${Math.round(s[id].rps)} req/s, ${s[id].cpuMicrosPerRequest.toFixed(1)} µs CPU/request\n`)
  }
  ratios.transport.push(s.transport.rps / s.bare.rps)
  ratios.plugin.push(s.plugin.rps / s.bare.rps)
  ratios.cpuTransport.push(s.transport.cpuMicrosPerRequest / s.bare.cpuMicrosPerRequest)
  ratios.cpuPlugin.push(s.plugin.cpuMicrosPerRequest / s.bare.cpuMicrosPerRequest)
  ratios.pluginNative.push(s.pluginNative.rps / s.bare.rps)
  ratios.pluginVsNative.push(s.plugin.rps / s.pluginNative.rps)
  ratios.cpuPluginNative.push(s.pluginNative.cpuMicrosPerRequest / s.bare.cpuMicrosPerRequest)
  ratios.cpuPluginVsNative.push(s.plugin.cpuMicrosPerRequest / s.pluginNative.cpuMicrosPerRequest)
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
const row = (label: string, xs: number[]): string =>
  `| ${label} | ${median(xs).toFixed(3)} | ${Math.min(...xs).toFixed(3)} – ${Math.max(...xs).toFixed(3)} |`
process.stdout.write([
  `h2 over TLS, ${sessions} sessions × ${streams} concurrent streams, ${duration} s per case, ${rounds} rounds, Node ${process.version}`,
  '',
  '| ratio (paired within each round) | median | range |',
  '|---|---|---|',
  row('throughput: TLS transport alone / bare Fastify', ratios.transport),
  row('throughput: plugin / bare Fastify', ratios.plugin),
  row('throughput: plugin, http2TlsTransport false / bare Fastify', ratios.pluginNative),
  row('throughput: plugin / plugin with http2TlsTransport false', ratios.pluginVsNative),
  row('server CPU per request: TLS transport alone / bare Fastify', ratios.cpuTransport),
  row('server CPU per request: plugin / bare Fastify', ratios.cpuPlugin),
  row('server CPU per request: plugin, http2TlsTransport false / bare Fastify', ratios.cpuPluginNative),
  row('server CPU per request: plugin / plugin with http2TlsTransport false', ratios.cpuPluginVsNative),
  ''
].join('\n'))
