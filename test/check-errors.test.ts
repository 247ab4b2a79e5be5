// Whatever a check throws, the plugin's own error formatting cannot throw: the
// check is reported as failed with a text naming what it threw, never as
// "timed out", and nothing becomes an unhandled rejection.
import t from 'tap'
import Fastify from 'fastify'
import zeroDowntime, { type CheckFunction } from '../src/index.js'
import { describeError, MAX_OUTPUT } from '../src/scrub.js'
import { recordUnhandledRejections } from './helpers/probe.js'

const unhandled = recordUnhandledRejections()

function withMessage (message: unknown): Error {
  const err = new Error('placeholder')
  Object.defineProperty(err, 'message', { value: message })
  return err
}

const cyclic = new AggregateError([], '')
;(cyclic.errors as unknown[]).push(cyclic, new Error('connect ECONNREFUSED 127.0.0.1:5432'))
const alone = new AggregateError([], '')
;(alone.errors as unknown[]).push(alone)
const getterThrows = new Error('x')
Object.defineProperty(getterThrows, 'message', { get () { throw new Error('message getter') } })
const nameThrows = new Error('name getter failed')
Object.defineProperty(nameThrows, 'name', { get () { throw new Error('name getter') } })
const traps = { get () { throw new Error('trap') }, getPrototypeOf () { throw new Error('trap') }, has () { throw new Error('trap') }, ownKeys () { throw new Error('trap') } }
const revocable = Proxy.revocable({}, {})
revocable.revoke()
const nullProto = Object.assign(Object.create(null) as object, { reason: 'no toString, no valueOf' })
const deepCause = new Error('level 0', { cause: new Error('level 1', { cause: new Error('level 2', { cause: new Error('level 3', { cause: new Error('level 4') }) }) }) })
const circularCause = new Error('outer')
;(circularCause as { cause?: unknown }).cause = circularCause
class Odd extends Array { override slice (): never { throw new Error('odd array') } }
const oddErrors = new AggregateError([], '')
Object.defineProperty(oddErrors, 'errors', { value: Odd.from([new Error('inner')]) })

// [name, what it throws (or rejects with), expected output]
const cases: Array<[string, () => unknown, string | RegExp]> = [
  ['message-is-a-number', () => withMessage(42), 'Error with a non-string message (number 42)'],
  ['message-is-an-object', () => withMessage({ toString () { throw new Error('no') } }), 'Error with a non-string message (an object)'],
  ['cyclic-aggregate', () => cyclic, 'connect ECONNREFUSED 127.0.0.1:5432'],
  ['aggregate-of-itself', () => alone, 'AggregateError'],
  ['message-getter-throws', () => getterThrows, 'Error whose message could not be read'],
  ['name-getter-throws', () => nameThrows, 'name getter failed'],
  ['proxy-with-throwing-traps', () => new Proxy(new Error('hidden'), traps), 'threw a Proxy (not inspected)'],
  ['revoked-proxy', () => revocable.proxy, 'threw a Proxy (not inspected)'],
  ['proxy-in-the-prototype-chain', () => Object.create(new Proxy({}, traps)) as object, 'threw a non-Error value (object whose message could not be read)'],
  ['symbol', () => Symbol('a symbol'), 'threw a non-Error value (symbol a symbol)'],
  ['symbol-without-description', () => Symbol(), 'threw a non-Error value (symbol )'], // eslint-disable-line symbol-description -- the case under test
  ['aggregate-with-a-message', () => new AggregateError([new Error('connect ECONNREFUSED ::1:5432'), new Error('connect ECONNREFUSED 127.0.0.1:5432')], 'every address refused'), 'every address refused: connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432'],
  ['null-prototype-object', () => nullProto, 'threw a non-Error value (an object)'],
  ['plain-object-with-message', () => ({ message: 'a plain object' }), 'a plain object'],
  ['number', () => 42, 'threw a non-Error value (number 42)'],
  ['bigint', () => 42n, 'threw a non-Error value (bigint 42n)'],
  ['undefined', () => undefined, 'threw a non-Error value (undefined)'],
  ['function', () => () => {}, 'threw a non-Error value (a function)'],
  ['huge-string', () => 'x'.repeat(5_000_000), /^x{299}…$/],
  ['huge-message', () => new Error('y'.repeat(5_000_000)), /^y{299}…$/],
  ['deep-causes', () => deepCause, 'level 0; cause: level 1; cause: level 2; cause: level 3'],
  ['circular-cause', () => circularCause, 'outer'],
  ['array-subclass-that-throws', () => oddErrors, 'threw a value that could not be described'],
  ['fetch-failed', () => new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 10.0.0.9:9200'), { code: 'ECONNREFUSED' }) }), 'fetch failed; cause: connect ECONNREFUSED 10.0.0.9:9200'],
  ['multi-line', () => new Error('first line\nsecond line'), 'first line second line']
]

t.test('describeError names what was thrown and never throws', async (t) => {
  for (const [name, thrown, expected] of cases) {
    const text = describeError(thrown())
    t.ok(text.length <= MAX_OUTPUT, `${name}: bounded`)
    if (typeof expected === 'string') t.equal(text, expected, name)
    else t.match(text, expected, name)
  }
})

t.test('through the plugin: each such check fails with that text, never "timed out", nothing unhandled', async (t) => {
  const checks: Record<string, CheckFunction> = {}
  for (const [name, thrown] of cases) {
    // Half of them throw synchronously, half reject.
    checks[name] = name.length % 2 === 0 ? () => { throw thrown() } : async () => { throw thrown() }
  }
  // A long timeout: a formatting failure would leave the run hanging and show as "timed out".
  const app = Fastify()
  await app.register(zeroDowntime, { checks, checkTimeoutMs: 60000, pressure: false })
  await app.ready()
  for (const [name, , expected] of cases) {
    const result = app.zeroDowntime.checks.find((r) => r.name === name)
    t.equal(result?.status, 'fail', `${name} fails`)
    if (typeof expected === 'string') t.equal(result?.output, expected, name)
    else t.match(result?.output, expected, name)
  }
  t.notOk(app.zeroDowntime.checks.some((r) => /timed out/.test(r.output ?? '')), 'none reported as timed out')
  const ready = await app.inject('/ready?verbose')
  t.equal(ready.statusCode, 503)
  t.match(ready.json().checks['message-is-a-number:responseTime'], [{ status: 'fail', output: 'Error with a non-string message (number 42)' }])
  await app.close()
  t.same(unhandled, [], 'no unhandled rejection')
})

t.test('a check that returns a hostile value fails too', async (t) => {
  const app = Fastify()
  await app.register(zeroDowntime, {
    checks: {
      'returns-proxy': () => new Proxy({}, traps) as never,
      'returns-revoked-proxy': () => revocable.proxy as never,
      'returns-thenable-whose-then-throws': () => ({ get then () { throw withMessage(7) } }) as never,
      'returns-huge-output': () => ({ status: 'warn', output: 'a.'.repeat(50000) })
    },
    pressure: false
  })
  await app.ready()
  const [proxy, revoked, thenable, huge] = app.zeroDowntime.checks
  t.same([proxy?.status, proxy?.output], ['fail', 'trap'])
  t.same([revoked?.status, revoked?.output], ['fail', "Cannot perform 'get' on a proxy that has been revoked"])
  t.same([thenable?.status, thenable?.output], ['fail', 'Error with a non-string message (number 7)'])
  t.equal(huge?.status, 'warn')
  t.equal(huge?.output?.length, MAX_OUTPUT)
  await app.close()
  t.same(unhandled, [])
})
