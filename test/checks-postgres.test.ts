import t, { type Test } from 'tap'
import Fastify from 'fastify'
import pg from 'pg'
import zeroDowntime, { pgCheck } from '../src/index.js'
import { sharedUrls, startThrowawayPostgres } from './helpers/servers.js'
import { startProxyFor } from './helpers/tcp-proxy.js'
import { countRuns, nextResult, nextResultOfRun, probe, recordUnhandledRejections } from './helpers/probe.js'

const INTERVAL = 150
const TIMEOUT = 400
const unhandled = recordUnhandledRejections()

async function serve (t: Test, check: ReturnType<typeof pgCheck>) {
  const counted = countRuns(check)
  const app = Fastify()
  await app.register(zeroDowntime, { checks: { db: counted.spec }, checkIntervalMs: INTERVAL, checkTimeoutMs: TIMEOUT, pressure: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  return { app, runs: counted.runs }
}

type Served = Awaited<ReturnType<typeof serve>>

/**
 * Applies a fault and asserts readiness turns 503 at the first run started
 * after the fault (within one interval + timeout, counted in runs rather than
 * in wall-clock milliseconds) while liveness stays 200.
 */
async function expectFailure (t: Test, { app, runs }: Served, fault: () => Promise<void> | void, what: string): Promise<void> {
  const failed = nextResultOfRun(app, 'db', 'fail', runs)
  await fault()
  // The last of these may still be in flight, and may still pass.
  const startedBefore = runs()
  const { result, run } = await failed
  t.ok(run <= startedBefore + 1, `${what}: failure seen by the first run started after the fault (run ${run}, ${startedBefore} started before)`)
  t.notMatch(result.output ?? '', /postgres:\/\/|password/i, `${what}: output does not leak the connection string`)
  const ready = await probe(app, '/ready?verbose')
  t.equal(ready.status, 503, `${what}: readiness 503`)
  t.equal(ready.headers.get('retry-after'), '1', `${what}: Retry-After on 503`)
  t.equal(ready.body.checks?.['db:responseTime']?.[0]?.componentType, 'datastore')
  t.equal((await probe(app, '/health')).status, 200, `${what}: liveness stays 200`)
  t.equal((await probe(app, '/livez')).status, 200, `${what}: /livez stays 200`)
}

async function expectRecovery (t: Test, { app }: Served, repair: () => Promise<void> | void, what: string): Promise<void> {
  const passed = nextResult(app, 'db', 'pass')
  await repair()
  await passed
  t.equal((await probe(app, '/ready')).status, 200, `${what}: readiness recovers`)
}

t.test('shared Postgres: a Pool and a Client pass', async (t) => {
  const pool = new pg.Pool({ connectionString: sharedUrls.database, max: 2 })
  const client = new pg.Client({ connectionString: sharedUrls.database })
  await client.connect()
  t.teardown(async () => { await pool.end(); await client.end() })
  const app = Fastify()
  await app.register(zeroDowntime, { checks: { pool: pgCheck(pool), client: pgCheck(() => client, { critical: false }) }, pressure: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  const ready = await probe(app, '/ready?verbose')
  t.equal(ready.status, 200)
  t.equal(ready.body.status, 'pass')
  t.same(Object.keys(ready.body.checks ?? {}), ['pool:responseTime', 'client:responseTime'])
  t.equal(ready.body.checks?.['pool:responseTime']?.[0]?.observedUnit, 'ms')
})

t.test('throwaway Postgres: down at start, killed, stopped; readiness follows, liveness stays', async (t) => {
  const server = await startThrowawayPostgres(t)
  await server.stop()
  const pool = new pg.Pool({ connectionString: server.url, max: 2, connectionTimeoutMillis: TIMEOUT })
  // Killing the server makes idle pooled clients emit 'error'; an app must listen for it.
  pool.on('error', () => {})
  t.teardown(async () => { await pool.end() })

  const served = await serve(t, pgCheck(pool))
  const { app } = served
  const down = await probe(app, '/ready')
  t.equal(down.status, 503, 'down at start: not ready, and no crash')
  t.match(down.body.output, /^db: /)
  t.equal((await probe(app, '/health')).status, 200, 'down at start: alive')
  t.equal((await probe(app, '/startup')).status, 200, 'started anyway: startup follows liveness')

  await expectRecovery(t, served, server.start, 'started late')
  await expectFailure(t, served, server.kill, 'SIGKILL')
  await expectRecovery(t, served, server.start, 'after SIGKILL')
  await expectFailure(t, served, server.stop, 'fast shutdown')
  await expectRecovery(t, served, server.start, 'after fast shutdown')
})

t.test('hung Postgres (blackholed by a proxy): the check times out, the pool recovers', async (t) => {
  const { proxy, url } = await startProxyFor(sharedUrls.database)
  t.teardown(proxy.close)
  const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: TIMEOUT })
  pool.on('error', () => {})
  t.teardown(async () => { await pool.end() })
  const served = await serve(t, pgCheck(pool))
  const { app } = served
  t.equal((await probe(app, '/ready')).status, 200)
  await expectFailure(t, served, proxy.hang, 'hang')
  t.match(app.zeroDowntime.checks[0]?.output, /timed out|timeout/i)
  await expectRecovery(t, served, proxy.restore, 'after hang')
})

t.test('no unhandled rejections', async (t) => {
  t.same(unhandled, [])
})
