import t from 'tap'
import Fastify from 'fastify'
import underPressure from '@fastify/under-pressure'
import zeroDowntime, { DEFAULTS, pgCheck, redisCheck, amqpCheck } from '../src/index.js'
import { resolveConfig } from '../src/plugin-options.js'

const ok = (): undefined => undefined

// [options, message pattern]
const bad: Array<[unknown, RegExp]> = [
  ['nope', /option "options" must be an object \(options given as a function must return one\), got "nope"/],
  [{ chekcs: {} }, /unknown option "chekcs" \(known: checks, /],
  [{ checkTimeoutMs: -1 }, /option "checkTimeoutMs" must be a positive number of milliseconds \(at most 2147483647\), got -1/],
  [{ checkTimeoutMs: 0 }, /option "checkTimeoutMs" must be a positive number of milliseconds.*got 0/],
  [{ checkIntervalMs: '2000' }, /option "checkIntervalMs" must be a positive number of milliseconds.*got "2000"/],
  [{ checkIntervalMs: Infinity }, /option "checkIntervalMs".*got Infinity/],
  [{ checkIntervalMs: 2 ** 31 }, /option "checkIntervalMs".*got 2147483648/],
  [{ checks: 'db' }, /option "checks" must be an object mapping names to checks, or an array of \{ name, check \}, got "db"/],
  [{ checks: null }, /option "checks" must be .*got null/],
  [{ checks: { db: 'SELECT 1' } }, /option "checks.db" must be a function or an object \{ check, .*got "SELECT 1"/],
  [{ checks: { db: {} } }, /option "checks.db.check" must be a function, got undefined/],
  [{ checks: { db: { check: ok, timeoutMs: -1 } } }, /option "checks.db.timeoutMs" must be a positive number of milliseconds \(at most 2147483647\), got -1/],
  [{ checks: { db: { check: ok, intervalMs: 0 } } }, /option "checks.db.intervalMs" must be a positive number/],
  [{ checks: { db: { check: ok, critical: 'yes' } } }, /option "checks.db.critical" must be true or false, got "yes"/],
  [{ checks: { db: { check: ok, liveness: 1 } } }, /option "checks.db.liveness" must be true or false, got 1/],
  [{ checks: { db: { check: ok, componentType: '' } } }, /option "checks.db.componentType" must be a non-empty string/],
  [{ checks: { db: { check: ok, retries: 3 } } }, /unknown option "checks.db.retries"/],
  [{ checks: { 'my db': ok } }, /option "checks.my db" must be named with 1-63 letters/],
  [{ checks: { '../admin': ok } }, /option "checks.\.\.\/admin" must be named/],
  [{ checks: { __proto__x: ok } }, /must be named/],
  [{ checks: { ['a'.repeat(64)]: ok } }, /must be named/],
  [{ checks: { pressure: ok } }, /check name "pressure" is reserved/],
  [{ checks: { db: ok, DB: ok } }, /duplicate check name "DB" \(option "checks.DB"\)/],
  [{ checks: [{ name: 'db', check: ok }, { name: 'db', check: ok }] }, /duplicate check name "db" \(option "checks\[1\]"\)/],
  [{ checks: [{ check: ok }] }, /option "checks\[0\].name" must be named/],
  [{ checks: [ok] }, /option "checks\[0\]" must be an object \{ name, check, ... \}, got a function/],
  [{ checks: [{ name: 'db', check: 'x' }] }, /option "checks\[0\].check" must be a function, got "x"/],
  [{ checks: { db: new (class Spec { check = ok })() } }, /option "checks.db" must be a function or an object/],
  [{ paths: '/health' }, /option "paths" must be an object \{ liveness\?, readiness\?, startup\? \}/],
  [{ paths: { ready: '/r' } }, /unknown option "paths.ready"/],
  [{ paths: { liveness: 'health' } }, /option "paths.liveness" must be a path like "\/ready"/],
  [{ paths: { liveness: '/' } }, /option "paths.liveness" must be a path/],
  [{ paths: { liveness: '/a/' } }, /option "paths.liveness" must be a path/],
  [{ paths: { liveness: '/a//b' } }, /option "paths.liveness" must be a path/],
  [{ paths: { readiness: '/ready/:id' } }, /option "paths.readiness" must be a path/],
  [{ paths: { readiness: [] } }, /option "paths.readiness" must be a path.*got an array/],
  [{ paths: { startup: 42 } }, /option "paths.startup" must be a path.*got 42/],
  [{ paths: { liveness: '/x', readiness: '/x' } }, /option "paths.readiness" repeats the path "\/x"/],
  [{ startup: 'auto' }, /option "startup" must be one of "listen", "manual", got "auto"/],
  [{ logProbes: 'no' }, /option "logProbes" must be true or false/],
  [{ pressure: true }, /option "pressure" must be false or an object of load-shedding limits, got true/],
  [{ pressure: { maxEventLoopDelay: 100 } }, /unknown option "pressure.maxEventLoopDelay"/],
  [{ pressure: { maxEventLoopDelayMs: 0 } }, /option "pressure.maxEventLoopDelayMs" must be a positive number of milliseconds.*or false for no limit, got 0/],
  [{ pressure: { maxEventLoopUtilization: 1.5 } }, /option "pressure.maxEventLoopUtilization" must be a positive number of utilization \(at most 1\)/],
  [{ pressure: { maxHeapUsedBytes: -5 } }, /option "pressure.maxHeapUsedBytes"/],
  [{ pressure: { maxRssBytes: true } }, /option "pressure.maxRssBytes".*got true/],
  [{ pressure: { sampleIntervalMs: 0 } }, /option "pressure.sampleIntervalMs" must be a positive number/],
  [{ pressure: { sampleIntervalMs: 20 } }, /option "pressure.sampleIntervalMs" must be at least 50 milliseconds \(the event-loop histogram ticks every 10 ms: .*\), got 20/],
  [{ pressure: { sampleIntervalMs: 500 } }, /option "pressure.maxEventLoopDelayMs" \(1000 ms\) must be at most "pressure.sampleIntervalMs" \(500 ms\): a sample window in which the event loop never turned/],
  [{ pressure: { maxEventLoopDelayMs: 2000 } }, /option "pressure.maxEventLoopDelayMs" \(2000 ms\) must be at most "pressure.sampleIntervalMs" \(1000 ms\)/],
  [{ pressure: { retryAfterSeconds: 1.5 } }, /option "pressure.retryAfterSeconds" must be a positive whole number of seconds \(at most 2147483\), got 1.5/],
  [{ pressure: { readiness: 'off' } }, /option "pressure.readiness" must be one of "warn", "fail", got "off"/]
]

t.test('invalid options are a TypeError at registration naming the option', async (t) => {
  for (const [opts, message] of bad) {
    const app = Fastify()
    app.register(zeroDowntime, opts as never)
    await t.rejects(async () => { await app.ready() }, { code: message.source.startsWith('unknown option') ? 'FST_ZD_UNKNOWN_OPTION' : 'FST_ZD_INVALID_OPTION', message }, JSON.stringify(opts) ?? String(opts))
    await app.close().catch(() => {})
  }
})

t.test('the built-in checks refuse something that is not a client', async (t) => {
  t.throws(() => pgCheck(undefined as never), { code: 'FST_ZD_INVALID_ARGUMENT', message: /pgCheck\(\) target must be a pg Pool or Client \(or a function returning one\), got undefined/ })
  t.throws(() => redisCheck(null as never), { code: 'FST_ZD_INVALID_ARGUMENT', message: /redisCheck\(\) target must be an ioredis client.*got null/ })
  t.throws(() => amqpCheck('amqp://x' as never), { code: 'FST_ZD_INVALID_ARGUMENT', message: /amqpCheck\(\) target must be an amqplib connection or channel.*got string$/ })
})

t.test('a getter that returns no client, or a target of the wrong shape, is a failed check', async (t) => {
  const app = Fastify()
  await app.register(zeroDowntime, {
    pressure: false,
    checks: {
      db: pgCheck(() => undefined),
      mq: amqpCheck({} as never),
      cache: redisCheck({ ping: async () => 'PANG' })
    }
  })
  await app.ready()
  t.same(app.zeroDowntime.checks.map((r) => [r.status, r.output]), [
    ['fail', 'no Postgres client to check'],
    ['fail', 'amqpCheck target has neither createChannel() nor checkExchange()'],
    ['fail', 'redis PING did not answer PONG']
  ])
  await app.close()
})

t.test('defaults, and the options the user passed stay untouched', async (t) => {
  const checks = { db: { check: ok, critical: false } }
  const opts = { checks, checkIntervalMs: 500 }
  const config = resolveConfig(opts)
  t.same(opts, { checks: { db: { check: ok, critical: false } }, checkIntervalMs: 500 })
  t.match(config.checks[0], { name: 'db', critical: false, liveness: false, timeoutMs: DEFAULTS.checkTimeoutMs, intervalMs: 500, componentType: 'component' })
  t.ok(Object.isFrozen(config) && Object.isFrozen(config.checks) && Object.isFrozen(config.checks[0]))
  const defaults = resolveConfig(undefined)
  t.same(defaults.paths, { liveness: ['/health', '/livez'], readiness: ['/ready', '/readyz'], startup: ['/startup'] })
  t.equal(defaults.checkTimeoutMs, 1000)
  t.equal(defaults.checkIntervalMs, 2000)
  t.equal(defaults.startup, 'listen')
  t.same(defaults.pressure, { maxEventLoopDelayMs: 1000, maxEventLoopUtilization: 0, maxHeapUsedBytes: 0, maxRssBytes: 0, sampleIntervalMs: 1000, retryAfterSeconds: 10, readiness: 'warn' })
  t.equal(resolveConfig({ pressure: false }).pressure, false)
  t.match(resolveConfig({ pressure: { maxEventLoopDelayMs: false, maxRssBytes: 1e9 } }).pressure, { maxEventLoopDelayMs: 0, maxRssBytes: 1e9 })
  t.match(resolveConfig({ pressure: { sampleIntervalMs: 50, maxEventLoopDelayMs: 50 } }).pressure, { sampleIntervalMs: 50, maxEventLoopDelayMs: 50 }, 'a limit as long as the window')
  t.match(resolveConfig({ pressure: { sampleIntervalMs: 200, maxEventLoopDelayMs: false } }).pressure, { sampleIntervalMs: 200, maxEventLoopDelayMs: 0 }, 'no delay limit, any window')
  t.equal(resolveConfig({ logLevel: 'warn', prefix: '' }).startup, 'listen', "Fastify's own register options are not rejected")
  t.equal(resolveConfig({ checks: Object.assign(Object.create(null) as object, { db: ok }) }).checks[0]?.name, 'db')
})

t.test('an app that registered @fastify/under-pressure itself must choose', async (t) => {
  const app = Fastify()
  await app.register(underPressure, {})
  app.register(zeroDowntime, {})
  await t.rejects(async () => { await app.ready() }, { code: 'FST_ZD_PRESSURE_CONFLICT', message: /already registered.*"pressure: false"/ })
})

t.test('docs/probes.md lists the defaults that DEFAULTS holds', async (t) => {
  const { readFile } = await import('node:fs/promises')
  const docs = await readFile(new URL('../docs/probes.md', import.meta.url), 'utf8')
  const documented = new Map([...docs.matchAll(/^\| `([\w.]+)` \| `([^`]+)` \|/gm)].map((m) => [m[1], m[2]]))
  const expected: Array<[string, unknown]> = [
    ['checkTimeoutMs', DEFAULTS.checkTimeoutMs],
    ['checkIntervalMs', DEFAULTS.checkIntervalMs],
    ['startup', DEFAULTS.startup],
    ['logProbes', DEFAULTS.logProbes],
    ...Object.entries(DEFAULTS.paths).map(([k, v]): [string, unknown] => [`paths.${k}`, v]),
    ...Object.entries(DEFAULTS.pressure).map(([k, v]): [string, unknown] => [`pressure.${k}`, v])
  ]
  for (const [option, value] of expected) t.equal(documented.get(option), JSON.stringify(value), option)
})
