// Seeded fuzzing (fast-check) of what a check may throw or return and of every
// option value: no crash, no unhandled rejection, no secret in any output
// (descriptions, probe bodies, logs), and every option either resolves within
// its bounds or is refused with our TypeError. A failure prints the seed and
// the shrunk case; re-run with FUZZ_SEED to reproduce.
import t from 'tap'
import fc from 'fast-check'
import Fastify, { type FastifyBaseLogger } from 'fastify'
import zeroDowntime, { errorCodes } from '../src/index.js'
import { resolveConfig } from '../src/plugin-options.js'
import { resolveDrainConfig } from '../src/drain/index.js'
import { CleanupRegistry } from '../src/drain/cleanup.js'
import { readiness } from '../src/health/report.js'
import { CheckRunner } from '../src/health/runner.js'
import { describeError, MAX_OUTPUT } from '../src/scrub.js'
import type { CheckFunction } from '../src/health/types.js'
import { MAX_TIMER_MS } from '../src/options.js'
import { recordUnhandledRejections } from './helpers/probe.js'

const unhandled = recordUnhandledRejections()
const SEED = Number(process.env.FUZZ_SEED ?? 20261127)
const MARKER = 'Zq7S3CR'

// --- secrets in the shapes drivers and apps put them in ---------------------
const secret = fc.stringMatching(/^[A-Za-z0-9._~-]{4,24}$/).map((s) => `${MARKER}${s}`)
const host = fc.constantFrom('db', 'db.internal', '10.0.0.7', 'cache:6379', '[::1]:5432')
const user = fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/)
const shape: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.constantFrom('postgres', 'redis', 'amqp', 'mongodb+srv', 'https'), user, secret, host).map(([scheme, u, s, h]) => `${scheme}://${u}:${s}@${h}/app`),
  fc.tuple(user, secret, host).map(([u, s, h]) => encodeURIComponent(`postgres://${u}:${s}@${h}/app`)),
  fc.tuple(user, secret, host).map(([u, s, h]) => `${u}:${s}@${h}`),
  fc.tuple(fc.constantFrom('DB_PASSWORD', 'PGPASSWORD', 'password', 'client_secret', 'API_TOKEN', 'x-api-key', 'AWS_SECRET_ACCESS_KEY', 'session'), fc.constantFrom('=', ': ', ' = '), secret).map(([k, sep, s]) => `${k}${sep}${s}`),
  fc.tuple(fc.constantFrom('password', 'token', 'apiKey', 'secret'), secret).map(([k, s]) => JSON.stringify({ user: 'app', [k]: s })),
  fc.tuple(fc.constantFrom('Authorization: Bearer ', 'Authorization: Basic ', 'Proxy-Authorization: Token ', 'Cookie: sid=', 'Bearer '), secret).map(([p, s]) => `${p}${s}`),
  secret.map((s) => `eyJhbGciOiJIUzI1NiJ9.eyJ${s.replace(/[.~]/g, '_')}.sig`),
  secret.map((s) => `GET /reset?token=${s}&x=1`),
  fc.tuple(fc.constantFrom('pass', 'pw', 'PASS', 'DB_PASS', 'redis.pw', 'dbPass', '--pass', '"pass"'), fc.constantFrom('=', ': ', ':'), secret).map(([k, sep, s]) => `${k}${sep}${s}`),
  fc.tuple(fc.constantFrom('--password', '--pass', '-storepass', '-pw', '--api-key', '--token'), secret).map(([f, s]) => `${f} ${s}`),
  secret.map((s) => `mysql -u app -p${s}`),
  fc.tuple(fc.constantFrom('RSA ', 'EC ', 'OPENSSH ', 'ENCRYPTED ', ''), secret, fc.boolean()).map(([kind, s, ended]) =>
    `-----BEGIN ${kind}PRIVATE KEY-----\nMII${s}\n${s}${ended ? `\n-----END ${kind}PRIVATE KEY-----` : ''}`),
  secret.map((s) => JSON.stringify(JSON.stringify({ user: 'app', password: s })))
)
// Noise: what else an error message says, as separate words.
const noise = fc.string({ maxLength: 30 }).map((s) => s.replace(/\s/g, '_'))
const message: fc.Arbitrary<string> = fc.array(fc.oneof({ weight: 2, arbitrary: noise }, { weight: 1, arbitrary: shape }), { minLength: 1, maxLength: 8 })
  .chain((words) => fc.nat({ max: 300 }).map((repeat) => {
    const text = words.join(' ')
    // Now and then a huge one, past the scrubbed prefix.
    return repeat > 290 ? `${text} ${'a.'.repeat(50000)} ${text}` : text
  }))

// --- whatever a check may throw --------------------------------------------
// Generated as recipes, built inside each run: fast-check inspects the values it
// generates, and a Proxy with throwing traps would throw at fast-check itself.
type Thrown = () => unknown
const throwingTraps = { get () { throw new Error('trap') }, getPrototypeOf () { throw new Error('trap') }, ownKeys () { throw new Error('trap') }, has () { throw new Error('trap') } }
const anything = fc.anything({ withNullPrototype: true, withBigInt: true, withBoxedValues: true, withMap: true, withSet: true, withObjectString: true, maxDepth: 2 })
const thrown: fc.Arbitrary<Thrown> = fc.letrec<{ value: Thrown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    message.map((m) => () => m),
    message.map((m) => () => new Error(m)),
    message.map((m) => () => new TypeError(m)),
    fc.tuple(message, fc.constantFrom('ECONNREFUSED', 'ETIMEDOUT', 42)).map(([m, code]) => () => Object.assign(new Error(m), { code })),
    fc.array(tie('value'), { maxLength: 4 }).map((errors) => () => {
      const agg = new AggregateError(errors.map((e) => e()), '')
      ;(agg.errors as unknown[]).push(agg)
      return agg
    }),
    fc.tuple(message, tie('value')).map(([m, cause]) => () => new Error(m, { cause: cause() })),
    anything.map((value) => () => {
      const err = new Error('x')
      Object.defineProperty(err, 'message', { value })
      return err
    }),
    message.map((m) => () => {
      const err = new Error(m)
      Object.defineProperty(err, 'message', { get () { throw new Error(m) } })
      return err
    }),
    tie('value').map((inner) => () => {
      const target = inner()
      return new Proxy(typeof target === 'object' && target !== null ? target : {}, throwingTraps)
    }),
    anything.map((value) => () => value),
    message.map((m) => () => Symbol(m)),
    message.map((m) => () => ({ message: m, [Symbol.toPrimitive] () { throw new Error('no') } }))
  )
})).value

function leaks (text: string): boolean {
  return text.includes(MARKER.slice(0, 4))
}

t.test('describeError: thousands of thrown values, no crash, bounded one-line output, no secret', async (t) => {
  fc.assert(fc.property(thrown, (make) => {
    const out = describeError(make())
    // eslint-disable-next-line no-control-regex
    return typeof out === 'string' && out.length <= MAX_OUTPUT && !/[\u0000-\u001f]/.test(out) && !leaks(out)
  }), { seed: SEED, numRuns: 3000 })
  t.pass('3000 generated values')
})

const silent = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {}, fatal: () => {}, trace: () => {}, child: () => silent, level: 'info', silent: () => {} } as unknown as FastifyBaseLogger

t.test('the runner and the probe body: every thrown or returned value is a failed (or valid) check, never a timeout, no secret', async (t) => {
  const returned: fc.Arbitrary<Thrown> = fc.oneof(thrown, fc.record({ status: fc.constantFrom('pass', 'warn', 'fail', 'ok'), output: fc.oneof(message, fc.anything()) }).map((r) => () => r))
  const mode = fc.constantFrom('throws', 'rejects', 'returns', 'resolves')
  await fc.assert(fc.asyncProperty(mode, returned, async (how, make) => {
    const value = make()
    const check: CheckFunction = how === 'throws'
      ? () => { throw value }
      : how === 'rejects' ? async () => { throw value } : how === 'returns' ? () => value as never : async () => value as never
    const logged: unknown[] = []
    const log = { info: (o: object, m: string) => { logged.push(o, m) }, warn: (o: object, m: string) => { logged.push(o, m) } }
    const config = resolveConfig({ checks: { fuzz: check }, checkTimeoutMs: 1000 })
    const runner = new CheckRunner(config.checks, log)
    await runner.start()
    runner.stop()
    const [result] = runner.results
    const body = JSON.stringify(readiness({ lifecycle: 'ready', terminating: false, checks: runner.checks, results: runner.results, pressure: [] }, { verbose: true, exclude: new Set() }).body)
    const out = result?.output ?? ''
    if (/timed out/.test(out) || leaks(body) || leaks(JSON.stringify(logged))) return false
    return how === 'throws' || how === 'rejects' ? result?.status === 'fail' && out !== '' : true
  }), { seed: SEED, numRuns: 400 })
  t.same(unhandled, [], 'no unhandled rejection')
})

t.test('through a real app: probe bodies and logs stay clean', async (t) => {
  await fc.assert(fc.asyncProperty(fc.array(thrown, { minLength: 1, maxLength: 4 }), async (values) => {
    const lines: string[] = []
    const app = Fastify({ logger: { level: 'info', stream: { write: (l: string) => { lines.push(l) } } } })
    const checks: Record<string, CheckFunction> = {}
    values.forEach((make, i) => { checks[`c${i}`] = async () => { throw make() } })
    await app.register(zeroDowntime, { checks, pressure: false })
    await app.ready()
    const bodies = await Promise.all(['/ready?verbose', '/health?verbose', '/ready/c0?verbose'].map(async (url) => (await app.inject(url)).body))
    await app.close()
    return !leaks(bodies.join('') + lines.join(''))
  }), { seed: SEED, numRuns: 60 })
  t.same(unhandled, [])
})

// --- option values -----------------------------------------------------------
const number = fc.oneof(fc.double(), fc.integer(), fc.nat({ max: 100000 }), fc.constantFrom(0, -0, 1, 0.5, MAX_TIMER_MS, MAX_TIMER_MS + 1, 3e9, 1e300, NaN, Infinity, -Infinity, 2147483, 2147484))
const anyValue = fc.oneof({ weight: 4, arbitrary: number }, fc.string({ maxLength: 12 }), fc.boolean(), fc.constant(undefined), fc.constant(null), fc.bigInt(), fc.anything({ maxDepth: 1 }))
const OPTION_PATHS = [
  'checkTimeoutMs', 'checkIntervalMs', 'startup', 'logProbes', 'prefix',
  'pressure', 'pressure.maxEventLoopDelayMs', 'pressure.maxEventLoopUtilization', 'pressure.maxHeapUsedBytes', 'pressure.maxRssBytes', 'pressure.sampleIntervalMs', 'pressure.retryAfterSeconds', 'pressure.readiness',
  'paths', 'paths.liveness', 'paths.readiness',
  'drain', 'drain.delayMs', 'drain.requestTimeoutMs', 'drain.cleanupTimeoutMs', 'drain.marginMs', 'drain.idleCloseMs', 'drain.gracePeriodMs', 'drain.preStopSleepMs'
]
const options = fc.array(fc.tuple(fc.constantFrom(...OPTION_PATHS), anyValue), { maxLength: 5 }).map((entries) => {
  const opts: Record<string, unknown> = {}
  for (const [path, value] of entries) {
    const [head, key] = path.split('.') as [string, string | undefined]
    if (key === undefined) opts[head] = value
    else opts[head] = { ...(typeof opts[head] === 'object' && opts[head] !== null ? opts[head] : {}), [key]: value }
  }
  return opts
})
const envSeconds = fc.oneof(fc.string({ maxLength: 12 }), fc.stringMatching(/^\d{1,10}(\.\d{1,4})?$/), fc.constantFrom('1e9', '0x1E', '30', ' 30 ', '0', '-1', 'Infinity', '2147483', '2147484', '0.8'))

function ours (err: unknown): boolean {
  // Our errors carry one of the documented codes (docs/errors.md).
  return err instanceof Error && /^fastify-zero-downtime: /.test(err.message) && err.message.length < 1000 &&
    Object.hasOwn(errorCodes, (err as { code?: unknown }).code as string)
}

function numbersWithin (value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 && value <= Number.MAX_SAFE_INTEGER
  if (typeof value !== 'object' || value === null) return true
  return Object.values(value).every(numbersWithin)
}

t.test('option values and environment: resolved within bounds, or refused with our error', async (t) => {
  fc.assert(fc.property(options, envSeconds, envSeconds, (opts, grace, preStop) => {
    try {
      const config = resolveConfig(opts)
      if (!Object.isFrozen(config) || config.checkTimeoutMs > MAX_TIMER_MS || config.checkIntervalMs > MAX_TIMER_MS || !numbersWithin({ ...config, checks: [] })) return false
    } catch (err) {
      if (!ours(err)) throw err
    }
    try {
      const drain = resolveDrainConfig(opts.drain, { TERMINATION_GRACE_PERIOD_SECONDS: grace, PRESTOP_SLEEP_SECONDS: preStop })
      const timers = [drain.delayMs, drain.idleCloseMs, drain.cleanupTimeoutMs, drain.httpDeadlineMs, drain.gracePeriodMs]
      return Object.isFrozen(drain) && timers.every((ms) => Number.isFinite(ms) && ms >= 0 && ms <= MAX_TIMER_MS)
    } catch (err) {
      if (!ours(err)) throw err
      return true
    }
  }), { seed: SEED, numRuns: 3000 })
  t.pass('3000 generated option sets')
})

t.test('addCleanup timeouts: a number a timer can hold, or our TypeError', async (t) => {
  const registry = new CleanupRegistry(silent, 1000)
  fc.assert(fc.property(anyValue, (timeoutMs) => {
    try {
      registry.add('other', 'fuzz', () => {}, timeoutMs as number)
      return timeoutMs === undefined || (typeof timeoutMs === 'number' && timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS)
    } catch (err) {
      return err instanceof TypeError && ours(err)
    }
  }), { seed: SEED, numRuns: 1000 })
  t.pass('1000 generated timeouts')
})

t.test('options given as a function returning anything: registers or fails with our error', async (t) => {
  await fc.assert(fc.asyncProperty(fc.oneof(options, anyValue), async (result) => {
    const app = Fastify()
    app.register(zeroDowntime, (() => result) as never)
    try {
      await app.ready()
      return true
    } catch (err) {
      return ours(err)
    } finally {
      await app.close().catch(() => {})
    }
  }), { seed: SEED, numRuns: 150 })
  t.same(unhandled, [])
})
