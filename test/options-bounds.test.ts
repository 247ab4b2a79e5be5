// Every number from the environment or the options is range-checked in one
// place (src/options.ts) with the same bounds, and nothing past Node's timer
// limit (a longer delay fires after 1 ms) reaches a timer: refused with a
// TypeError naming the variable or option and the range.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import t from 'tap'
import Fastify from 'fastify'
import zeroDowntime, { endEventStream } from '../src/index.js'
import { resolveConfig } from '../src/plugin-options.js'
import { resolveDrainConfig } from '../src/drain/index.js'
import { MAX_TIMER_MS, MAX_TIMER_SECONDS } from '../src/options.js'
import { drainApp } from './fixtures/drain/app.js'
import { SERVER } from './fixtures/drain/harness.js'

const GRACE = 'TERMINATION_GRACE_PERIOD_SECONDS'
const PRESTOP = 'PRESTOP_SLEEP_SECONDS'

t.test('environment seconds: decimal digits only, bounded like the option of the same meaning', async (t) => {
  const refused: Array<[string, string, RegExp]> = [
    [GRACE, '1e9', /environment variable TERMINATION_GRACE_PERIOD_SECONDS must be a positive number of seconds \(at most 2147483\) in decimal digits, got "1e9"/],
    [GRACE, '0x1E', /TERMINATION_GRACE_PERIOD_SECONDS .*got "0x1E"/],
    [GRACE, '1000000000', /TERMINATION_GRACE_PERIOD_SECONDS must be a positive number of seconds \(at most 2147483\)/],
    [GRACE, String(MAX_TIMER_SECONDS + 1), /at most 2147483/],
    [GRACE, 'Infinity', /got "Infinity"/],
    [GRACE, '-30', /got "-30"/],
    [GRACE, '+30', /got "\+30"/],
    [GRACE, '30s', /got "30s"/],
    [GRACE, '0', /TERMINATION_GRACE_PERIOD_SECONDS must be a positive number/],
    [GRACE, '3 0', /got "3 0"/],
    [PRESTOP, '1e3', /environment variable PRESTOP_SLEEP_SECONDS must be a non-negative number of seconds \(at most 2147483\) in decimal digits, got "1e3"/],
    [PRESTOP, '.5', /PRESTOP_SLEEP_SECONDS .*got ".5"/]
  ]
  for (const [name, value, message] of refused) {
    t.throws(() => resolveDrainConfig({ requestTimeoutMs: 1000 }, { [name]: value }), { code: 'FST_ZD_INVALID_ENV', message }, `${name}=${value}`)
  }
  t.match(resolveDrainConfig({}, { [GRACE]: ' 30 ', [PRESTOP]: '0' }), { gracePeriodMs: 30000, preStopSleepMs: 0 })
  const quick = { delayMs: 0, requestTimeoutMs: 100, cleanupTimeoutMs: 100, marginMs: 100 }
  t.equal(resolveDrainConfig(quick, { [GRACE]: '0.8', [PRESTOP]: '0.25' }).gracePeriodMs, 800, 'fractions are decimal too')
  t.equal(resolveDrainConfig({}, { [GRACE]: String(MAX_TIMER_SECONDS) }).gracePeriodMs, MAX_TIMER_SECONDS * 1000, 'the largest grace period a timer can hold')
  t.throws(() => resolveDrainConfig({ gracePeriodMs: MAX_TIMER_MS + 1 }, {}), { message: /option "drain.gracePeriodMs" must be a positive number of milliseconds \(at most 2147483647\)/ }, 'the option has the same bound')
})

t.test('a pod whose grace period would overflow the last-resort timer refuses to start', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], { env: { ...process.env, [GRACE]: '1e9' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr.on('data', (d: Buffer) => { output += d.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  t.equal(code, 1)
  t.match(output, /fastify-zero-downtime: environment variable TERMINATION_GRACE_PERIOD_SECONDS must be a positive number of seconds/)
  t.match(output, /FST_ZD_INVALID_ENV/)
  t.notMatch(output, /Server listening/, 'it never listened')
})

t.test('options that reach a timer or a header are bounded', async (t) => {
  const refused: Array<[unknown, RegExp]> = [
    [{ pressure: { retryAfterSeconds: 1e300 } }, /option "pressure.retryAfterSeconds" must be a positive whole number of seconds \(at most 2147483\), got 1e\+300/],
    [{ pressure: { retryAfterSeconds: MAX_TIMER_SECONDS + 1 } }, /pressure.retryAfterSeconds/],
    [{ pressure: { sampleIntervalMs: 3e9 } }, /option "pressure.sampleIntervalMs" must be a positive number of milliseconds \(at most 2147483647\), got 3000000000/],
    [{ pressure: { maxEventLoopDelayMs: 1e300 } }, /pressure.maxEventLoopDelayMs/],
    [{ checkTimeoutMs: 3e9 }, /option "checkTimeoutMs"/],
    [{ checks: { db: { check: () => {}, intervalMs: 3e9 } } }, /option "checks.db.intervalMs"/],
    [{ checkIntervalMs: NaN }, /got NaN/],
    [{ checkIntervalMs: 10n }, /got 10n/],
    [{ checkIntervalMs: Symbol('x') }, /got a symbol/]
  ]
  for (const [opts, message] of refused) t.throws(() => resolveConfig(opts), { code: 'FST_ZD_INVALID_OPTION', message })
  t.equal((resolveConfig({ pressure: { retryAfterSeconds: MAX_TIMER_SECONDS } }).pressure as { retryAfterSeconds: number }).retryAfterSeconds, MAX_TIMER_SECONDS)
  t.throws(() => resolveConfig({ checkTimeoutMs: 'x'.repeat(100000) }), { message: /got "x{80}…"$/ }, 'a huge value is quoted short')

  const app = Fastify()
  app.register(zeroDowntime, { pressure: { retryAfterSeconds: 1e300 } })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_ZD_INVALID_OPTION', message: /pressure.retryAfterSeconds/ }, 'at registration')
})

t.test('addCleanup, drain() and endEventStream refuse delays a timer cannot hold', async (t) => {
  const { app } = await drainApp()
  await app.ready()
  t.throws(() => { app.zeroDowntime.addCleanup('databases', 'pg', () => {}, 3e9) }, {
    code: 'FST_ZD_INVALID_ARGUMENT', message: 'fastify-zero-downtime: addCleanup "pg" timeoutMs must be a positive number of milliseconds (at most 2147483647), got 3000000000'
  })
  t.throws(() => { app.zeroDowntime.addCleanup('databases', 'pg', () => {}, Infinity) }, { message: /got Infinity/ })
  t.throws(() => { void app.zeroDowntime.drain('x', { delayMs: 3e9 }) }, { code: 'FST_ZD_INVALID_ARGUMENT', message: /drain\(\) option "delayMs" must be a non-negative number of milliseconds/ })
  t.throws(() => { void app.zeroDowntime.drain('x', { delayMs: -1 }) }, { code: 'FST_ZD_INVALID_ARGUMENT' })
  t.equal(app.zeroDowntime.state, 'starting', 'a refused drain() did not start')

  const sink = { write: () => {}, end: () => {} }
  t.throws(() => { endEventStream(sink, { retryMs: 3e9 }) }, { code: 'FST_ZD_INVALID_ARGUMENT', message: /endEventStream option "retryMs" must be a non-negative number of milliseconds/ })
  t.throws(() => { endEventStream(sink, { retryMs: 1.5 }) }, { code: 'FST_ZD_INVALID_ARGUMENT', message: /endEventStream option "retryMs" must be a whole number of milliseconds, got 1.5/ })
  t.throws(() => { endEventStream(sink, { event: 'x\ndata: injected' }) }, { code: 'FST_ZD_INVALID_ARGUMENT', message: /endEventStream option "event" must be a non-empty string on one line/ })
  t.throws(() => { endEventStream(sink, { event: 5 as never }) }, { code: 'FST_ZD_INVALID_ARGUMENT' })
  await app.close()
})
