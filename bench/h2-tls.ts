// What the drain's TLS transport costs h2 over TLS (see
// src/drain/http2-transport.ts), measured side by side in one run: bare
// Fastify with `http2: true, https`, the same app with only the transport put
// under its sessions, the same app with the whole plugin, and with the plugin
// but `drain.http2TlsTransport: false`. A gRPC-style
// closed loop drives each: a few sessions, many concurrent streams each (Node's
// http2 client; autocannon speaks HTTP/1.1 only). As in overhead.ts each round
// runs every case once in a rotated order (paired.ts), ratios are paired within a round,
// and the medians with their range are printed (record them in
// docs/benchmarks.md).
//   npm run bench:h2 [-- --duration 5 --rounds 5 --sessions 4 --streams 32]
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import http2 from 'node:http2'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { pairedRounds, positiveIntegers, ratioTable, serverCpuMicros, startServer, stopServer } from './paired.js'

const { values } = parseArgs({ options: { duration: { type: 'string', default: '5' }, rounds: { type: 'string', default: '5' }, sessions: { type: 'string', default: '4' }, streams: { type: 'string', default: '32' } } })
const { duration, rounds, sessions, streams } = positiveIntegers(values)

// A throwaway self-signed certificate for 127.0.0.1.
const dir = mkdtempSync(join(tmpdir(), 'fzd-bench-h2-'))
const key = join(dir, 'key.pem')
const cert = join(dir, 'cert.pem')
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' })
process.on('exit', () => { rmSync(dir, { recursive: true, force: true }) })

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
  const server = await startServer(cases[id].mode, { BENCH_TLS_KEY: key, BENCH_TLS_CERT: cert })
  try {
    await load(server.port, 1) // JIT warm-up
    const cpuBefore = await serverCpuMicros(server)
    const started = Date.now()
    const total = await load(server.port, duration)
    const elapsed = (Date.now() - started) / 1000
    const cpu = await serverCpuMicros(server) - cpuBefore
    return { rps: total / elapsed, cpuMicrosPerRequest: cpu / total }
  } finally {
    await stopServer(server)
  }
}

const results = await pairedRounds(ids, rounds, measure, (id, s) =>
  `${cases[id].name}: ${Math.round(s.rps)} req/s, ${s.cpuMicrosPerRequest.toFixed(1)} µs CPU/request`)
const rps = (s: Sample): number => s.rps
const cpu = (s: Sample): number => s.cpuMicrosPerRequest
process.stdout.write(ratioTable(`h2 over TLS, ${sessions} sessions × ${streams} concurrent streams, ${duration} s per case, ${rounds} rounds, Node ${process.version}`, results, [
  ['throughput: TLS transport alone / bare Fastify', (s) => rps(s.transport) / rps(s.bare)],
  ['throughput: plugin / bare Fastify', (s) => rps(s.plugin) / rps(s.bare)],
  ['throughput: plugin, http2TlsTransport false / bare Fastify', (s) => rps(s.pluginNative) / rps(s.bare)],
  ['throughput: plugin / plugin with http2TlsTransport false', (s) => rps(s.plugin) / rps(s.pluginNative)],
  ['server CPU per request: TLS transport alone / bare Fastify', (s) => cpu(s.transport) / cpu(s.bare)],
  ['server CPU per request: plugin / bare Fastify', (s) => cpu(s.plugin) / cpu(s.bare)],
  ['server CPU per request: plugin, http2TlsTransport false / bare Fastify', (s) => cpu(s.pluginNative) / cpu(s.bare)],
  ['server CPU per request: plugin / plugin with http2TlsTransport false', (s) => cpu(s.plugin) / cpu(s.pluginNative)]
]))
