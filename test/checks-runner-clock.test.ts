// The check runner's timing, in process on a fake clock: when a run times
// out, when the next one starts, what stop() cancels. No sleeps: time moves
// only when the test advances it.
import t from 'tap'
import { CheckRunner } from '../src/health/runner.js'
import type { CheckFunction, CheckResult, ResolvedCheck } from '../src/health/types.js'
import { FakeClock } from './helpers/fake-clock.js'

const silent = { info: () => {}, warn: () => {} }

function check (name: string, fn: CheckFunction, timeoutMs = 1000, intervalMs = 2000): ResolvedCheck {
  return { name, check: fn, critical: true, liveness: false, timeoutMs, intervalMs, componentType: 'component' }
}

t.test('a hanging check fails at its timeout, with the timeout as its latency', async (t) => {
  const clock = new FakeClock()
  let signal: AbortSignal | undefined
  const runner = new CheckRunner([check('db', (ctx) => { signal = ctx.signal; return new Promise(() => {}) }, 500)], silent, clock)
  const started = runner.start()
  await clock.advanceTo(499)
  t.equal(runner.results[0]?.pending, true, 'still pending 1 ms before the timeout')
  await clock.advanceTo(500)
  await started
  t.match(runner.results[0], { status: 'fail', output: 'timed out after 500 ms', latencyMs: 500, pending: false, time: '2026-01-01T00:00:00.500Z' })
  t.equal(signal?.aborted, true, 'the check is told to give up its I/O')
  t.equal(clock.timers[0]?.keepAlive, true, 'the timeout keeps the process alive (a script awaiting ready() must see it)')
  runner.stop()
})

t.test('the next run starts one interval after the previous run ended, never overlapping', async (t) => {
  const clock = new FakeClock()
  const starts: number[] = []
  // Each run takes 300 ms of fake time.
  const slow: CheckFunction = async () => {
    starts.push(clock.now())
    await new Promise<void>((resolve) => { clock.after(300, resolve, true) })
  }
  const runner = new CheckRunner([check('db', slow, 1000, 1000)], silent, clock)
  const started = runner.start()
  await clock.advanceTo(300)
  await started
  await clock.advanceTo(5000)
  t.same(starts, [0, 1300, 2600, 3900], 'interval counted from the end of each run')
  t.notOk(clock.pending.some((x) => x.keepAlive && x.at > clock.now() + 1000), 'no stray kept-alive timer')
  t.ok(clock.pending.filter((x) => !x.keepAlive).length <= 1, 'at most one refresh timer, unref\'ed')
  runner.stop()
  t.same(clock.pending.filter((x) => !x.keepAlive), [], 'stop() cancels the refresh')
  await clock.advanceTo(20000)
  t.equal(starts.length, 4, 'nothing runs after stop()')
})

t.test('check events: the first result, then only status changes', async (t) => {
  const clock = new FakeClock()
  const outcomes = [true, true, false, false, true]
  let i = 0
  const runner = new CheckRunner([check('db', () => outcomes[i++] ?? true, 1000, 100)], silent, clock)
  const events: Array<[string, string]> = []
  runner.on('check', (result: CheckResult, previous: CheckResult) => { events.push([previous.pending ? 'pending' : previous.status, result.status]) })
  await runner.start()
  await clock.advanceTo(400)
  runner.stop()
  t.equal(i, 5, 'five runs in 400 ms at a 100 ms interval')
  t.same(events, [['pending', 'pass'], ['pass', 'fail'], ['fail', 'pass']])
})

t.test('stop() abandons a run in flight: its late result is dropped', async (t) => {
  const clock = new FakeClock()
  let finish!: () => void
  let calls = 0
  const runner = new CheckRunner([check('db', async () => {
    if (++calls === 1) return
    await new Promise<void>((resolve) => { finish = resolve })
    return false
  }, 10_000, 100)], silent, clock)
  await runner.start()
  await clock.advanceTo(100)
  t.equal(calls, 2, 'the second run is in flight')
  runner.stop()
  finish()
  await clock.advanceTo(20_000)
  t.match(runner.results[0], { status: 'pass', pending: false }, 'the result stays as it was')
  t.equal(calls, 2, 'nothing ran after stop()')
})

t.test('a check that ignores its abort signal is never called again while its call is in flight', async (t) => {
  const clock = new FakeClock()
  let calls = 0
  let inFlight = 0
  let maxInFlight = 0
  let finish: (() => void) | undefined
  // Ignores ctx.signal: only the test ends its call.
  const stubborn: CheckFunction = async () => {
    calls++
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    await new Promise<void>((resolve) => { finish = resolve })
    inFlight--
  }
  const runner = new CheckRunner([check('db', stubborn, 500, 1000)], silent, clock)
  const started = runner.start()
  await clock.advanceTo(500)
  await started
  t.match(runner.results[0], { status: 'fail', output: 'timed out after 500 ms', latencyMs: 500 })
  // Ten intervals later the first call still hangs: reported, not called again.
  await clock.advanceTo(10_600)
  t.equal(calls, 1, 'one call in ten intervals')
  t.equal(maxInFlight, 1)
  t.match(runner.results[0], {
    status: 'fail',
    output: 'still running after 10500 ms (timed out after 500 ms and did not stop when aborted); not called again until it settles',
    latencyMs: 10500,
    time: '2026-01-01T00:00:10.500Z'
  })
  // It settles (late, and passing: too late to count); the next run calls again.
  finish?.()
  await clock.advanceTo(11_000)
  t.match(runner.results[0], { status: 'fail', output: /^still running after/ }, 'the late outcome is not recorded')
  await clock.advanceTo(11_800)
  t.equal(calls, 2, 'called again at the first run after it settled (11500 ms)')
  t.equal(maxInFlight, 1, 'never two calls in flight')
  finish?.()
  await clock.advanceTo(11_800)
  t.match(runner.results[0], { status: 'pass', latencyMs: 300 })
  runner.stop()
})

t.test('a check whose call settles after its timeout but before the next run is called again as usual', async (t) => {
  const clock = new FakeClock()
  const starts: number[] = []
  // 700 ms of fake time against a 500 ms timeout, whatever the signal says.
  const slow: CheckFunction = async () => {
    starts.push(clock.now())
    await new Promise<void>((resolve) => { clock.after(700, resolve, true) })
  }
  const runner = new CheckRunner([check('db', slow, 500, 1000)], silent, clock)
  const started = runner.start()
  await clock.advanceTo(500)
  await started
  await clock.advanceTo(4000)
  t.same(starts, [0, 1500, 3000], 'the late call settled at 700 ms, before the run at 1500 ms')
  t.match(runner.results[0], { status: 'fail', output: 'timed out after 500 ms' })
  runner.stop()
})
