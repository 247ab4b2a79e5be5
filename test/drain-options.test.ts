// Drain options are resolved once, frozen, validated with TypeErrors naming the
// option, and refused when the timing budget cannot fit the grace period.
import t from 'tap'
import { DRAIN_DEFAULTS, resolveDrainConfig } from '../src/drain/index.js'

t.test('defaults follow the pod: no in-app delay with a preStop sleep, 5 s without', async (t) => {
  const bare = resolveDrainConfig(undefined, {})
  t.match(bare, {
    delayMs: 5000, requestTimeoutMs: 10000, cleanupTimeoutMs: 5000, marginMs: 2000, idleCloseMs: 5000,
    gracePeriodMs: 30000, preStopSleepMs: 0, httpDeadlineMs: 23000
  })
  t.ok(Object.isFrozen(bare), 'frozen')
  t.equal(bare.delayMs, DRAIN_DEFAULTS.delayWithoutPreStopMs)

  const reference = resolveDrainConfig({}, { TERMINATION_GRACE_PERIOD_SECONDS: '30', PRESTOP_SLEEP_SECONDS: '5' })
  t.match(reference, { delayMs: 0, preStopSleepMs: 5000, httpDeadlineMs: 18000, budget: { requiredMs: 22000, fits: true } })
})

t.test('options override the environment and accept 0 where 0 means "none"', async (t) => {
  const c = resolveDrainConfig({ gracePeriodMs: 8000, preStopSleepMs: 0, delayMs: 0, marginMs: 0, idleCloseMs: 0, requestTimeoutMs: 1000, cleanupTimeoutMs: 1000 },
    { TERMINATION_GRACE_PERIOD_SECONDS: '99', PRESTOP_SLEEP_SECONDS: '9' })
  t.match(c, { gracePeriodMs: 8000, preStopSleepMs: 0, delayMs: 0, marginMs: 0, idleCloseMs: 0, httpDeadlineMs: 7000 })
})

t.test('bad options are TypeErrors naming the option and what it must be', async (t) => {
  t.throws(() => resolveDrainConfig('fast', {}), { code: 'FST_ZD_INVALID_OPTION', message: 'fastify-zero-downtime: option "drain" must be an object, got "fast"' })
  t.throws(() => resolveDrainConfig(null, {}), { code: 'FST_ZD_INVALID_OPTION', message: /option "drain" must be an object, got null/ })
  t.throws(() => resolveDrainConfig([], {}), { message: /got an array/ })
  t.throws(() => resolveDrainConfig({ delay: 5 }, {}), { code: 'FST_ZD_UNKNOWN_OPTION', message: /unknown option "drain.delay" \(known: delayMs,/ })
  t.throws(() => resolveDrainConfig({ delayMs: -1 }, {}), { code: 'FST_ZD_INVALID_OPTION', message: 'fastify-zero-downtime: option "drain.delayMs" must be a non-negative number of milliseconds (at most 2147483647), got -1' })
  t.throws(() => resolveDrainConfig({ requestTimeoutMs: 0 }, {}), { message: /"drain.requestTimeoutMs" must be a positive number/ })
  t.throws(() => resolveDrainConfig({ idleCloseMs: '5s' }, {}), { message: /"drain.idleCloseMs" .* got "5s"/ })
  t.throws(() => resolveDrainConfig({ marginMs: { ms: 1 } }, {}), { message: /got an object/ })
  t.throws(() => resolveDrainConfig({ gracePeriodMs: Infinity }, {}), { message: /"drain.gracePeriodMs" .* got Infinity/ })
  t.throws(() => resolveDrainConfig({ cleanupTimeoutMs: 2 ** 31 }, {}), { message: /"drain.cleanupTimeoutMs"/ })
  t.throws(() => resolveDrainConfig({}, { TERMINATION_GRACE_PERIOD_SECONDS: 'thirty' }), { code: 'FST_ZD_INVALID_ENV', message: /TERMINATION_GRACE_PERIOD_SECONDS/ })
})

t.test('a budget that cannot fit is refused, saying what to change', async (t) => {
  t.throws(() => resolveDrainConfig({}, { TERMINATION_GRACE_PERIOD_SECONDS: '20', PRESTOP_SLEEP_SECONDS: '5' }), {
    code: 'FST_ZD_BUDGET_EXCEEDED',
    message: /preStop 5s \+ drain delay 0s \+ request timeout 10s \+ cleanup 5s \+ margin 2s = 22s > terminationGracePeriodSeconds 20s\. Raise terminationGracePeriodSeconds .* to at least 22.*options: drain\.delayMs/
  })
  t.throws(() => resolveDrainConfig({ requestTimeoutMs: 30000 }, {}), { code: 'FST_ZD_BUDGET_EXCEEDED', message: /request timeout 30s/ })
})
