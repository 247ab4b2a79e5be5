// pgCheck on an exhausted pool, against a real Postgres (the shared server:
// clients are only held, nothing is stopped). The check never waits in the
// pool's queue: with every client held it fails with what it saw, and the
// app's own waiting request is the only one in the queue; when the app's
// clients finish queries the pool is only busy, and that passes.
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import pg from 'pg'
import zeroDowntime, { pgCheck, type CheckSpec } from '../src/index.js'
import { sharedUrls } from './helpers/servers.js'
import { nextResult, probe, recordUnhandledRejections } from './helpers/probe.js'
import { until } from './helpers/wait.js'

const unhandled = recordUnhandledRejections()

/** The check with its calls counted, and the most requests ever seen waiting in the pool's queue. */
function watched (pool: pg.Pool, spec: CheckSpec): { spec: CheckSpec, calls: () => number, maxWaiting: () => number, look: () => void } {
  let calls = 0
  let maxWaiting = 0
  const look = (): void => { maxWaiting = Math.max(maxWaiting, pool.waitingCount) }
  return {
    spec: { ...spec, check: async (ctx) => { calls++; look(); try { return await spec.check(ctx) } finally { look() } } },
    calls: () => calls,
    maxWaiting: () => maxWaiting,
    look
  }
}

async function exhaustedPool (t: Test): Promise<{ pool: pg.Pool, held: pg.PoolClient[], queued: Promise<unknown> }> {
  // No connectionTimeoutMillis: a waiter waits for ever, the worst case.
  const pool = new pg.Pool({ connectionString: sharedUrls.database, max: 2 })
  pool.on('error', () => {})
  const held = [await pool.connect(), await pool.connect()]
  t.teardown(async () => { for (const c of held) c.release(); await pool.end() })
  // The app's own request, waiting for a client.
  const queued = pool.query('SELECT 2 AS app')
  t.equal(pool.waitingCount, 1)
  return { pool, held, queued }
}

t.test('every client held: the check fails with what it saw, never queued, never overlapping; recovers once released', async (t) => {
  const { pool, held, queued } = await exhaustedPool(t)
  const check = watched(pool, pgCheck(pool))
  const app = Fastify()
  await app.register(zeroDowntime, { checks: { db: check.spec }, checkIntervalMs: 100, checkTimeoutMs: 400, pressure: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })

  t.match(app.zeroDowntime.checks[0], { status: 'fail', output: 'pool exhausted: all 2 of 2 clients in use and none released for 200 ms, 1 requests waiting (the check does not queue behind them)' })
  await until(() => { check.look(); return check.calls() >= 5 }, 'five runs', { intervalMs: 5 })
  t.equal(check.maxWaiting(), 1, 'only the app\'s request ever waited in the queue')
  t.equal((await probe(app, '/ready')).status, 503)
  t.equal((await probe(app, '/health')).status, 200)

  const passed = nextResult(app, 'db', 'pass')
  held.splice(0).forEach((c) => { c.release() })
  t.match(await queued, { rows: [{ app: 2 }] }, 'the app\'s request got its client')
  await passed
  t.equal((await probe(app, '/ready')).status, 200)
  t.equal(check.maxWaiting(), 1)
})

t.test('a busy pool whose clients finish queries passes: Postgres answers, the check does not queue', async (t) => {
  const { pool, held, queued } = await exhaustedPool(t)
  const check = watched(pool, pgCheck(pool))
  const app = Fastify()
  await app.register(zeroDowntime, { checks: { db: check.spec }, checkIntervalMs: 600_000, checkTimeoutMs: 60_000, pressure: false })
  t.teardown(async () => { await app.close() })
  const ready = app.ready()
  // The first run is waiting for the pool, outside its queue: one of the app's clients finishes.
  await until(() => pool.listenerCount('release') > 0, 'the check waits on the pool', { intervalMs: 5 })
  held.pop()?.release()
  await ready
  t.match(app.zeroDowntime.checks[0], { status: 'pass', output: 'pool busy: all 2 clients in use, 0 requests waiting; Postgres answered one of them (not queued behind them)' })
  t.equal(check.maxWaiting(), 1)
  t.equal(pool.listenerCount('release'), 0, 'the check left no listener behind')
  await queued
})

t.test('a client the app releases with an error is no answer from Postgres: the check waits for a real one', async (t) => {
  // The app's waiting query blocks on an advisory lock held outside the pool, so
  // the replacement client the pool opens for it stays busy until the test says.
  const locker = new pg.Client({ connectionString: sharedUrls.database })
  await locker.connect()
  t.teardown(async () => { await locker.end() })
  await locker.query('SELECT pg_advisory_lock(727274)')
  const pool = new pg.Pool({ connectionString: sharedUrls.database, max: 2 })
  pool.on('error', () => {})
  const held = [await pool.connect(), await pool.connect()]
  t.teardown(async () => { for (const c of held) c.release(); await pool.end() })
  const queued = pool.query('SELECT pg_advisory_lock(727274), pg_advisory_unlock(727274)')
  const check = watched(pool, pgCheck(pool))
  const app = Fastify()
  await app.register(zeroDowntime, { checks: { db: check.spec }, checkIntervalMs: 600_000, checkTimeoutMs: 60_000, pressure: false })
  t.teardown(async () => { await app.close() })
  const ready = app.ready()
  await until(() => pool.listenerCount('release') > 0, 'the check waits on the pool', { intervalMs: 5 })
  // The app found its connection broken: the pool discards the client and opens another for the waiting query.
  held.pop()?.release(new Error('connection broken'))
  await until(() => pool.waitingCount === 0, 'the waiting query got the replacement client', { intervalMs: 5 })
  const blocked = async (): Promise<number> => Number((await locker.query<{ n: string }>("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).rows[0]?.n)
  for (let i = 0; i < 3000 && await blocked() === 0; i++) await new Promise((resolve) => { setTimeout(resolve, 5) })
  t.equal(await blocked(), 1, 'the replacement client runs the app\'s query, blocked on the lock')
  t.equal(app.zeroDowntime.checks[0]?.pending, true, 'the discarded client did not count as Postgres answering')
  await locker.query('SELECT pg_advisory_unlock(727274)')
  await ready
  t.match(app.zeroDowntime.checks[0], { status: 'pass', output: undefined }, 'the app\'s query done, a client was free: the check ran its own SELECT 1')
  t.equal(pool.listenerCount('release'), 0, 'the check left no listener behind')
  await queued
})

t.test('a client released with an error frees its slot: with nobody waiting, the check runs its own query at once', async (t) => {
  const pool = new pg.Pool({ connectionString: sharedUrls.database, max: 2 })
  pool.on('error', () => {})
  const held = [await pool.connect(), await pool.connect()]
  t.teardown(async () => { for (const c of held) c.release(); await pool.end() })
  const check = watched(pool, pgCheck(pool))
  const app = Fastify()
  await app.register(zeroDowntime, { checks: { db: check.spec }, checkIntervalMs: 600_000, checkTimeoutMs: 60_000, pressure: false })
  t.teardown(async () => { await app.close() })
  const ready = app.ready()
  await until(() => pool.listenerCount('release') > 0, 'the check waits on the pool', { intervalMs: 5 })
  held.pop()?.release(new Error('connection broken'))
  await ready
  t.match(app.zeroDowntime.checks[0], { status: 'pass', output: undefined }, 'SELECT 1 on a new client, not a wait for the timeout')
  t.equal(pool.listenerCount('remove'), 0, 'the check left no listener behind')
})

t.test('no unhandled rejections', async (t) => {
  t.same(unhandled, [])
})
