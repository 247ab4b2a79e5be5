import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as plugin from '../src/index.js'

// The example imports the package by name, which resolves to dist/. Loading it
// against src/ instead keeps one copy of the plugin under test, and keeps
// coverage of src/ from mixing dist-mapped and source-mapped runs.
const { buildApp } = await t.mockImport<typeof import('../examples/service/app.js')>('../examples/service/app.js', { 'fastify-zero-downtime': plugin })
import { sharedUrls } from './helpers/servers.js'
import { startProxyFor } from './helpers/tcp-proxy.js'
import { nextResult } from './helpers/probe.js'

t.test('on a bare machine: no dependency is created or checked, their routes answer 501', async (t) => {
  // No LOG_LEVEL: the default (info) level; probes stay out of the log anyway.
  const app = await buildApp({ VERSION: 'v7' })
  t.teardown(async () => { await app.close() })
  await app.ready()
  app.zeroDowntime.started()
  t.same(app.zeroDowntime.checks, [])
  t.match((await app.inject('/')).json(), { hello: 'world', version: 'v7' })
  t.equal((await app.inject('/items/1')).statusCode, 501)
  t.equal((await app.inject({ method: 'POST', url: '/orders', payload: { item: 1 } })).statusCode, 501)
  t.same((await app.inject({ method: 'POST', url: '/echo', payload: { a: [1, 2] } })).json(), { echo: { a: [1, 2] }, version: 'v7' })
  t.same((await app.inject('/slow?ms=5')).json(), { waitedMs: 5, version: 'v7' })
  t.same((await app.inject('/slow')).json(), { waitedMs: 1000, version: 'v7' }, 'waits 1 s by default')
  t.same((await app.inject({ method: 'POST', url: '/echo' })).json(), { echo: null, version: 'v7' })
  t.equal((await app.inject('/ready')).statusCode, 200)
})

t.test('with Postgres, Redis and RabbitMQ: checks pass, items are cached, orders are published', async (t) => {
  const app = await buildApp({ LOG_LEVEL: 'silent', DATABASE_URL: sharedUrls.database, REDIS_URL: sharedUrls.redis, AMQP_URL: sharedUrls.amqp })
  t.teardown(async () => { await app.close() })
  await app.ready()
  app.zeroDowntime.started()
  const ready = (await app.inject('/ready?verbose')).json()
  t.equal(ready.status, 'pass')
  t.same(Object.keys(ready.checks), ['db:responseTime', 'cache:responseTime', 'mq:responseTime', 'pressure:eventLoopDelay'])
  const id = 1 + Math.floor(Math.random() * 1e9)
  const first = (await app.inject(`/items/${id}`)).json()
  t.match(first, { id, source: 'database' })
  t.match((await app.inject(`/items/${id}`)).json(), { id, name: first.name, source: 'cache' })
  const order = await app.inject({ method: 'POST', url: '/orders', payload: { item: id } })
  t.equal(order.statusCode, 202)
  t.match(order.json(), { accepted: true, order: { item: id, quantity: 1 } })
  t.equal((await app.inject({ method: 'POST', url: '/orders', payload: {} })).statusCode, 400)
})

t.test('/events: ticks, then on drain a retry hint and a reconnect event, and the stream ends', async (t) => {
  // A declared preStop sleep means no in-app drain delay: the go-away comes at once.
  const app = await buildApp({ LOG_LEVEL: 'silent', PRESTOP_SLEEP_SECONDS: '5', TERMINATION_GRACE_PERIOD_SECONDS: '30' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  let text = ''
  const ended = new Promise<void>((resolve, reject) => {
    http.get({ port, host: '127.0.0.1', path: '/events', agent: false }, (res) => {
      t.equal(res.headers['content-type'], 'text/event-stream')
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        text += chunk
        if (text.includes('event: tick')) void app.zeroDowntime.drain()
      })
      res.on('end', resolve)
    }).on('error', reject)
  })
  await ended
  t.match(text, /^event: hello\n/)
  t.match(text, /event: tick\ndata: \{"n":0,"version":"dev"\}\n\n/)
  t.match(text, /retry: 1000\nevent: reconnect\ndata: .*\n\n$/)
  await app.zeroDowntime.drain()
})

t.test('the broker connection comes back after RabbitMQ goes away, and readiness follows', async (t) => {
  const { proxy, url } = await startProxyFor(sharedUrls.amqp)
  t.teardown(proxy.close)
  const app = await buildApp({ LOG_LEVEL: 'silent', AMQP_URL: url })
  t.teardown(async () => { await app.close() })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.equal((await app.inject('/ready')).statusCode, 200)
  const failed = nextResult(app, 'mq', 'fail')
  proxy.kill()
  await failed
  t.equal((await app.inject('/ready')).statusCode, 503)
  t.equal((await app.inject({ method: 'POST', url: '/orders', payload: { item: 1 } })).statusCode, 500, 'no broker: the order is refused, not lost silently')
  const passed = nextResult(app, 'mq', 'pass')
  proxy.restore()
  await passed
  t.equal((await app.inject('/ready')).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/orders', payload: { item: 2 } })).statusCode, 202)
})
