// A server for bench/overhead.ts: BENCH_MODE=bare is plain Fastify, plugin is
// the same app with fastify-zero-downtime registered (probes, drain, load
// shedding). Both answer GET /hello and GET /bare.
import Fastify from 'fastify'
import zeroDowntime from '../src/index.js'

const app = Fastify({ logger: false })
if (process.env.BENCH_MODE === 'plugin') await app.register(zeroDowntime)
app.get('/hello', async () => ({ hello: 'world' }))
app.get('/bare', async () => 'ok')
await app.listen({ port: 0, host: '127.0.0.1' })
if (process.env.BENCH_MODE === 'plugin') app.zeroDowntime.started()
process.send?.({ port: (app.server.address() as { port: number }).port })
process.on('SIGTERM', () => { process.exit(0) })
