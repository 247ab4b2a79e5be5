// Password-bearing connection strings for Postgres, Redis and RabbitMQ never
// leave the process through the plugin: not in probe bodies (even the full
// detail a trusted caller gets), not in the check runner's logs, not in
// metrics, whatever the error: real authentication failures from the shared
// servers, a closed port, a server that hangs up, and checks that quote the
// URL themselves. And a probe flood cannot make a check run more often.
import net from 'node:net'
import { once } from 'node:events'
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import pg from 'pg'
import { Redis } from 'ioredis'
import amqp from 'amqplib'
import { Registry } from 'prom-client'
import zeroDowntime, { pgCheck, redisCheck, type CheckFunction, type CheckSpec } from '../src/index.js'
import { freePort, hostPort, sharedUrls } from './helpers/servers.js'
import { recordUnhandledRejections } from './helpers/probe.js'

const unhandled = recordUnhandledRejections()

const PASSWORDS = { pg: 'Pg-s3cret-4f9a', redis: 'Redis-s3cret-7b21', amqp: 'Amqp-s3cret-c03e' } as const

/** A listener that accepts and hangs up at once: the client gets a real "connection closed" error. */
async function hangUpServer (t: Test): Promise<number> {
  const server = net.createServer((socket) => { socket.destroy() })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  return (server.address() as net.AddressInfo).port
}

function withCredentials (scheme: string, user: string, password: string, port: number, path = ''): string {
  return `${scheme}://${user}:${password}@127.0.0.1:${port}${path}`
}

const pgRun = (url: string): CheckFunction => async () => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('SELECT 1')
  } finally {
    await client.end().catch(() => {})
  }
}

const redisRun = (url: string): CheckFunction => async () => {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, connectTimeout: 2000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.ping()
  } finally {
    client.disconnect()
  }
}

const amqpRun = (url: string): CheckFunction => async () => {
  const connection = await amqp.connect(url, { timeout: 2000 })
  connection.on('error', () => {})
  await connection.close()
}

/** The error as a driver gives it, and as an app that quotes its URL would rethrow it. */
function variants (name: string, url: string, run: (url: string) => CheckFunction): Record<string, CheckFunction | CheckSpec> {
  return {
    [name]: run(url),
    [`${name}-quoted`]: async (ctx) => {
      try {
        await run(url)(ctx)
      } catch (err) {
        throw new Error(`could not reach ${url}: ${String(err)}`, { cause: err })
      }
    },
    [`${name}-output`]: async (ctx) => {
      try {
        await run(url)(ctx)
        return undefined
      } catch {
        return { status: 'fail', output: `connection string ${url} (password ${JSON.stringify(decodeURIComponent(new URL(url).password))} rejected)` }
      }
    }
  }
}

t.test('no password reaches probe bodies, runner logs or metrics, whatever the error', async (t) => {
  const closed = await freePort()
  const hangUp = await hangUpServer(t)
  const pgPort = hostPort(sharedUrls.database).port
  const redisPort = hostPort(sharedUrls.redis).port
  const amqpPort = hostPort(sharedUrls.amqp).port
  const pgUrls = {
    'pg-auth': withCredentials('postgres', 'no_such_role', PASSWORDS.pg, pgPort, '/postgres'),
    'pg-closed': withCredentials('postgres', 'app', PASSWORDS.pg, closed, '/postgres'),
    'pg-hangup': withCredentials('postgres', 'app', PASSWORDS.pg, hangUp, '/postgres')
  }
  const redisUrls = {
    'redis-auth': withCredentials('redis', 'no_such_user', PASSWORDS.redis, redisPort),
    'redis-closed': withCredentials('redis', 'app', PASSWORDS.redis, closed),
    'redis-hangup': withCredentials('redis', 'app', PASSWORDS.redis, hangUp)
  }
  const amqpUrls = {
    'amqp-auth': withCredentials('amqp', 'guest', PASSWORDS.amqp, amqpPort),
    'amqp-closed': withCredentials('amqp', 'guest', PASSWORDS.amqp, closed),
    'amqp-hangup': withCredentials('amqp', 'guest', PASSWORDS.amqp, hangUp)
  }
  // The built-in checks too, on clients made from the same URLs.
  const pool = new pg.Pool({ connectionString: pgUrls['pg-auth'], connectionTimeoutMillis: 2000 })
  pool.on('error', () => {})
  const redis = new Redis(redisUrls['redis-auth'], { maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 })
  redis.on('error', () => {})
  t.teardown(async () => { await pool.end(); redis.disconnect() })

  const checks: Record<string, CheckFunction | CheckSpec> = { 'pg-builtin': pgCheck(pool), 'redis-builtin': redisCheck(redis) }
  for (const [name, url] of Object.entries(pgUrls)) Object.assign(checks, variants(name, url, pgRun))
  for (const [name, url] of Object.entries(redisUrls)) Object.assign(checks, variants(name, url, redisRun))
  for (const [name, url] of Object.entries(amqpUrls)) Object.assign(checks, variants(name, url, amqpRun))

  const logs: string[] = []
  const registry = new Registry()
  const app = Fastify({ logger: { level: 'trace', stream: { write: (line: string) => { logs.push(line) } } } })
  // One run each (the interval is far away): every result is a real error.
  await app.register(zeroDowntime, { checks, checkTimeoutMs: 5000, checkIntervalMs: 600_000, pressure: false, metrics: { registry }, startup: 'manual' })
  await app.ready()
  t.teardown(async () => { await app.close() })
  app.zeroDowntime.started()

  const names = Object.keys(checks)
  for (const result of app.zeroDowntime.checks) {
    t.equal(result.status, 'fail', `${result.name} failed for real: ${String(result.output)}`)
    t.notMatch(String(result.output), /timed out/, `${result.name}: a real error, not the timeout`)
  }
  // Trusted (loopback) callers get everything there is: the worst case.
  const bodies: string[] = []
  for (const url of ['/ready?verbose', '/readyz?verbose', '/health?verbose', '/startup?verbose', ...names.map((n) => `/ready/${n}?verbose`)]) {
    const res = await app.inject(url)
    bodies.push(res.body)
  }
  t.match(bodies[0], /pg-auth/, 'the detail is there')
  const metrics = await registry.metrics()
  t.match(metrics, /zero_downtime_check_up\{check="amqp-hangup"\} 0/)
  const runnerLogs = logs.filter((l) => /health check/.test(l))
  t.equal(runnerLogs.length, names.length, 'the runner logged every failure')

  for (const [where, text] of [['probe bodies', bodies.join('\n')], ['runner logs', runnerLogs.join('\n')], ['all logs', logs.join('\n')], ['metrics', metrics]] as const) {
    for (const [dependency, password] of Object.entries(PASSWORDS)) {
      t.notOk(text.includes(password), `${where}: no ${dependency} password`)
      t.notOk(text.includes(encodeURIComponent(password)), `${where}: no ${dependency} password, URL-encoded`)
    }
    t.notMatch(text, /(postgres|redis|amqp):\/\/[^[\s]/, `${where}: no connection string`)
  }
  t.same(unhandled, [])
})

t.test('a probe flood cannot make a check run more often than its interval', async (t) => {
  let runs = 0
  let release!: () => void
  const held: { promise?: Promise<void> } = {}
  const app: FastifyInstance = Fastify()
  await app.register(zeroDowntime, {
    pressure: false,
    checkIntervalMs: 600_000,
    checks: { db: async () => { runs++; await held.promise } }
  })
  await app.ready()
  t.teardown(async () => { release?.(); await app.close() })
  app.zeroDowntime.started()
  t.equal(runs, 1, 'the first run, at startup')
  const flood = async (): Promise<void> => {
    const urls = ['/ready', '/ready?verbose', '/readyz', '/ready/db', '/health', '/startup', '/ready?exclude=db']
    const replies = await Promise.all(Array.from({ length: 700 }, async (_, i) => await app.inject({ url: urls[i % urls.length]!, remoteAddress: i % 2 === 0 ? '127.0.0.1' : '10.0.0.9' })))
    t.ok(replies.every((r) => r.statusCode === 200), 'every probe answered from the cache')
  }
  await flood()
  t.equal(runs, 1, 'no run started by 700 concurrent probes')
  // Nor while a run hangs: still answered from the cache, still no second run.
  held.promise = new Promise<void>((resolve) => { release = resolve })
  await flood()
  t.equal(runs, 1)
})
