// What one under-pressure sample says about each configured limit, in
// process: a window in which the event loop never turned (under-pressure
// reports its delay as Infinity) is the stuck loop itself and counts as over
// the limit, never as "no measurement"; before the first sample nothing is.
import t from 'tap'
import { overLimit, readLimits, type PressureSample } from '../src/pressure/limits.js'
import { resolvePressure, type ResolvedPressure } from '../src/pressure/options.js'

const config = resolvePressure({ maxEventLoopDelayMs: 200, maxEventLoopUtilization: 0.9, maxHeapUsedBytes: 1000, maxRssBytes: 5000, sampleIntervalMs: 500 }) as ResolvedPressure
const idle: PressureSample = { eventLoopDelay: 0.4, eventLoopUtilized: 0.1234, heapUsed: 10, rssBytes: 100 }

t.test('a stuck loop (an empty sample window: Infinity) is over the delay limit, with the window as what is known of it', async (t) => {
  const [delay] = readLimits({ ...idle, eventLoopDelay: Infinity }, config)
  t.same(delay, { key: 'pressure:eventLoopDelay', observedValue: 500, observedUnit: 'ms', status: 'warn', output: 'the event loop did not turn during a whole sample window (500 ms or more)' })
  const fail = resolvePressure({ maxEventLoopDelayMs: 200, sampleIntervalMs: 500, readiness: 'fail' }) as ResolvedPressure
  t.equal(readLimits({ ...idle, eventLoopDelay: Infinity }, fail)[0]?.status, 'fail', 'as pressure.readiness says')
  t.equal(readLimits({ ...idle, eventLoopDelay: NaN }, fail)[0]?.status, 'fail', 'NaN too')
})

t.test('finite samples: over the limit is saturated, at or under it passes', async (t) => {
  t.same(readLimits(idle, config), [
    { key: 'pressure:eventLoopDelay', observedValue: 0.4, observedUnit: 'ms', status: 'pass' },
    { key: 'pressure:eventLoopUtilization', observedValue: 12.34, observedUnit: 'percent', status: 'pass' },
    { key: 'pressure:heapUsed', observedValue: 10, observedUnit: 'bytes', status: 'pass' },
    { key: 'pressure:rss', observedValue: 100, observedUnit: 'bytes', status: 'pass' }
  ])
  const busy = readLimits({ eventLoopDelay: 200.5, eventLoopUtilized: 0.95, heapUsed: 1001, rssBytes: 5000 }, config)
  t.same(busy.map((m) => m.status), ['warn', 'warn', 'warn', 'pass'], 'the rss at its limit is not over it')
})

t.test('before under-pressure has sampled (every value 0), nothing is over and each limit says so', async (t) => {
  const none = readLimits({ eventLoopDelay: 0, eventLoopUtilized: 0, heapUsed: 0, rssBytes: 0 }, config)
  t.equal(none.length, 4)
  t.ok(none.every((m) => m.status === 'pass' && m.output === 'no sample yet' && m.observedValue === 0))
})

t.test('only the configured limits are read', async (t) => {
  const delayOnly = resolvePressure({}) as ResolvedPressure
  t.same(readLimits(idle, delayOnly).map((m) => m.key), ['pressure:eventLoopDelay'])
  const noDelay = resolvePressure({ maxEventLoopDelayMs: false, maxRssBytes: 1 }) as ResolvedPressure
  t.same(readLimits({ ...idle, eventLoopDelay: Infinity }, noDelay).map((m) => [m.key, m.status]), [['pressure:rss', 'warn']])
})

t.test('what a shed request is told: the first limit over, in under-pressure\'s order and by its names; a limit not set is never over', async (t) => {
  t.equal(overLimit(idle, config), undefined, 'nothing over')
  t.same(overLimit({ ...idle, heapUsed: 2000, rssBytes: 9000 }, config), { type: 'heapUsedBytes', value: 2000 }, 'heap before rss')
  t.same(overLimit({ ...idle, eventLoopDelay: Infinity, heapUsed: 2000 }, config), { type: 'eventLoopDelay', value: Infinity }, 'the delay first, a stuck loop included')
  t.same(overLimit({ ...idle, eventLoopUtilized: 0.95 }, config), { type: 'eventLoopUtilization', value: 0.95 })
  t.same(overLimit({ ...idle, rssBytes: 9000 }, config), { type: 'rssBytes', value: 9000 })
  const delayOnly = resolvePressure({ maxEventLoopDelayMs: 200, sampleIntervalMs: 500 }) as ResolvedPressure
  t.equal(overLimit({ ...idle, heapUsed: 1e12, rssBytes: 1e12, eventLoopUtilized: 1 }, delayOnly), undefined, 'memory and utilization without limits of their own')
})
