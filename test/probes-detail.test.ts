// Probe detail (?verbose, a check's error text) and ?exclude are for trusted
// callers only: loopback by default, or whoever `probeDetail` accepts. Anyone
// else gets the status and nothing more, and their parameters are ignored.
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import zeroDowntime, { fromLoopback, isLoopbackAddress, type ZeroDowntimeOptions } from '../src/index.js'

const SECRET = 'connect ECONNREFUSED 10.20.30.40:5432 (orders-primary)'

async function build (opts: ZeroDowntimeOptions = {}, fastifyOpts = {}): Promise<FastifyInstance> {
  const app = Fastify(fastifyOpts)
  await app.register(zeroDowntime, {
    pressure: false,
    startup: 'manual',
    checks: {
      db: () => { throw new Error(SECRET) },
      cache: () => true
    },
    ...opts
  })
  await app.ready()
  app.zeroDowntime.started()
  t.teardown(async () => { await app.close() })
  return app
}

const LOOPBACK = ['127.0.0.1', '127.9.8.7', '::1', '::ffff:127.0.0.1', '::ffff:127.0.0.6']
const OUTSIDE = ['10.0.0.7', '192.168.1.20', '::ffff:10.1.2.3', '2001:db8::1', '128.0.0.1', 'fe80::1', '::']

t.test('isLoopbackAddress: 127.0.0.0/8, ::1 and IPv4-mapped 127.x only', async (t) => {
  for (const a of LOOPBACK) t.ok(isLoopbackAddress(a), a)
  for (const a of [...OUTSIDE, undefined, '', 'localhost', '127.0.0.1.evil', '::ffff:128.0.0.1', '0.0.0.0']) t.notOk(isLoopbackAddress(a), String(a))
})

t.test('from loopback: ?verbose shows every check with its error text, ?exclude is honoured', async (t) => {
  const app = await build()
  for (const remoteAddress of LOOPBACK) {
    const verbose = await app.inject({ url: '/ready?verbose', remoteAddress })
    t.equal(verbose.statusCode, 503, remoteAddress)
    const body = verbose.json()
    t.match(body, { status: 'fail', output: `db: ${SECRET}` })
    t.same(Object.keys(body.checks).sort(), ['cache:responseTime', 'db:responseTime'])
    const excluded = await app.inject({ url: '/ready?exclude=db', remoteAddress })
    t.equal(excluded.statusCode, 200, `${remoteAddress}: ?exclude=db drops the failing check`)
    const single = await app.inject({ url: '/ready/db', remoteAddress })
    t.match(single.json(), { status: 'fail', output: `db: ${SECRET}` })
  }
})

t.test('from outside: the status only, whatever the parameters; ?exclude cannot fake readiness', async (t) => {
  const app = await build()
  for (const remoteAddress of OUTSIDE) {
    for (const url of ['/ready', '/ready?verbose', '/ready?verbose=true', '/ready?exclude=db', '/ready?exclude=db&verbose=1', '/readyz?exclude=db,cache', '/ready/db', '/ready/db?verbose']) {
      const res = await app.inject({ url, remoteAddress })
      t.equal(res.statusCode, 503, `${remoteAddress} ${url}`)
      t.same(res.json(), { status: 'fail' }, `${remoteAddress} ${url}: no detail`)
      t.notMatch(res.body, /ECONNREFUSED|orders-primary|10\.20\.30\.40/)
    }
    const cache = await app.inject({ url: '/ready/cache?verbose', remoteAddress })
    t.same([cache.statusCode, cache.json()], [200, { status: 'pass' }])
    const health = await app.inject({ url: '/health?verbose', remoteAddress })
    t.same([health.statusCode, health.json()], [200, { status: 'pass' }], 'liveness: status only too')
  }
})

t.test('X-Forwarded-For cannot make an outside caller look local, even with trustProxy', async (t) => {
  const app = await build({}, { trustProxy: true })
  const res = await app.inject({ url: '/ready?verbose&exclude=db', remoteAddress: '10.0.0.7', headers: { 'x-forwarded-for': '127.0.0.1' } })
  t.same([res.statusCode, res.json()], [503, { status: 'fail' }])
})

t.test('probeDetail: a function of the request decides; one that throws or answers anything but true means no', async (t) => {
  const app = await build({ probeDetail: (request) => request.headers['x-probe-token'] === 's3cret' || fromLoopback(request) })
  const withToken = await app.inject({ url: '/ready?exclude=db', remoteAddress: '10.0.0.7', headers: { 'x-probe-token': 's3cret' } })
  t.equal(withToken.statusCode, 200, 'a trusted token from outside may exclude')
  const wrongToken = await app.inject({ url: '/ready?exclude=db&verbose', remoteAddress: '10.0.0.7', headers: { 'x-probe-token': 'guess' } })
  t.same([wrongToken.statusCode, wrongToken.json()], [503, { status: 'fail' }])
  t.equal((await app.inject({ url: '/ready?exclude=db' })).statusCode, 200, 'loopback composed in')

  const nobody = await build({ probeDetail: () => false })
  const local = await nobody.inject({ url: '/ready?verbose&exclude=db', remoteAddress: '127.0.0.1' })
  t.same([local.statusCode, local.json()], [503, { status: 'fail' }], 'a policy can refuse loopback too')

  for (const policy of [() => { throw new Error('auth backend down') }, () => 'yes', () => 1]) {
    const app = await build({ probeDetail: policy as never })
    const res = await app.inject({ url: '/ready?verbose&exclude=db', remoteAddress: '127.0.0.1' })
    t.same([res.statusCode, res.json()], [503, { status: 'fail' }])
  }
})

t.test('probeDetail must be a function', async (t) => {
  for (const value of ['loopback', true, null, { trust: 'loopback' }]) {
    const app = Fastify()
    app.register(zeroDowntime, { probeDetail: value as never })
    await t.rejects(async () => { await app.ready() }, { code: 'FST_ZD_INVALID_OPTION', message: /option "probeDetail" must be a function \(request\) => boolean/ }, String(value))
  }
})
