/**
 * The usual recipe, kept as the load-test kit's baseline: plain Fastify with
 * close-with-grace, the same routes as examples/service. On SIGTERM it calls
 * `app.close()` at once — no delay for endpoint propagation, readiness does not
 * fail first, idle keep-alive sockets are closed while clients may be sending,
 * and requests arriving during close get 503. `npm run rollout` shows what that
 * costs next to the example service.
 */
import Fastify, { type FastifyServerOptions } from 'fastify'
import closeWithGrace from 'close-with-grace'

const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST ?? '0.0.0.0'
const version = process.env.VERSION ?? 'dev'

// HTTP2=1: h2c (prior knowledge), the baseline of `rollout --protocol h2`.
const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' }, ...(process.env.HTTP2 === '1' ? { http2: true } : {}) } as FastifyServerOptions)

app.get('/', async () => ({ hello: 'world', version }))
app.get('/ready', async () => ({ status: 'ok' }))
app.get('/health', async () => ({ status: 'ok' }))
app.get<{ Querystring: { ms?: string } }>('/slow', async (req) => {
  const ms = Math.min(Math.max(Number(req.query.ms ?? 1000) || 0, 0), 30_000)
  await new Promise((resolve) => setTimeout(resolve, ms))
  return { waited: ms, version }
})
app.post('/echo', async (req) => req.body)
app.get('/events', (req, reply) => {
  reply.hijack()
  reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  let n = 0
  const tick = setInterval(() => { reply.raw.write(`data: ${JSON.stringify({ n: n++, version })}\n\n`) }, 500)
  req.raw.on('close', () => { clearInterval(tick) })
})

closeWithGrace({ delay: 10_000 }, async ({ err }) => {
  if (err !== undefined) app.log.error(err)
  await app.close()
})

await app.listen({ port, host })
