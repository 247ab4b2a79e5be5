// Fastify's documented shutdown recipe, close-with-grace calling app.close(),
// installed after listen as many services do: the plugin stands aside at the
// signal, and the app.close() close-with-grace calls drains like SIGTERM
// under listen(). Fastify marks itself closing only once HTTP has drained,
// so its closing 503s never show, whatever return503OnClosing says.
import t from 'tap'
import { spawnPod, type LogLine } from './fixtures/drain/harness.js'
import { assertNothingDropped, drainUnderTraffic } from './fixtures/drain/traffic.js'

for (const return503OnClosing of ['true (Fastify\'s default)', 'false']) {
  t.test(`close-with-grace + app.close(), return503OnClosing ${return503OnClosing}: drained without a drop, cleanups in order`, async (t) => {
    const pod = await spawnPod({
      FIXTURE_START: 'close-with-grace',
      FIXTURE_RETURN_503_ON_CLOSING: return503OnClosing.split(' ')[0]!,
      PRESTOP_SLEEP_SECONDS: '0',
      TERMINATION_GRACE_PERIOD_SECONDS: '30',
      FIXTURE_CLEANUPS: JSON.stringify([
        { phase: 'brokers', name: 'amqp', behaviour: 'ok' },
        { phase: 'databases', name: 'pg', behaviour: 'ok' },
        { phase: 'caches', name: 'redis', behaviour: 'ok' }
      ]),
      DRAIN_OPTIONS: JSON.stringify({ delayMs: 1000, idleCloseMs: 1500 })
    })
    t.teardown(() => { pod.kill('SIGKILL') })
    const result = await drainUnderTraffic(t, pod)
    assertNothingDropped(t, result)
    t.equal(result.exit.code, 0, 'close-with-grace exits 0 once app.close() has resolved')
    t.ok(pod.logs.some((l) => l.msg === 'close-with-grace: SIGTERM'), 'close-with-grace owned the signal')
    t.match(pod.logs.find((l) => l.drain === 'signal'), { reason: 'SIGTERM', delayMs: 1000 }, 'drained like SIGTERM, with the drain delay')
    const order = pod.logs.filter((l) => l.drain === 'http-drained' || l.drain === 'cleanup' || l.drain === 'stopped')
      .map((l) => l.drain === 'cleanup' ? String(l.phase) : String(l.drain))
    t.same(order, ['http-drained', 'databases', 'caches', 'brokers', 'stopped'], 'cleanups after HTTP, in phase order')
    const stopped = pod.logs.find((l) => l.drain === 'stopped') as LogLine & { clean: boolean, servedDuringDrain: number }
    t.equal(stopped.clean, true)
    t.ok(stopped.servedDuringDrain > 0, 'requests that arrived during the drain were served, not given 503')
    t.notOk(pod.logs.some((l) => l.drain === 'exit'), 'the plugin did not end the process')
  })
}
