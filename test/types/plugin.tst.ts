// Type tests (tstyche): what a TypeScript user may and may not write. Run by
// `npm run test:types` (part of `npm test`), not by tap.
import Fastify, { type FastifyRequest } from 'fastify'
import { describe, expect, test } from 'tstyche'
import zeroDowntime, {
  amqpCheck, listen, pgCheck, redisCheck,
  type CheckResult, type CheckSpec, type CleanupResult, type CutRequest, type DrainConfig, type DrainReport,
  type LifecycleState, type ListenHandle, type ResolvedCheck, type ResolvedConfig, type ZeroDowntime, type ZeroDowntimeOptions
} from 'fastify-zero-downtime'

const app = Fastify()

describe('options', () => {
  test('every documented option is accepted', () => {
    expect(app.register).type.toBeCallableWith(zeroDowntime, {
      checks: { db: () => true, cache: { check: async () => ({ status: 'warn' as const, output: 'slow' }), critical: false, timeoutMs: 500 } },
      checkTimeoutMs: 1000,
      checkIntervalMs: 2000,
      paths: { liveness: '/health', readiness: ['/ready'], startup: '/startup' },
      startup: 'manual',
      logProbes: false,
      pressure: { maxEventLoopDelayMs: false, readiness: 'fail' },
      drain: { delayMs: 0, requestTimeoutMs: 10000, idleCloseMs: 5000, gracePeriodMs: 30000 },
      probeDetail: (request: FastifyRequest) => request.ip === '127.0.0.1'
    })
    expect(app.register).type.toBeCallableWith(zeroDowntime, { checks: [{ name: 'db', check: () => {} }] })
    expect(app.register).type.toBeCallableWith(zeroDowntime, { pressure: false, metrics: false })
  })

  test('a misspelled option does not compile', () => {
    expect<ZeroDowntimeOptions>().type.not.toBeAssignableFrom({ chekcs: {} })
    expect<ZeroDowntimeOptions>().type.not.toBeAssignableFrom({ drain: { delay: 5 } })
    expect<ZeroDowntimeOptions>().type.not.toBeAssignableFrom({ pressure: { maxEventLoopDelay: 100 } })
    expect(app.register).type.not.toBeCallableWith(zeroDowntime, { chekcs: {} })
  })

  test('a value of the wrong kind does not compile', () => {
    expect<ZeroDowntimeOptions>().type.not.toBeAssignableFrom({ startup: 'auto' })
    expect<ZeroDowntimeOptions>().type.not.toBeAssignableFrom({ checkTimeoutMs: '1s' })
    expect<ZeroDowntimeOptions>().type.not.toBeAssignableFrom({ pressure: true })
    expect<ZeroDowntimeOptions>().type.not.toBeAssignableFrom({ checks: { db: 'SELECT 1' } })
  })
})

describe('the decorator', () => {
  test('app.zeroDowntime is the handle', () => {
    expect(app.zeroDowntime).type.toBe<ZeroDowntime>()
    expect(app.zeroDowntime.state).type.toBe<LifecycleState>()
    expect(app.zeroDowntime.ready).type.toBe<boolean>()
    expect(app.zeroDowntime.checks).type.toBe<readonly CheckResult[]>()
    expect(app.zeroDowntime.config).type.toBe<ResolvedConfig>()
    expect(app.zeroDowntime.config.drain).type.toBe<DrainConfig>()
    expect(app.zeroDowntime.config.checks).type.toBe<readonly ResolvedCheck[]>()
  })

  test('the drain and its report', () => {
    expect(app.zeroDowntime.drain()).type.toBe<Promise<DrainReport>>()
    expect(app.zeroDowntime.drain).type.toBeCallableWith('deploy', { delayMs: 0 })
    expect<DrainReport['cut']>().type.toBe<readonly CutRequest[]>()
    expect<DrainReport['cleanup']>().type.toBe<readonly CleanupResult[]>()
    expect(app.zeroDowntime.addCleanup).type.toBeCallableWith('databases', 'pg', async () => {}, 2000)
    expect(app.zeroDowntime.addCleanup).type.not.toBeCallableWith('database', 'pg', async () => {})
    expect(app.zeroDowntime.onGoAway(() => {})).type.toBe<() => void>()
  })

  test('events are typed by name, and only listening is offered', () => {
    app.zeroDowntime.on('state', (state, previous) => {
      expect(state).type.toBe<LifecycleState>()
      expect(previous).type.toBe<LifecycleState>()
    })
    app.zeroDowntime.once('check', (result) => {
      expect(result).type.toBe<CheckResult>()
    })
    expect(app.zeroDowntime.on).type.not.toBeCallableWith('stat', () => {})
    expect(app.zeroDowntime).type.not.toHaveProperty('emit')
    expect(app.zeroDowntime).type.not.toHaveProperty('lifecycle')
    expect(app.zeroDowntime).type.not.toHaveProperty('abort')
  })

  test('listen() returns a handle', () => {
    expect(listen(app, { port: 0 })).type.toBe<Promise<ListenHandle>>()
    expect(listen).type.not.toBeCallableWith(app, { exit: 'now' })
  })
})

describe('check helpers', () => {
  const pool = { query: async (_: { text: string, query_timeout?: number }) => ({ rows: [] }) }
  const redis = { ping: async () => 'PONG', status: 'ready' }
  const amqp = { createChannel: async () => ({ close: async () => {} }) }

  test('each returns a CheckSpec usable in checks', () => {
    expect(pgCheck(pool)).type.toBe<CheckSpec>()
    expect(redisCheck(() => redis, { critical: false })).type.toBe<CheckSpec>()
    expect(amqpCheck(amqp, { timeoutMs: 500 })).type.toBe<CheckSpec>()
    expect(app.register).type.toBeCallableWith(zeroDowntime, { checks: { db: pgCheck(pool), cache: redisCheck(redis) } })
  })

  test('they take a client of the right shape and only known overrides', () => {
    expect(pgCheck).type.not.toBeCallableWith('postgres://localhost/app')
    expect(redisCheck).type.not.toBeCallableWith({ get: async () => null })
    expect(pgCheck).type.not.toBeCallableWith(pool, { retries: 3 })
    expect(amqpCheck).type.not.toBeCallableWith(amqp, { check: () => true })
  })
})
