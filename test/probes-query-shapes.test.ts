// Probes read any shape of query a parser can produce. With `qs` as the
// app's query parser (objects and nested arrays: ?exclude[a]=b), or a custom
// parser returning anything, no probe ever answers 500 or 400, liveness always
// answers 200, and a trusted caller's parameters mean what they say: strings
// and arrays of strings count, every other shape is ignored.
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import qs from 'qs'
import zeroDowntime from '../src/index.js'
import { probe } from './helpers/probe.js'

const PROBES = ['/health', '/livez', '/ready', '/readyz', '/startup', '/ready/db']

async function build (querystringParser: (text: string) => unknown): Promise<FastifyInstance> {
  const app = Fastify({ routerOptions: { querystringParser: querystringParser as (text: string) => Record<string, unknown> } })
  await app.register(zeroDowntime, { pressure: false, checks: { db: () => true, cache: () => false, mq: () => false } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return app
}

t.test('qs: objects, arrays and nested values never break a probe; strings and arrays of strings count', async (t) => {
  const app = await build((text) => qs.parse(text))
  t.teardown(async () => { await app.close() })
  const odd = ['exclude[a]=b', 'exclude[0][x]=1', 'exclude[a][b][c]=d', 'verbose[x]=1', 'verbose[]=1&verbose[]=0', 'exclude=a&exclude[b]=c', `exclude[${'x'.repeat(300)}]=1`, '__proto__[exclude]=cache', 'constructor[prototype][x]=1']
  for (const query of odd) {
    for (const path of PROBES) {
      const res = await probe(app, `${path}?${query}`)
      t.ok(res.status === 200 || res.status === 503, `${path}?${query} answers ${res.status}`)
    }
    t.equal((await probe(app, `/health?${query}`)).status, 200, `liveness answers whatever the query: ${query}`)
    t.same((await probe(app, `/ready?${query}`)).body, { status: 'fail', output: 'cache: check returned false; mq: check returned false' }, `nothing excluded, terse: ${query}`)
  }
  t.same((await probe(app, '/ready?exclude=cache&exclude=mq')).body, { status: 'pass' }, 'repeated: each excluded')
  t.same((await probe(app, '/ready?exclude[]=cache&exclude[]=mq,db')).body, { status: 'pass' }, 'an array of comma lists')
  t.same((await probe(app, '/ready?exclude[0]=cache&exclude[1]=mq')).body, { status: 'pass' }, 'an indexed array')
  t.same((await probe(app, '/ready?exclude=cache&exclude[x]=mq')).body.status, 'fail', 'an object among them is ignored whole (qs merges it into one object)')
  t.ok((await probe(app, '/ready?verbose=0&verbose=1')).body.checks, 'repeated verbose: the last one counts')
  t.notOk((await probe(app, '/ready?verbose=1&verbose=0')).body.checks)
  const many = Array.from({ length: 900 }, (_, i) => `exclude=n${i}`).join('&')
  t.equal((await probe(app, `/ready?${many}&exclude=cache,mq`)).status, 200, 'hundreds of names (qs hands them over as an object of indices)')
})

t.test('a custom parser that returns anything: every probe answers, liveness 200', async (t) => {
  const shapes: Array<[string, unknown]> = [
    ['null', null], ['undefined', undefined], ['a string', 'exclude=db'], ['a number', 42], ['an array', ['a']], ['a null-prototype object', Object.create(null)],
    ['odd values', { exclude: 7, verbose: true }], ['a throwing Proxy', new Proxy({}, { get () { throw new Error('trap') } })]
  ]
  for (const [what, shape] of shapes) {
    const app = await build(() => shape)
    for (const path of PROBES) {
      const res = await probe(app, `${path}?exclude=db`)
      t.ok(res.status === 200 || res.status === 503, `${path} with a parser returning ${what}: ${res.status}`)
    }
    t.equal((await probe(app, '/health?x')).status, 200)
    await app.close()
  }
})
