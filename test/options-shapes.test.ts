// Options come in every shape JavaScript has. Plain objects with a null
// prototype, frozen objects, getters and Proxies that behave are accepted
// everywhere options are read; anything else is refused at registration with
// our coded TypeError saying what it got: never a crash, never an unclear
// message, never a hang on a huge list.
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import pg from 'pg'
import { Registry } from 'prom-client'
import zeroDowntime, { pgCheck, redisCheck, amqpCheck, type ZeroDowntimeOptions } from '../src/index.js'
import { resolveConfig } from '../src/plugin-options.js'
import { resolveDrainConfig } from '../src/drain/index.js'
import { sharedUrls } from './helpers/servers.js'

const ok = (): undefined => undefined
const bare = <T extends object>(o: T): T => Object.assign(Object.create(null) as T, o)
const deepFreeze = <T>(o: T): T => {
  if (typeof o === 'object' && o !== null) { Object.values(o).forEach(deepFreeze); Object.freeze(o) }
  return o
}

async function registers (t: Test, opts: unknown, what: string): Promise<void> {
  const app = Fastify()
  await app.register(zeroDowntime, opts as ZeroDowntimeOptions)
  await app.ready()
  t.ok(app.zeroDowntime.config, what)
  await app.close()
}

async function refused (t: Test, opts: unknown, code: string, message: RegExp, what: string): Promise<void> {
  const app = Fastify()
  app.register(zeroDowntime, opts as ZeroDowntimeOptions)
  await t.rejects(async () => { await app.ready() }, { code, message }, what)
  await app.close().catch(() => {})
}

t.test('null-prototype objects are accepted at every level, and by the built-in checks', async (t) => {
  const registry = new Registry()
  const pool = new pg.Pool({ connectionString: sharedUrls.database, max: 1 })
  t.teardown(async () => { await pool.end() })
  await registers(t, bare({
    checks: bare({ a: ok, b: bare({ check: ok, critical: false }), db: pgCheck(pool, bare({ critical: false, timeoutMs: 500 })) }),
    paths: bare({ liveness: '/h' }),
    pressure: bare({ maxEventLoopDelayMs: 500 }),
    drain: bare({ delayMs: 0 }),
    metrics: bare({ registry })
  }), 'null prototypes everywhere')
  await registers(t, { checks: [bare({ name: 'a', check: ok })] }, 'a null-prototype item of the checks array')
  await registers(t, () => bare({ checkIntervalMs: 500 }), 'returned by options given as a function')
  t.equal(redisCheck({ ping: async () => 'PONG' }, bare({ critical: false })).critical, false)
  t.equal(amqpCheck({ checkExchange: async () => ({}) }, Object.freeze(bare({ liveness: true }))).liveness, true)
})

t.test('frozen options, getters that work and well-behaved Proxies are read once and accepted', async (t) => {
  await registers(t, deepFreeze({ checks: { a: { check: ok } }, paths: { readiness: ['/r'] }, pressure: { readiness: 'fail' } }), 'deeply frozen')
  let reads = 0
  const counted = { get checkIntervalMs () { reads++; return 700 } }
  t.equal(resolveConfig(counted).checkIntervalMs, 700)
  t.equal(reads, 1, 'a getter runs once')
  const proxied = new Proxy({ checkIntervalMs: 800, checks: new Proxy({ a: ok }, {}) }, {})
  t.equal(resolveConfig(proxied).checkIntervalMs, 800)
  t.equal(resolveConfig(proxied).checks[0]?.name, 'a')
  const withSymbol = { checkIntervalMs: 900, [Symbol('meta')]: 'left out' }
  t.equal(resolveConfig(withSymbol).checkIntervalMs, 900, 'symbol keys are no options: left out')
})

t.test('a getter or a Proxy trap that throws: our TypeError naming the option', async (t) => {
  const boom = (): never => { throw new Error('boom at postgres://u:s3cret@db') }
  await refused(t, { get checkIntervalMs () { return boom() } }, 'FST_ZD_INVALID_OPTION', /^fastify-zero-downtime: option "checkIntervalMs" could not be read \(a getter or a Proxy trap threw: boom at postgres:\/\/\[redacted\]\)$/, 'a top-level getter')
  await refused(t, { checks: { get db () { return boom() } } }, 'FST_ZD_INVALID_OPTION', /option "checks.db" could not be read/, 'a nested getter')
  await refused(t, { checks: [{ name: 'a', get check () { return boom() } }] }, 'FST_ZD_INVALID_OPTION', /option "checks\[0\].check" could not be read/, 'in an array item')
  await refused(t, new Proxy({}, { ownKeys: boom }), 'FST_ZD_INVALID_OPTION', /option "options" could not be read/, 'a Proxy whose ownKeys throws')
  await refused(t, { paths: new Proxy({ liveness: '/h' }, { get: boom }) }, 'FST_ZD_INVALID_OPTION', /option "paths.liveness" could not be read/, 'a Proxy whose get throws')
  await refused(t, { pressure: new Proxy({}, { getPrototypeOf: boom }) }, 'FST_ZD_INVALID_OPTION', /option "pressure" must be false or an object of load-shedding limits, got a Proxy$/, 'a Proxy whose getPrototypeOf throws')
  t.throws(() => pgCheck({ query: async () => {} }, { get critical () { return boom() } }), { code: 'FST_ZD_INVALID_OPTION', message: /option "pgCheck\(\) overrides.critical" could not be read/ })
  // Not a Proxy itself, so the message looks at its prototype, and survives what that throws.
  await refused(t, Object.create(new Proxy({}, { getOwnPropertyDescriptor: boom })), 'FST_ZD_INVALID_OPTION', /option "options" must be an object .*, got an object with a custom prototype$/, 'a prototype that is a Proxy whose getOwnPropertyDescriptor throws')
  await refused(t, { paths: Object.create(Object.defineProperty({}, 'constructor', { get: boom })) }, 'FST_ZD_INVALID_OPTION', /option "paths" must be an object .*, got an object with a custom prototype$/, 'a prototype whose constructor getter throws')
})

t.test('not a plain object: refused, saying what it is', async (t) => {
  class Opts { checkIntervalMs = 500 }
  const cases: Array<[unknown, string]> = [
    [new Opts(), 'an instance of Opts'], [new Map([['checkIntervalMs', 500]]), 'a Map'], [new Set(), 'a Set'], [new Date(0), 'a Date'],
    [/x/, 'a RegExp'], [Promise.resolve({}), 'a Promise'], [Object.create({ checkIntervalMs: 500 }), 'an object with a custom prototype'],
    [new Error('x'), 'an instance of Error'], [Object(1), 'a boxed primitive'], [new Proxy(new Opts(), {}), 'a Proxy']
  ]
  for (const [opts, shown] of cases) {
    await refused(t, opts, 'FST_ZD_INVALID_OPTION', new RegExp(`option "options" must be an object \\(options given as a function must return one\\), got ${shown}$`), shown)
    await refused(t, { paths: opts }, 'FST_ZD_INVALID_OPTION', new RegExp(`option "paths" must be an object .*, got ${shown}$`), `paths: ${shown}`)
  }
  t.throws(() => pgCheck({ query: async () => {} }, 'critical' as never), { code: 'FST_ZD_INVALID_ARGUMENT', message: /pgCheck\(\) overrides must be an object \{ critical\?, liveness\?, timeoutMs\?, intervalMs\?, componentType\? \}, got "critical"$/ })
  t.throws(() => redisCheck({ ping: async () => 'PONG' }, new Map() as never), { code: 'FST_ZD_INVALID_ARGUMENT', message: /redisCheck\(\) overrides must be an object .*got a Map$/ })
})

t.test('a secret given to the wrong option, or as a key, is quoted scrubbed: the TypeError ends up in a crash log', async (t) => {
  await refused(t, { checkIntervalMs: 'postgres://app:s3cret@db/app' }, 'FST_ZD_INVALID_OPTION', /option "checkIntervalMs" must be .*, got "postgres:\/\/\[redacted\]"$/, 'a connection string as a number')
  await refused(t, { startup: 'Authorization: Bearer s3cret' }, 'FST_ZD_INVALID_OPTION', /got "Authorization: \[redacted\]"$/, 'a header as an enum')
  await refused(t, { 'password=s3cret': 1 }, 'FST_ZD_UNKNOWN_OPTION', /unknown option "password=\[redacted\]"/, 'an unknown key')
  await refused(t, { checks: { 'redis://:s3cret@cache': () => true } }, 'FST_ZD_INVALID_OPTION', /option "checks.redis:\/\/\[redacted\]" must be named .*, got "redis:\/\/\[redacted\]"$/, 'a check named by its URL')
  t.throws(() => resolveDrainConfig({}, { TERMINATION_GRACE_PERIOD_SECONDS: 'PGPASSWORD=s3cret' }), { code: 'FST_ZD_INVALID_ENV', message: /got "PGPASSWORD=\[redacted\]"$/ }, 'an environment variable')
})

t.test('__proto__ as a key is a key: refused as unknown, never followed as a prototype', async (t) => {
  await refused(t, JSON.parse('{"__proto__": {"checkIntervalMs": 5}}'), 'FST_ZD_UNKNOWN_OPTION', /unknown option "__proto__"/, 'an own __proto__ key')
  await refused(t, { checks: JSON.parse('{"__proto__": {"check": 1}}') }, 'FST_ZD_INVALID_OPTION', /option "checks.__proto__" must be named/, 'a check named __proto__')
  await refused(t, { pressure: JSON.parse('{"__proto__": {}, "readiness": "fail"}') }, 'FST_ZD_UNKNOWN_OPTION', /unknown option "pressure.__proto__"/, 'nested')
  const inherited = { __proto__: { checkIntervalMs: 5 } }
  await refused(t, inherited, 'FST_ZD_INVALID_OPTION', /got an object with a custom prototype$/, 'a literal __proto__ sets the prototype: refused')
})

t.test('huge lists are refused by their size alone, at once', async (t) => {
  const paths = Array.from({ length: 100_000 }, (_, i) => `/p${i}`)
  await refused(t, { paths: { liveness: paths } }, 'FST_ZD_INVALID_OPTION', /^fastify-zero-downtime: option "paths.liveness" must list at most 16 paths, got 100000$/, '100 000 paths')
  await refused(t, { paths: { readiness: new Array(2 ** 32 - 1) } }, 'FST_ZD_INVALID_OPTION', /option "paths.readiness" must list at most 16 paths, got 4294967295$/, 'a sparse array of the largest length')
  await refused(t, { checks: Array.from({ length: 101 }, (_, i) => ({ name: `c${i}`, check: ok })) }, 'FST_ZD_INVALID_OPTION', /option "checks" must hold at most 100 checks, got 101$/, '101 checks')
  await refused(t, { checks: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`c${i}`, ok])) }, 'FST_ZD_INVALID_OPTION', /got 5000$/, '5000 named checks')
  await registers(t, { paths: { liveness: Array.from({ length: 16 }, (_, i) => `/l${i}`) }, checks: Array.from({ length: 100 }, (_, i) => ({ name: `c${i}`, check: ok })) }, '16 paths and 100 checks')
})
