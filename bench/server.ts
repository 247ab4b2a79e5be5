// A server for bench/overhead.ts, one process per case so they never share a
// heap or a JIT: BENCH_MODE=bare is plain Fastify; recipe is the usual recipe
// (Fastify + close-with-grace, as in kit/src/baseline/server.ts); plugin is the same app
// with fastify-zero-downtime registered (probes, drain tracking, load
// shedding, connection max age), and plugin-no-age the same with
// `connectionMaxAgeMs: 0`. All answer GET /hello and GET /bare.
// bench/h2-tls.ts uses the h2tls-* modes: the same over h2 with TLS, with
// h2tls-transport putting only the drain's TLS transport under each session
// and h2tls-plugin-native the plugin with `drain.http2TlsTransport: false`.
// bench/max-age.ts uses the age-* modes: the plugin with
// `connectionMaxAgeMs: BENCH_MAX_AGE_MS`, over HTTP/1.1 (age-h1), HTTPS
// (age-h1tls) or h2 over TLS (age-h2tls); GET /who answers the pid.
import { readFileSync } from 'node:fs'
import type { Http2Session } from 'node:http2'
import type { Server as TlsServer } from 'node:tls'
import Fastify, { type FastifyInstance } from 'fastify'
import closeWithGrace from 'close-with-grace'
import zeroDowntime from '../src/index.js'
import { interposeTlsTransport } from '../src/drain/http2-transport.js'

const mode = process.env.BENCH_MODE ?? ''
const h2tls = mode.startsWith('h2tls-') || mode === 'age-h2tls'
const tls = (): { key: Buffer, cert: Buffer } => ({ key: readFileSync(process.env.BENCH_TLS_KEY!), cert: readFileSync(process.env.BENCH_TLS_CERT!) })
// Typed as the HTTP/1.1 app: both register the same routes.
const app = (h2tls
  ? Fastify({ logger: false, http2: true, https: tls() })
  : mode === 'age-h1tls' ? Fastify({ logger: false, https: tls() }) : Fastify({ logger: false })) as unknown as FastifyInstance
if (mode === 'plugin' || mode === 'h2tls-plugin') await app.register(zeroDowntime)
if (mode === 'plugin-no-age') await app.register(zeroDowntime, { connectionMaxAgeMs: 0 })
if (mode === 'h2tls-plugin-native') await app.register(zeroDowntime, { drain: { http2TlsTransport: false } })
// Without load shedding: a saturated server's 503s are not what is measured here.
if (mode.startsWith('age-')) await app.register(zeroDowntime, { connectionMaxAgeMs: Number(process.env.BENCH_MAX_AGE_MS), pressure: false })
if (mode === 'h2tls-transport') {
  // Each transport adopts its session as the drain's tracker does.
  let pending: Parameters<Parameters<typeof interposeTlsTransport>[1]>[0] | undefined
  interposeTlsTransport(app.server as unknown as TlsServer, (t) => { pending = t })
  app.server.on('session', (session: Http2Session) => { pending?.adopt(session); pending = undefined })
}
app.get('/hello', async () => ({ hello: 'world' }))
app.get('/bare', async () => 'ok')
app.get('/who', async () => String(process.pid))
// Connections accepted (TLS or not): how many reconnects a case caused.
let connections = 0
app.server.on('connection', () => { connections++ })
await app.listen({ port: 0, host: '127.0.0.1' })
if (mode === 'recipe') closeWithGrace({ delay: 10_000 }, async () => { await app.close() })
process.send?.({ port: (app.server.address() as { port: number }).port })
// CPU time spent by this server process, asked for before and after the
// measured run: CPU per request does not depend on how the machine scheduled
// the load generator, so it is less sensitive than req/s to a shared machine.
process.on('message', (m) => {
  if (m === 'cpu') {
    const { user, system } = process.cpuUsage()
    process.send?.({ cpuMicros: user + system, connections })
  }
})
// The benchmark ends each case with SIGTERM; how a server drains is measured
// by `npm run rollout`, not here.
process.on('SIGTERM', () => { process.exit(0) })
