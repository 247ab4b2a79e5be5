// A server for bench/overhead.ts, one process per case so they never share a
// heap or a JIT: BENCH_MODE=bare is plain Fastify; recipe is the usual recipe
// (Fastify + close-with-grace, as in examples/baseline); plugin is the same app
// with fastify-zero-downtime registered (probes, drain tracking, load
// shedding). All answer GET /hello and GET /bare.
import Fastify from 'fastify'
import closeWithGrace from 'close-with-grace'
import zeroDowntime from '../src/index.js'

const mode = process.env.BENCH_MODE
const app = Fastify({ logger: false })
if (mode === 'plugin') await app.register(zeroDowntime)
app.get('/hello', async () => ({ hello: 'world' }))
app.get('/bare', async () => 'ok')
await app.listen({ port: 0, host: '127.0.0.1' })
if (mode === 'recipe') closeWithGrace({ delay: 10_000 }, async () => { await app.close() })
process.send?.({ port: (app.server.address() as { port: number }).port })
// CPU time spent by this server process, asked for before and after the
// measured run: CPU per request does not depend on how the machine scheduled
// the load generator, so it is less sensitive than req/s to a shared machine.
process.on('message', (m) => {
  if (m === 'cpu') {
    const { user, system } = process.cpuUsage()
    process.send?.({ cpuMicros: user + system })
  }
})
// The benchmark ends each case with SIGTERM; how a server drains is measured
// by `npm run rollout`, not here.
process.on('SIGTERM', () => { process.exit(0) })
