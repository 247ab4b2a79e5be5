// Cleanups: each phase is bounded by the cleanup budget whatever its own
// timeout says, and registrations after the drain started either run at once
// (consumers) or are refused with an Error (a phase that already ran).
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { drainApp } from './fixtures/drain/app.js'

t.test('a hanging consumers cleanup with a long timeout does not stall the drain: the report still comes', async (t) => {
  const { app, logs } = await drainApp({ cleanupTimeoutMs: 150 })
  app.zeroDowntime.addCleanup('consumers', 'orders-queue', async () => { await new Promise(() => {}) }, 60000)
  let databasesRan = false
  app.zeroDowntime.addCleanup('databases', 'pg', () => { databasesRan = true })
  await app.ready()
  const report = await app.zeroDowntime.drain('hanging consumer')
  t.match(report.cleanup, [{ phase: 'consumers', name: 'orders-queue', outcome: 'timeout' }, { phase: 'databases', name: 'pg', outcome: 'skipped' }])
  t.ok(report.cleanup[0]!.durationMs < 60000, 'given up at the budget, not at its own timeout')
  t.equal(databasesRan, false, 'the budget was spent waiting for it')
  t.equal(report.clean, false)
  t.ok(logs.some((l) => l.drain === 'stopped'), 'the stopped report is logged')
  t.ok(logs.some((l) => /^cleanup consumers\/orders-queue still running when the cleanup budget ran out/.test(l.msg)))
})

t.test('an item\'s own timeout longer than the budget is capped by the budget after HTTP', async (t) => {
  const { app } = await drainApp({ cleanupTimeoutMs: 150 })
  app.zeroDowntime.addCleanup('brokers', 'amqp', async () => { await new Promise(() => {}) }, 60000)
  await app.ready()
  const report = await app.zeroDowntime.drain()
  t.match(report.cleanup, [{ name: 'amqp', outcome: 'timeout' }])
  t.ok(report.cleanup[0]!.durationMs < 60000)
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
