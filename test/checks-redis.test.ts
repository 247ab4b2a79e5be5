import t, { type Test } from 'tap'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import zeroDowntime, { redisCheck } from '../src/index.js'
import { sharedUrls, startThrowawayRedis } from './helpers/servers.js'
import { startTcpProxy } from './helpers/tcp-proxy.js'
import { countRuns, nextResult, nextResultOfRun, probe, recordUnhandledRejections } from './helpers/probe.js'

const INTERVAL = 150
const TIMEOUT = 400
const unhandled = recordUnhandledRejections()

function client (url: string): Redis {
  // Fast reconnects so recovery shows within a check interval; errors are expected here.
  const redis = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 50, lazyConnect: false })
  redis.on('error', () => {})
  return redis
}

async function serve (t: Test, redis: Redis) {
  const counted = countRuns(redisCheck(redis))
  const app = Fastify()
  await app.register(zeroDowntime, { checks: { cache: counted.spec }, checkIntervalMs: INTERVAL, checkTimeoutMs: TIMEOUT, pressure: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  return { app, runs: counted.runs }
}

/** A fault shows at the first run started after it (within one interval + timeout, counted in runs), then the repair. */
async function cycle (t: Test, { app, runs }: Awaited<ReturnType<typeof serve>>, fault: () => unknown, repair: () => unknown, what: string): Promise<void> {
  const failed = nextResultOfRun(app, 'cache', 'fail', runs)
  await fault()
  // The last of these may still be in flight, and may still pass.
  const startedBefore = runs()
  const { run } = await failed
  t.ok(run <= startedBefore + 1, `${what}: failure seen by the first run started after the fault (run ${run}, ${startedBefore} started before)`)
  const ready = await probe(app, '/readyz')
  t.equal(ready.status, 503, `${what}: readiness 503`)
  t.ok(ready.headers.get('retry-after'), `${what}: Retry-After`)
  t.equal((await probe(app, '/health')).status, 200, `${what}: liveness stays 200`)
  const passed = nextResult(app, 'cache', 'pass')
  await repair()
  await passed
  t.equal((await probe(app, '/readyz')).status, 200, `${what}: readiness recovers`)
}

t.test('shared Redis passes', async (t) => {
  const redis = client(sharedUrls.redis)
  t.teardown(() => { redis.disconnect() })
  const { app } = await serve(t, redis)
  const ready = await probe(app, '/ready/cache?verbose')
  t.equal(ready.status, 200)
  t.equal(ready.body.checks?.['cache:responseTime']?.[0]?.componentType, 'datastore')
})

t.test('throwaway Redis: down at start, killed, stopped; readiness follows, liveness stays', async (t) => {
  const server = await startThrowawayRedis()
  t.teardown(server.close)
  await server.stop()
  const redis = client(server.url)
  t.teardown(() => { redis.disconnect() })
  const served = await serve(t, redis)
  const { app } = served
  const down = await probe(app, '/ready')
  t.equal(down.status, 503, 'down at start: not ready, and no crash')
  t.match(down.body.output, /^cache: /)
  t.equal((await probe(app, '/health')).status, 200)

  const passed = nextResult(app, 'cache', 'pass')
  await server.start()
  await passed
  t.equal((await probe(app, '/ready')).status, 200, 'recovers once Redis is up')

  await cycle(t, served, server.kill, server.start, 'SIGKILL')
  await cycle(t, served, server.stop, server.start, 'SIGTERM')
})

t.test('hung Redis (blackholed by a proxy): PING times out, recovery after restore', async (t) => {
  const server = await startThrowawayRedis()
  t.teardown(server.close)
  const proxy = await startTcpProxy(server.port)
  t.teardown(proxy.close)
  const redis = client(`redis://127.0.0.1:${proxy.port}`)
  t.teardown(() => { redis.disconnect() })
  const served = await serve(t, redis)
  t.equal((await probe(served.app, '/ready')).status, 200)
  await cycle(t, served, proxy.hang, proxy.restore, 'hang')
})

t.test('no unhandled rejections', async (t) => {
  t.same(unhandled, [])
})
