// Dependencies close in order around the HTTP drain, each with its own
// timeout; a throwing or hanging one is logged and never stops the rest.
import t from 'tap'
import { drainApp } from './fixtures/drain/app.js'

t.test('consumers stop at drain start, the rest after HTTP, in phase order', async (t) => {
  const { app, logs } = await drainApp({ cleanupTimeoutMs: 2000 })
  const order: string[] = []
  const seen = (name: string) => () => {
    order.push(`${name}@${logs.some((l) => l.drain === 'http-drained') ? 'after-http' : 'before-http'}`)
  }
  app.zeroDowntime.addCleanup('other', 'metrics', () => { seen('other')(); throw 'not an Error' }) // eslint-disable-line no-throw-literal
  app.zeroDowntime.addCleanup('brokers', 'amqp', async () => { seen('brokers')(); await new Promise(() => {}) }, 100)
  app.zeroDowntime.addCleanup('caches', 'redis', async () => { seen('caches')(); throw new Error('redis quit failed') })
  app.zeroDowntime.addCleanup('databases', 'pg', seen('databases'))
  app.zeroDowntime.addCleanup('consumers', 'queue', seen('consumers'))
  await app.ready()

  const report = await app.zeroDowntime.drain('test')
  t.same(order, ['consumers@before-http', 'databases@after-http', 'caches@after-http', 'brokers@after-http', 'other@after-http'])
  t.match(report.cleanup, [
    { phase: 'consumers', name: 'queue', outcome: 'ok' },
    { phase: 'databases', name: 'pg', outcome: 'ok' },
    { phase: 'caches', name: 'redis', outcome: 'error', error: 'redis quit failed' },
    { phase: 'brokers', name: 'amqp', outcome: 'timeout' },
    { phase: 'other', name: 'metrics', outcome: 'error', error: 'not an Error' }
  ])
  t.equal(report.clean, false, 'a failed cleanup makes the drain unclean')
  t.equal(app.zeroDowntime.state, 'stopped')
  t.ok(logs.some((l) => l.msg === 'cleanup brokers/amqp timed out after 100 ms'))
  t.same(await app.zeroDowntime.drain('again'), report, 'drain runs once')
})

t.test('items past the cleanup budget are skipped, not awaited', async (t) => {
  // Real timers: one that fires a millisecond early still spends the budget
  // (cleanup.ts), so the late item is skipped, never run in what seems left.
  const { app } = await drainApp({ cleanupTimeoutMs: 150 })
  app.zeroDowntime.addCleanup('databases', 'stuck', async () => { await new Promise(() => {}) })
  let ran = false
  app.zeroDowntime.addCleanup('caches', 'late', () => { ran = true })
  await app.ready()
  const report = await app.zeroDowntime.drain()
  t.match(report.cleanup, [{ name: 'stuck', outcome: 'timeout' }, { name: 'late', outcome: 'skipped' }])
  t.equal(ran, false)
})

t.test('closing the app directly still runs every phase once', async (t) => {
  const { app } = await drainApp()
  const order: string[] = []
  app.zeroDowntime.addCleanup('databases', 'pg', () => { order.push('databases') })
  app.zeroDowntime.addCleanup('consumers', 'queue', () => { order.push('consumers') })
  await app.ready()
  await app.close()
  t.same(order, ['consumers', 'databases'])
  t.equal(app.zeroDowntime.state, 'stopped')
})

t.test('bad cleanup registrations are TypeErrors', async (t) => {
  const { app } = await drainApp()
  await app.ready()
  const add = app.zeroDowntime.addCleanup
  t.throws(() => { add('database' as 'databases', 'pg', () => {}) }, { code: 'FST_ZD_INVALID_ARGUMENT', message: /phase must be one of consumers, databases, caches, brokers, other, got "database"/ })
  t.throws(() => { add('databases', '', () => {}) }, { code: 'FST_ZD_INVALID_ARGUMENT', message: /name must be a non-empty string/ })
  t.throws(() => { add('databases', 'pg', 'pool.end' as unknown as () => void) }, { code: 'FST_ZD_INVALID_ARGUMENT', message: /addCleanup "pg" fn must be a function, got "pool.end"/ })
  t.throws(() => { add('databases', 'pg', () => {}, 0) }, { code: 'FST_ZD_INVALID_ARGUMENT', message: /addCleanup "pg" timeoutMs must be a positive number of milliseconds \(at most 2147483647\), got 0/ })
  t.throws(() => { add('databases', 'pg', () => {}, '1s' as unknown as number) }, { code: 'FST_ZD_INVALID_ARGUMENT' })
  await app.close()
})
