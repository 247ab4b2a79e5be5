/**
 * A small realistic service with fastify-zero-downtime: a hello route, a slow
 * route, a POST, a Server-Sent Events stream, an item route backed by
 * Postgres with a Redis cache, and an order route publishing to RabbitMQ.
 * Every dependency is optional: without its URL it is neither created nor
 * checked, and its routes answer 501, so the service runs on a bare machine.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import pg from 'pg'
import { Redis } from 'ioredis'
import zeroDowntime, { amqpCheck, endEventStream, pgCheck, redisCheck, type CheckSpec, type ZeroDowntimeOptions } from 'fastify-zero-downtime'
import { connectBroker } from './amqp.js'

/** Longest wait /slow accepts: below the drain's default request timeout (10 s). */
export const SLOW_MAX_MS = 9000
const TICK_MS = 500
const CACHE_SECONDS = 30

function seconds (env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name]
  return raw === undefined || raw.trim() === '' ? undefined : Number(raw) * 1000
}

export async function buildApp (env: NodeJS.ProcessEnv = process.env, serverOptions: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: env.LOG_LEVEL ?? 'info' }, ...serverOptions })
  const checks: Record<string, CheckSpec> = {}

  let pool: pg.Pool | undefined
  if (env.DATABASE_URL !== undefined && env.DATABASE_URL !== '') {
    pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 10, connectionTimeoutMillis: 2000, idleTimeoutMillis: 10_000 })
    // An idle client whose server went away emits 'error' on the pool: log it, don't crash.
    pool.on('error', (err) => { app.log.warn({ err: err.message }, 'idle Postgres client failed') })
    checks.db = pgCheck(pool)
  }

  let redis: Redis | undefined
  if (env.REDIS_URL !== undefined && env.REDIS_URL !== '') {
    redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: true })
    redis.on('error', (err: Error) => { app.log.warn({ err: err.message }, 'Redis connection error') })
    // The cache is an optimisation: when it is down, items come from Postgres; readiness only warns.
    checks.cache = redisCheck(redis, { critical: false })
  }

  const broker = env.AMQP_URL !== undefined && env.AMQP_URL !== '' ? connectBroker(env.AMQP_URL, app.log) : undefined
  if (broker !== undefined) {
    await broker.firstAttempt
    checks.mq = amqpCheck(broker.current)
  }

  const drain: NonNullable<ZeroDowntimeOptions['drain']> = {}
  const gracePeriodMs = seconds(env, 'TERMINATION_GRACE_PERIOD_SECONDS')
  const preStopSleepMs = seconds(env, 'PRESTOP_SLEEP_SECONDS')
  if (gracePeriodMs !== undefined) drain.gracePeriodMs = gracePeriodMs
  if (preStopSleepMs !== undefined) drain.preStopSleepMs = preStopSleepMs

  await app.register(zeroDowntime, { checks, drain })

  // Closed after HTTP has drained: a request still in flight may need them until it ends.
  if (pool !== undefined) { const p = pool; app.zeroDowntime.addCleanup('databases', 'postgres', async () => { await p.end() }) }
  if (redis !== undefined) { const r = redis; app.zeroDowntime.addCleanup('caches', 'redis', async () => { await r.quit() }) }
  if (broker !== undefined) app.zeroDowntime.addCleanup('brokers', 'rabbitmq', broker.close)

  const version = env.VERSION ?? 'dev'

  app.get('/', async () => ({ hello: 'world', version, pid: process.pid }))

  app.get<{ Querystring: { ms?: number } }>('/slow', {
    schema: { querystring: { type: 'object', properties: { ms: { type: 'integer', minimum: 0 } } } }
  }, async (request) => {
    const ms = Math.min(request.query.ms ?? 1000, SLOW_MAX_MS)
    await new Promise((resolve) => { setTimeout(resolve, ms) })
    return { waitedMs: ms, version }
  })

  app.post('/echo', async (request) => ({ echo: request.body ?? null, version }))

  app.get('/events', (request, reply) => {
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' })
    let n = 0
    const tick = setInterval(() => { res.write(`event: tick\ndata: ${JSON.stringify({ n: n++, version })}\n\n`) }, TICK_MS)
    // At drain start: tell the client to reconnect (it lands on another pod) and end the stream.
    const unregister = app.zeroDowntime.onGoAway(() => {
      clearInterval(tick)
      endEventStream(res, { retryMs: 1000 })
    })
    request.raw.on('close', () => {
      clearInterval(tick)
      if (typeof unregister === 'function') unregister()
    })
    res.write(`event: hello\ndata: ${JSON.stringify({ version })}\n\n`)
  })

  app.get<{ Params: { id: number } }>('/items/:id', {
    schema: { params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] } }
  }, async (request, reply) => {
    if (pool === undefined) return await reply.code(501).send({ error: 'Not Implemented', message: 'DATABASE_URL is not set' })
    const key = `item:${request.params.id}`
    const cached = await redis?.get(key).catch(() => null)
    if (cached !== undefined && cached !== null) return { ...JSON.parse(cached) as object, source: 'cache' }
    const { rows } = await pool.query<{ id: number, name: string }>('SELECT $1::int AS id, md5($1::text) AS name', [request.params.id])
    const item = rows[0]
    await redis?.set(key, JSON.stringify(item), 'EX', CACHE_SECONDS).catch(() => null)
    return { ...item, source: 'database' }
  })

  app.post<{ Body: { item: number, quantity?: number } }>('/orders', {
    schema: { body: { type: 'object', properties: { item: { type: 'integer' }, quantity: { type: 'integer', minimum: 1 } }, required: ['item'] } }
  }, async (request, reply) => {
    if (broker === undefined) return await reply.code(501).send({ error: 'Not Implemented', message: 'AMQP_URL is not set' })
    const order = { id: crypto.randomUUID(), item: request.body.item, quantity: request.body.quantity ?? 1 }
    await broker.publish('orders', order)
    return await reply.code(202).send({ accepted: true, order })
  })

  return app
}
