// A Redis that hangs (blackholed by a fault-injecting proxy) or is not there
// yet never gets a pile of PINGs: one call of the check at a time, reported
// still running while it hangs, and none parked in ioredis' offline queue
// while the client connects. Real Redis (a throwaway one), real proxy.
import t from 'tap'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import zeroDowntime, { redisCheck, type CheckSpec } from '../src/index.js'
import { startThrowawayRedis } from './helpers/servers.js'
import { startTcpProxy } from './helpers/tcp-proxy.js'
import { nextResult, probe, recordUnhandledRejections } from './helpers/probe.js'
import { until } from './helpers/wait.js'

const unhandled = recordUnhandledRejections()

/** ioredis keeps both queues on the client; they are not in its types. */
function queues (redis: Redis): { sent: number, offline: number } {
  const r = redis as unknown as { commandQueue: { length: number }, offlineQueue: { length: number } }
  return { sent: r.commandQueue.length, offline: r.offlineQueue.length }
}

function watched (spec: CheckSpec): { spec: CheckSpec, calls: () => number, maxInFlight: () => number } {
  let calls = 0
  let inFlight = 0
  let maxInFlight = 0
  return {
    spec: {
      ...spec,
      check: async (ctx) => {
        calls++
        maxInFlight = Math.max(maxInFlight, ++inFlight)
        try { return await spec.check(ctx) } finally { inFlight-- }
      }
    },
    calls: () => calls,
    maxInFlight: () => maxInFlight
  }
}

t.test('hung Redis: one PING in flight, reported still running; recovery after restore', async (t) => {
  const server = await startThrowawayRedis()
  t.teardown(server.close)
  const proxy = await startTcpProxy(server.port)
  t.teardown(proxy.close)
  const redis = new Redis(`redis://127.0.0.1:${proxy.port}`, { retryStrategy: () => 50 })
  redis.on('error', () => {})
  t.teardown(() => { redis.disconnect() })
  const check = watched(redisCheck(redis))
  const app = Fastify()
  await app.register(zeroDowntime, { checks: { cache: check.spec }, checkIntervalMs: 50, checkTimeoutMs: 200, pressure: false })
  const up = nextResult(app, 'cache', 'pass')
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  await up

  proxy.hang()
  let maxSent = 0
  const stillRunning = new Set<string>()
  await until(() => {
    maxSent = Math.max(maxSent, queues(redis).sent)
    const result = app.zeroDowntime.checks[0]
    if (/^still running after \d+ ms/.test(result?.output ?? '')) stillRunning.add(result?.time ?? '')
    return stillRunning.size >= 5
  }, 'five runs reported the hung PING still running', { intervalMs: 5 })
  t.equal(check.maxInFlight(), 1, 'one call of the check at a time')
  t.equal(maxSent, 1, 'one PING waiting for a reply')
  t.equal((await probe(app, '/ready')).status, 503)

  const passed = nextResult(app, 'cache', 'pass')
  proxy.restore()
  await passed
  t.equal(check.maxInFlight(), 1)
})

t.test('Redis not up yet: the check waits for the connection, nothing in the offline queue', async (t) => {
  const server = await startThrowawayRedis()
  t.teardown(server.close)
  await server.stop()
  const redis = new Redis(server.url, { retryStrategy: () => 50 })
  redis.on('error', () => {})
  t.teardown(() => { redis.disconnect() })
  const check = watched(redisCheck(redis))
  const app = Fastify()
  await app.register(zeroDowntime, { checks: { cache: check.spec }, checkIntervalMs: 20, checkTimeoutMs: 200, pressure: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })

  let maxOffline = 0
  await until(() => {
    maxOffline = Math.max(maxOffline, queues(redis).offline)
    return check.calls() >= 10
  }, 'ten runs while Redis is down', { intervalMs: 2 })
  t.equal(maxOffline, 0, 'no PING parked in the offline queue')
  t.equal((await probe(app, '/ready')).status, 503)
  t.equal(check.maxInFlight(), 1)

  const passed = nextResult(app, 'cache', 'pass')
  await server.start()
  await passed
  t.equal(maxOffline, 0)
})

t.test('no unhandled rejections', async (t) => {
  t.same(unhandled, [])
})
