// Event-loop utilization is judged per sample window, not since the plugin
// registered: many short blocks back to back (each far below the delay
// limit) shed while they last, and shedding stops within a couple of samples
// once the loop is idle again. Cumulative utilization, under-pressure's
// default, would keep shedding long after, and on a pod that has been up for
// a while would never shed at all.
import { performance } from 'node:perf_hooks'
import { setImmediate as nextTurn } from 'node:timers/promises'
import t from 'tap'
import Fastify from 'fastify'
import zeroDowntime from '../src/index.js'
import { until } from './helpers/wait.js'

/** Spins for `ms`; bounded by its own count too, whatever the clock says. */
const MAX_SPINS = 50_000_000
function blockEventLoop (ms: number): void {
  const end = performance.now() + ms
  for (let i = 0; i < MAX_SPINS; i++) if (performance.now() >= end) return
}

t.test('short blocks back to back shed on utilization; an idle loop stops shedding within a few samples', async (t) => {
  const app = Fastify()
  await app.register(zeroDowntime, { startup: 'manual', pressure: { maxEventLoopDelayMs: false, maxEventLoopUtilization: 0.5, sampleIntervalMs: 50 } })
  app.get('/work', async () => ({ ok: true }))
  await app.ready()
  t.teardown(async () => { await app.close() })

  // 10 ms blocks with one turn of the loop between them: 60 of them, a dozen sample windows.
  for (let i = 0; i < 60; i++) {
    blockEventLoop(10)
    await nextTurn()
  }
  const busy = app.memoryUsage().eventLoopUtilized
  t.ok(busy > 0.5, `the last window was busy (${busy})`)
  t.ok(app.memoryUsage().eventLoopDelay < 50, 'each block is far below any delay limit')
  t.equal((await app.inject('/work')).statusCode, 503, 'shed on utilization')

  // Idle: count the samples under-pressure takes until it stops shedding.
  let samples = 0
  let last = app.memoryUsage().eventLoopUtilized
  await until(() => {
    const now = app.memoryUsage().eventLoopUtilized
    if (now !== last) { samples++; last = now }
    return !app.isUnderPressure() || samples > 6
  }, 'shedding stopped, or six samples taken', { intervalMs: 5 })
  t.ok(samples <= 3, `shedding stopped after ${samples} idle samples`)
  t.equal((await app.inject('/work')).statusCode, 200)
})
