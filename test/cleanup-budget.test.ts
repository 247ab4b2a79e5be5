// Cleanups: each phase is bounded by the cleanup budget whatever its own
// timeout says, and registrations after the drain started either run at once
// (consumers) or are refused with an Error (a phase that already ran).
// The budget arithmetic runs in process on a fake clock (time moves only when
// the test advances it): which item is given up when, what is skipped. With
// real timers a budget timer may fire a millisecond before the budget's end
// as Date.now() sees it, so which of "skipped" or "ran" a later item gets, or
// which of an item's own timer and the budget's ends it, would be a race.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { FastifyBaseLogger } from 'fastify'
import t from 'tap'
import type { Clock } from '../src/clock.js'
import { CleanupRegistry, type CleanupResult } from '../src/drain/cleanup.js'
import { drainApp } from './fixtures/drain/app.js'
import { FakeClock } from './helpers/fake-clock.js'

/** A logger keeping what the registry logs, as `level: message` lines. */
function captureLog (): { log: FastifyBaseLogger, lines: string[] } {
  const lines: string[] = []
  const at = (level: string) => (_fields: object, msg: string) => { lines.push(`${level}: ${msg}`) }
  return { log: { info: at('info'), error: at('error') } as unknown as FastifyBaseLogger, lines }
}

/** Whether `promise` has settled by now (after the microtasks already queued). */
function settledFlag (promise: Promise<unknown>): () => boolean {
  let settled = false
  void promise.then(() => { settled = true })
  return () => settled
}

t.test('a hanging consumer with a long own timeout is given up when the budget runs out; the phases after it are skipped', async (t) => {
  const clock = new FakeClock()
  const { log, lines } = captureLog()
  const registry = new CleanupRegistry(log, 1000, clock)
  registry.add('consumers', 'orders-queue', async () => { await new Promise(() => {}) }, 60000)
  let databasesRan = false
  registry.add('databases', 'pg', () => { databasesRan = true })
  registry.startConsumers()
  // HTTP drains 40 ms after the drain start: the 150 ms budget ends at 190.
  await clock.advanceTo(40)
  const results = registry.runAfterHttp(150)
  const done = settledFlag(results)
  await clock.advanceTo(189)
  t.equal(done(), false, 'still waiting for it 1 ms before the budget ends')
  await clock.advanceTo(190)
  t.same(await results, [
    { phase: 'consumers', name: 'orders-queue', outcome: 'timeout', durationMs: 190 },
    { phase: 'databases', name: 'pg', outcome: 'skipped', durationMs: 0 }
  ] satisfies CleanupResult[], 'given up at the budget, not at its own 60000 ms')
  t.equal(databasesRan, false, 'the budget was spent waiting for it')
  t.same(lines, [
    'error: cleanup consumers/orders-queue still running when the cleanup budget ran out, after 190 ms',
    'error: cleanup databases/pg skipped: cleanup budget spent'
  ])
  t.same(clock.pending, [], 'its own 60000 ms timer is cancelled: nothing is left to hold the process')
  t.ok(clock.timers.every((x) => x.keepAlive), 'the timers are ref\'ed: a hung close() holding no handle must not let the process exit before its timeout is logged')
})

t.test('an item\'s own timeout longer than the budget is capped to what is left of it', async (t) => {
  const clock = new FakeClock()
  const { log, lines } = captureLog()
  const registry = new CleanupRegistry(log, 1000, clock)
  // 100 ms of the 150 ms budget go to the database: the broker gets the 50 left.
  registry.add('databases', 'pg', async () => { await new Promise<void>((resolve) => { clock.after(100, resolve, true) }) })
  registry.add('brokers', 'amqp', async () => { await new Promise(() => {}) }, 60000)
  const results = registry.runAfterHttp(150)
  const done = settledFlag(results)
  await clock.advanceTo(149)
  t.equal(done(), false, 'the broker is still waited for at 149 ms')
  await clock.advanceTo(150)
  t.same(await results, [
    { phase: 'databases', name: 'pg', outcome: 'ok', durationMs: 100 },
    { phase: 'brokers', name: 'amqp', outcome: 'timeout', durationMs: 50 }
  ] satisfies CleanupResult[])
  // Its own timer, set to the 50 ms left, and the budget's both end at 150;
  // its own was set first, so it is the one that ended the wait.
  t.same(lines, ['info: cleanup databases/pg done', 'error: cleanup brokers/amqp timed out after 50 ms'], 'given the 50 ms left, not its own 60000 ms')
  t.same(clock.pending, [])
})

t.test('an item\'s own timeout shorter than the budget ends it; the next phase runs at once', async (t) => {
  const clock = new FakeClock()
  const { log, lines } = captureLog()
  const registry = new CleanupRegistry(log, 1000, clock)
  registry.add('databases', 'pg', async () => { await new Promise(() => {}) }, 30)
  let cacheRanAt: number | undefined
  registry.add('caches', 'redis', () => { cacheRanAt = clock.now() })
  const results = registry.runAfterHttp(150)
  await clock.advanceTo(30)
  t.same(await results, [
    { phase: 'databases', name: 'pg', outcome: 'timeout', durationMs: 30 },
    { phase: 'caches', name: 'redis', outcome: 'ok', durationMs: 0 }
  ] satisfies CleanupResult[])
  t.equal(cacheRanAt, 30, 'the cache closed as soon as the database gave up, inside the budget')
  t.same(lines, ['error: cleanup databases/pg timed out after 30 ms', 'info: cleanup caches/redis done'])
  t.same(clock.pending, [], 'the budget\'s timer is cancelled once every phase reported')
})

/**
 * A clock whose timers fire a millisecond before their end as its `now()`
 * sees it, as real timers sometimes do against Date.now().
 */
function earlyClock (): { clock: Clock, fake: FakeClock } {
  const fake = new FakeClock()
  return { fake, clock: { now: fake.now, isoNow: fake.isoNow, after: (ms, fn, keepAlive) => fake.after(Math.max(0, ms - 1), fn, keepAlive) } }
}

for (const [ended, own] of [['the budget\'s own timer', 60000], ['an item\'s timeout cut to the budget', undefined]] as const) {
  t.test(`a timer firing a millisecond early spends the budget (${ended}): the next phase is skipped, not given the millisecond left`, async (t) => {
    const { clock, fake } = earlyClock()
    const { log, lines } = captureLog()
    const registry = new CleanupRegistry(log, 1000, clock)
    let lateRan = false
    if (own === undefined) {
      // Its own 1000 ms timeout is cut to the 150 ms budget: that timer marks the budget's end.
      registry.add('databases', 'stuck', async () => { await new Promise(() => {}) })
    } else {
      // Started at the drain start with its own 60000 ms: the budget's timer gives it up.
      registry.add('consumers', 'stuck', async () => { await new Promise(() => {}) }, own)
      registry.startConsumers()
    }
    registry.add('caches', 'late', () => { lateRan = true })
    const results = registry.runAfterHttp(150)
    await fake.advanceTo(149)
    t.match(await results, [{ name: 'stuck', outcome: 'timeout' }, { name: 'late', outcome: 'skipped', durationMs: 0 }])
    t.equal(lateRan, false, 'the budget was spent: the cache is not closed in what only seemed left of it')
    t.match(lines.at(-1), 'error: cleanup caches/late skipped: cleanup budget spent')
  })
}

t.test('through the plugin, cleanupTimeoutMs is the budget: a consumer hanging with the longest timeout a timer holds does not stall the drain', async (t) => {
  const { app, logs } = await drainApp({ cleanupTimeoutMs: 150 })
  // Its own timer cannot end first (24 days); tap's own timeout bounds the test.
  app.zeroDowntime.addCleanup('consumers', 'orders-queue', async () => { await new Promise(() => {}) }, 2 ** 31 - 1)
  await app.ready()
  const report = await app.zeroDowntime.drain('hanging consumer')
  t.match(report.cleanup, [{ phase: 'consumers', name: 'orders-queue', outcome: 'timeout' }])
  t.equal(report.clean, false)
  t.ok(logs.some((l) => /^cleanup consumers\/orders-queue still running when the cleanup budget ran out, after \d+ ms$/.test(l.msg)), 'given up at the budget')
  t.ok(logs.some((l) => l.drain === 'stopped'), 'the stopped report is logged')
})

t.test('an app driving the drain itself exits once it reported: no cleanup timer is left behind', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/cleanup/embedded.ts', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  t.equal(code, 0, 'the event loop emptied on its own')
  t.match(JSON.parse(out), [{ phase: 'consumers', name: 'stuck', outcome: 'timeout' }])
})

t.test('a consumer registered after the drain started is stopped at once and reported', async (t) => {
  const { app } = await drainApp({ delayMs: 200 })
  await app.ready()
  const stopped: string[] = []
  app.zeroDowntime.addCleanup('consumers', 'first', () => { stopped.push('first') })
  const report = app.zeroDowntime.drain('late consumer')
  app.zeroDowntime.addCleanup('consumers', 'reconnected', () => { stopped.push('reconnected') })
  await new Promise<void>((resolve) => { setImmediate(resolve) })
  t.same(stopped, ['first', 'reconnected'], 'stopped at once, during the drain delay')
  app.zeroDowntime.addCleanup('databases', 'pg', () => { stopped.push('pg') })
  t.match((await report).cleanup, [{ name: 'first', outcome: 'ok' }, { name: 'reconnected', outcome: 'ok' }, { name: 'pg', outcome: 'ok' }])
  t.same(stopped, ['first', 'reconnected', 'pg'], 'a later phase registered during the drain runs in its turn')
})

t.test('a registration whose phase already ran is refused loudly', async (t) => {
  const { app } = await drainApp()
  await app.ready()
  let phaseRunning!: () => void
  const running = new Promise<void>((resolve) => { phaseRunning = resolve })
  let release!: () => void
  app.zeroDowntime.addCleanup('databases', 'pg', async () => { phaseRunning(); await new Promise<void>((resolve) => { release = resolve }) })
  const report = app.zeroDowntime.drain()
  await running
  t.throws(() => { app.zeroDowntime.addCleanup('databases', 'replica', () => {}) }, {
    code: 'FST_ZD_CLEANUP_REFUSED', message: 'fastify-zero-downtime: addCleanup("databases", "replica") refused: the databases cleanup has already run in this drain; close it yourself'
  })
  t.throws(() => { app.zeroDowntime.addCleanup('consumers', 'late', () => {}) }, { message: /addCleanup\("consumers", "late"\) refused/ })
  let cacheRan = false
  app.zeroDowntime.addCleanup('caches', 'redis', () => { cacheRan = true })
  release()
  t.match((await report).cleanup, [{ name: 'pg', outcome: 'ok' }, { name: 'redis', outcome: 'ok' }])
  t.equal(cacheRan, true, 'a phase that has not started yet still takes registrations')
  t.throws(() => { app.zeroDowntime.addCleanup('other', 'metrics', () => {}) }, { message: /refused: the other cleanup has already run/ }, 'after stopped')
})
