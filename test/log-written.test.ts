// The end of the drain's timeline must reach the log however the process
// ends: pino's default destination writes asynchronously, and neither its
// flush(cb) nor the flushSync() it runs on 'exit' waits for a write in flight.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { EventEmitter } from 'node:events'
import t from 'tap'
import Fastify from 'fastify'
import { logWritten } from '../src/log-written.js'

t.test('resolves once an asynchronous pino destination has written every line, in order', async (t) => {
  const file = join(t.testdir(), 'app.log')
  const app = Fastify({ logger: { level: 'info', file } })
  t.teardown(() => app.close())
  const padding = 'x'.repeat(2000)
  for (let i = 0; i < 200; i++) app.log.info({ i, padding }, 'line')
  await logWritten(app.log)
  const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { i: number }).i)
  t.same(lines, Array.from({ length: 200 }, (_, i) => i), 'all 200 lines, in the order logged')
})

t.test('loggers without a pino destination, and a destination that never drains', async (t) => {
  await logWritten({})
  await logWritten(Fastify({ logger: false }).log)
  t.pass('no destination to wait for: resolved')
  const stuck = Object.assign(new EventEmitter(), { _writing: true })
  const log = { [Symbol('pino.stream')]: stuck }
  // The wait's timer is unref'ed (a real write in flight holds the loop): hold it here.
  const hold = setInterval(() => {}, 1000)
  await logWritten(log, 10)
  clearInterval(hold)
  t.equal(stuck.listenerCount('drain'), 0, 'gave up after maxWaitMs and removed its listener')
  const drains = Object.assign(new EventEmitter(), { _writing: true })
  const waiting = logWritten(Object.create({ [Symbol('pino.stream')]: drains }) as object, 60_000)
  drains.emit('drain')
  await waiting
  t.equal(drains.listenerCount('drain'), 0, 'a child logger (destination inherited) waits for the drain event')
})
