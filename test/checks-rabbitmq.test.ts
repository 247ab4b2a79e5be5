import t from 'tap'
import Fastify from 'fastify'
import amqp, { type ChannelModel } from 'amqplib'
import { setTimeout as sleep } from 'node:timers/promises'
import zeroDowntime, { amqpCheck } from '../src/index.js'
import { sharedUrls } from './helpers/servers.js'
import { startProxyFor } from './helpers/tcp-proxy.js'
import { countRuns, nextResult, nextResultOfRun, probe, recordUnhandledRejections } from './helpers/probe.js'
import { until } from './helpers/wait.js'

const INTERVAL = 150
const TIMEOUT = 400
const unhandled = recordUnhandledRejections()

/** What an app does with amqplib: reconnect after the connection is lost (amqplib does not). */
function reconnecting (url: string): { current: () => ChannelModel | undefined, close: () => Promise<void> } {
  let connection: ChannelModel | undefined
  let closed = false
  const connect = async (): Promise<void> => {
    while (!closed) {
      try {
        const c = await amqp.connect(url)
        c.on('error', () => {})
        c.on('close', () => { connection = undefined; if (!closed) void connect() })
        if (closed) { await c.close(); return }
        connection = c
        return
      } catch {
        await sleep(50)
      }
    }
  }
  void connect()
  return { current: () => connection, close: async () => { closed = true; await connection?.close().catch(() => {}) } }
}

t.test('shared RabbitMQ: a connection and a channel pass; a closed channel fails', async (t) => {
  const connection = await amqp.connect(sharedUrls.amqp)
  connection.on('error', () => {})
  const channel = await connection.createChannel()
  t.teardown(async () => { await connection.close().catch(() => {}) })
  const app = Fastify()
  await app.register(zeroDowntime, { checks: { mq: amqpCheck(connection), channel: amqpCheck(channel) }, checkIntervalMs: INTERVAL, pressure: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  const ready = await probe(app, '/ready?verbose')
  t.equal(ready.status, 200)
  t.equal(ready.body.checks?.['mq:responseTime']?.[0]?.status, 'pass')
  t.equal(ready.body.checks?.['channel:responseTime']?.[0]?.status, 'pass')
  const failed = nextResult(app, 'channel', 'fail')
  await channel.close()
  // "Channel closed"; "Channel ended, no reply will be forthcoming" when a run
  // was in flight; "Channel closing" when the run started while close() was under way.
  t.match((await failed).output, /clos(?:ed|ing)|ended/i)
  t.equal((await probe(app, '/ready/channel')).status, 503)
  t.equal((await probe(app, '/ready/mq')).status, 200)
})

t.test('RabbitMQ behind a fault proxy: down at start, killed, hung (one call at a time); readiness follows, liveness stays', async (t) => {
  const { proxy, url } = await startProxyFor(sharedUrls.amqp)
  t.teardown(proxy.close)
  proxy.kill()
  const mq = reconnecting(url)
  t.teardown(mq.close)

  const base = amqpCheck(mq.current)
  let inFlight = 0
  let maxInFlight = 0
  const counted = countRuns({ ...base, check: async (ctx) => { maxInFlight = Math.max(maxInFlight, ++inFlight); try { return await base.check(ctx) } finally { inFlight-- } } })
  const app = Fastify()
  await app.register(zeroDowntime, { checks: { mq: counted.spec }, checkIntervalMs: INTERVAL, checkTimeoutMs: TIMEOUT, pressure: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })

  const down = await probe(app, '/ready')
  t.equal(down.status, 503, 'down at start: not ready, and no crash')
  t.match(down.body.output, /^mq: no AMQP connection/)
  t.equal((await probe(app, '/health')).status, 200)

  for (const [what, fault] of [['restore', null], ['kill', proxy.kill], ['hang', proxy.hang]] as const) {
    if (fault !== null) {
      const failed = nextResultOfRun(app, 'mq', 'fail', counted.runs)
      fault()
      // Within one interval + timeout, counted in runs: the last run started
      // before the fault may still be in flight (and pass), the next one fails.
      const startedBefore = counted.runs()
      const { result, run } = await failed
      t.ok(run <= startedBefore + 1, `${what}: failure seen by the first run started after the fault (run ${run}, ${startedBefore} started before)`)
      t.notMatch(result.output ?? '', /guest|amqp:\/\//, `${what}: no credentials in the output`)
      t.equal((await probe(app, '/ready')).status, 503, `${what}: readiness 503`)
      t.equal((await probe(app, '/health')).status, 200, `${what}: liveness stays 200`)
      if (what === 'hang') {
        // The hung channel open is reported, never joined by another one.
        const reported = new Set<string>()
        await until(() => {
          const result = app.zeroDowntime.checks[0]
          if (/^still running after \d+ ms/.test(result?.output ?? '')) reported.add(result?.time ?? '')
          return reported.size >= 3
        }, 'three runs reported the hung check still running', { intervalMs: 5 })
        t.equal(maxInFlight, 1, 'hang: one call of the check at a time')
      }
    }
    const passed = nextResult(app, 'mq', 'pass')
    proxy.restore()
    await passed
    t.equal((await probe(app, '/ready')).status, 200, `after ${what}: readiness recovers`)
  }
})

t.test('no unhandled rejections', async (t) => {
  t.same(unhandled, [])
})
