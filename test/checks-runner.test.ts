import t from 'tap'
import Fastify from 'fastify'
import { Writable } from 'node:stream'
import zeroDowntime, { type CheckFunction, type CheckResult } from '../src/index.js'
import { nextResult, probe, recordUnhandledRejections } from './helpers/probe.js'
import { until } from './helpers/wait.js'

const unhandled = recordUnhandledRejections()

function logSink (): { lines: Array<Record<string, unknown>>, stream: Writable } {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done() } })
  return { lines, stream }
}

let rounds = 0
const garbage: Record<string, CheckFunction> = {
  throws: () => { throw new Error('sync boom') },
  rejects: async () => { rounds++; throw new Error('async boom') },
  // Checks written by others throw anything at all, not only Errors.
  /* eslint-disable no-throw-literal */
  'throws-string': () => { throw 'a string' as unknown as Error },
  'throws-null': () => { throw null as unknown as Error },
  'throws-empty-string': () => { throw '' as unknown as Error },
  /* eslint-enable no-throw-literal */
  'throws-long': () => { throw new Error('x'.repeat(1000)) },
  'throws-aggregate': async () => { throw new AggregateError([Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })], '') },
  'throws-code-only': async () => { throw Object.assign(new Error(''), { code: 'ETIMEDOUT' }) },
  'throws-empty': async () => { throw new Error('') },
  'returns-false': () => false,
  'returns-number': () => 42 as never,
  'returns-string': async () => 'ok' as never,
  'returns-null': () => null as never,
  'returns-array': () => [] as never,
  'returns-bad-status': () => ({ status: 'ok' }) as never,
  'returns-bad-output': () => ({ status: 'pass', output: 5 }) as never,
  'throwing-getter': () => ({ get status () { throw new Error('getter boom') } }) as never,
  'leaks-secrets': async () => { throw new Error('connect to postgres://app:hunter2@db:5432/app failed, password=hunter2 token: abc') }
}

t.test('checks that throw, reject or return garbage fail; nothing crashes or goes unhandled', async (t) => {
  const app = Fastify()
  await app.register(zeroDowntime, { checks: garbage, pressure: false, checkIntervalMs: 50 })
  await app.ready()
  const results = new Map(app.zeroDowntime.checks.map((r) => [r.name, r]))
  for (const name of Object.keys(garbage)) {
    t.equal(results.get(name)?.status, 'fail', `${name} fails`)
    t.equal(results.get(name)?.pending, false)
  }
  t.equal(results.get('throws')?.output, 'sync boom')
  t.equal(results.get('rejects')?.output, 'async boom')
  t.equal(results.get('throws-string')?.output, 'a string')
  t.equal(results.get('throws-null')?.output, 'threw a non-Error value (null)')
  t.equal(results.get('throws-empty-string')?.output, 'threw a non-Error value (an empty string)')
  t.equal(results.get('throws-long')?.output?.length, 300, 'long output is cut')
  t.equal(results.get('throws-aggregate')?.output, 'connect ECONNREFUSED 127.0.0.1:1')
  t.equal(results.get('throws-code-only')?.output, 'ETIMEDOUT')
  t.equal(results.get('throws-empty')?.output, 'Error')
  t.equal(results.get('returns-false')?.output, 'check returned false')
  t.match(results.get('returns-number')?.output, /invalid value \(number\)/)
  t.match(results.get('returns-null')?.output, /invalid value \(null\)/)
  t.match(results.get('returns-array')?.output, /invalid value \(an array\)/)
  t.match(results.get('returns-bad-status')?.output, /invalid value \(object\)/)
  t.match(results.get('returns-bad-output')?.output, /invalid value \(object\)/)
  t.equal(results.get('throwing-getter')?.output, 'getter boom')
  const leak = results.get('leaks-secrets')?.output ?? ''
  t.notMatch(leak, /hunter2|app:|abc/, 'credentials and connection strings are scrubbed')
  t.match(leak, /postgres:\/\/\[redacted\]/)
  const ready = await app.inject('/ready?verbose')
  t.equal(ready.statusCode, 503)
  t.notMatch(ready.body, /hunter2/)
  // Let the misbehaving checks run a few more refresh rounds.
  await until(() => rounds >= 4, 'four refresh rounds')
  await app.close()
  t.same(unhandled, [], 'no unhandled rejections')
})

t.test('a check may report warn or fail with an output, or pass with true', async (t) => {
  const app = Fastify()
  await app.register(zeroDowntime, {
    checks: [
      { name: 'warns', check: () => ({ status: 'warn', output: 'replica lag 3 s' }) },
      { name: 'fails', check: () => ({ status: 'fail', output: '' }), critical: false },
      { name: 'true', check: () => true }
    ],
    pressure: false
  })
  await app.ready()
  app.zeroDowntime.started()
  const [warns, fails, ok] = app.zeroDowntime.checks
  t.same([warns?.status, warns?.output], ['warn', 'replica lag 3 s'])
  t.same([fails?.status, fails?.output], ['fail', undefined])
  t.equal(ok?.status, 'pass')
  const ready = await app.inject('/ready')
  t.equal(ready.statusCode, 200, 'a warning and a non-critical failure keep readiness 200')
  t.equal(ready.json().status, 'warn')
  t.equal(ready.json().output, 'warns: replica lag 3 s; fails: fail')
  t.equal((await app.inject('/ready/fails')).statusCode, 503, 'the check itself reports its failure')
  t.equal((await app.inject('/ready/warns')).statusCode, 200)
  await app.close()
})

t.test('a probe answers at once while a check hangs; the hang becomes a failure after its timeout', async (t) => {
  let calls = 0
  let signal: AbortSignal | undefined
  let release: (() => void) | undefined
  let inFlight: () => void = () => {}
  const started = new Promise<void>((resolve) => { inFlight = resolve })
  const app = Fastify()
  await app.register(zeroDowntime, {
    checks: {
      hangs: {
        timeoutMs: 1500,
        intervalMs: 20,
        check: async (ctx) => {
          calls++
          if (calls === 1) return
          signal = ctx.signal
          inFlight()
          await new Promise<void>((resolve) => { release = resolve })
        }
      }
    },
    pressure: false
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  await started
  const timedOut = nextResult(app, 'hangs', 'fail')
  const answer = await probe(app, '/ready')
  t.equal(answer.status, 200, 'the probe answered from the cached result')
  t.equal(app.zeroDowntime.checks[0]?.status, 'pass', 'while the hanging run was still in flight')
  t.equal(signal?.aborted, false)
  const result = await timedOut
  t.equal(result.output, 'timed out after 1500 ms')
  t.equal(signal?.aborted, true, 'the check is told to give up its I/O')
  t.equal((await probe(app, '/ready')).status, 503)
  release?.()
})

t.test('no overlapping runs: a check is rescheduled after its previous run ended', async (t) => {
  let running = 0
  let overlapped = false
  let runs = 0
  const app = Fastify()
  await app.register(zeroDowntime, {
    checks: {
      slow: {
        intervalMs: 5,
        timeoutMs: 1000,
        check: async () => {
          running++
          runs++
          overlapped ||= running > 1
          await new Promise((resolve) => { setTimeout(resolve, 30) })
          running--
        }
      }
    },
    pressure: false
  })
  await app.ready()
  await until(() => runs >= 5, 'five runs')
  await app.close()
  const after = runs
  await new Promise((resolve) => { setTimeout(resolve, 100) })
  t.equal(overlapped, false)
  t.equal(runs, after, 'no run starts after close')
})

t.test('closing aborts a run in flight and stops the refresh', async (t) => {
  let signal: AbortSignal | undefined
  let calls = 0
  const app = Fastify()
  await app.register(zeroDowntime, {
    checks: { hangs: ({ signal: s }) => { if (++calls === 1) return; signal = s; return new Promise(() => {}) } },
    checkTimeoutMs: 60_000,
    checkIntervalMs: 5,
    pressure: false
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  await until(() => signal !== undefined, 'the second run started', { intervalMs: 5 })
  if (signal === undefined) return
  await app.close()
  t.equal(signal.aborted, true)
  t.equal(app.zeroDowntime.checks[0]?.status, 'pass', 'the abandoned run records nothing')
  t.equal(calls, 2)
})

t.test('status changes are logged (scrubbed) and emitted; a throwing listener is logged, not fatal', async (t) => {
  const { lines, stream } = logSink()
  let healthy = false
  const app = Fastify({ logger: { level: 'info', stream } })
  await app.register(zeroDowntime, { checks: { db: () => { if (!healthy) throw new Error('down at redis://:pw@cache:6379') } }, checkIntervalMs: 20, pressure: false })
  const events: Array<[string, string]> = []
  app.zeroDowntime.on('check', (result: CheckResult, previous: CheckResult) => { events.push([previous.pending ? 'pending' : previous.status, result.status]) })
  app.zeroDowntime.once('check', () => { throw new Error('listener bug with postgres://u:s3cret@db/x') })
  // Listening keeps the process alive while we wait: the refresh timers are unref'ed.
  await app.listen({ port: 0, host: '127.0.0.1' })
  const passed = nextResult(app, 'db', 'pass')
  healthy = true
  await passed
  await app.close()
  t.same(events, [['pending', 'fail'], ['fail', 'pass']])
  const warn = lines.find((l) => l.msg === 'health check "db" fails')
  t.equal(warn?.level, 40)
  t.equal(warn?.output, 'down at redis://[redacted]')
  t.ok(lines.find((l) => l.msg === 'health check "db" passes' && l.level === 30))
  const threw = lines.find((l) => l.msg === 'a zeroDowntime "check" listener threw' && l.level === 50)
  t.match(threw, { error: { type: 'Error', message: 'listener bug with postgres://[redacted]', stack: /^Error: listener bug with postgres:\/\/\[redacted\]\n\s+at / } })
  t.notOk(JSON.stringify(threw).includes('s3cret'), 'the listener error is scrubbed, stack included')
})

t.test('no unhandled rejections in the whole file', async (t) => {
  t.same(unhandled, [])
})
