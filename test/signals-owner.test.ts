// A service that only registers the plugin and starts with Fastify's own
// app.listen(): the plugin owns SIGTERM and SIGINT when nobody else does,
// drains like listen(), and ends the process by the signal itself (exit 1
// when the drain was not clean). Real child processes, real signals.
import http from 'node:http'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { inFlight, launchPod, spawnPod, type LogLine, type Pod } from './fixtures/drain/harness.js'
import { assertNothingDropped, drainUnderTraffic } from './fixtures/drain/traffic.js'

const PLAIN = {
  FIXTURE_START: 'app.listen',
  PRESTOP_SLEEP_SECONDS: '0',
  TERMINATION_GRACE_PERIOD_SECONDS: '60'
}

const CLEANUPS = JSON.stringify([
  { phase: 'caches', name: 'redis', behaviour: 'ok' },
  { phase: 'databases', name: 'pg', behaviour: 'ok' },
  { phase: 'consumers', name: 'queue', behaviour: 'ok' }
])

async function send (port: number, path: string): Promise<{ status: number, connection: string | undefined }> {
  const req = http.get({ host: '127.0.0.1', port, path, agent: false })
  const [res] = await once(req, 'response') as [http.IncomingMessage]
  res.resume()
  await once(res, 'end')
  return { status: res.statusCode ?? 0, connection: res.headers.connection }
}

/** Index of the first line of each step, in the order they were logged. */
function steps (pod: Pick<Pod, 'logs'>): string[] {
  return pod.logs.flatMap((l) => {
    if (l.drain === 'cleanup') return [`cleanup ${String(l.phase)}/${String(l.name)}`]
    return l.drain === undefined ? [] : [l.drain]
  })
}

t.test('register + app.listen(): SIGTERM drains without a drop and ends by the signal, though the event loop is held', async (t) => {
  const pod = await spawnPod({
    ...PLAIN,
    FIXTURE_HOLD_LOOP: '1',
    FIXTURE_CLEANUPS: CLEANUPS,
    DRAIN_OPTIONS: JSON.stringify({ delayMs: 1000, idleCloseMs: 1500 })
  })
  t.teardown(() => { pod.kill('SIGKILL') })
  const result = await drainUnderTraffic(t, pod)
  assertNothingDropped(t, result)
  t.same([result.exit.code, result.exit.signal], [null, 'SIGTERM'], 'the process ends by SIGTERM, raised again after the drain')
  t.match(pod.logs.find((l) => l.drain === 'signal'), { reason: 'SIGTERM', delayMs: 1000 })
  t.same(steps(pod).filter((s) => !['progress', 'idle-closed'].includes(s)), [
    'signal', 'readiness-off', 'cleanup consumers/queue', 'delay-over', 'listener-closed', 'http-drained',
    'cleanup databases/pg', 'cleanup caches/redis', 'stopped', 'exit'
  ], 'the same steps as under listen(), cleanups in phase order')
  const stopped = pod.logs.find((l) => l.drain === 'stopped') as LogLine & { clean: boolean, servedDuringDrain: number, connections: { forced: number } }
  t.equal(stopped.clean, true)
  t.ok(stopped.servedDuringDrain > 0, 'requests that still arrived were served')
  t.equal(stopped.connections.forced, 0)
  t.match(pod.logs.find((l) => l.drain === 'exit'), { signal: 'SIGTERM' })
})

t.test('register + app.listen(): readiness 503 and Connection: close from SIGTERM on, no Fastify 503', async (t) => {
  const pod = await spawnPod({ ...PLAIN, DRAIN_OPTIONS: JSON.stringify({ delayMs: 2000 }) })
  t.teardown(() => { pod.kill('SIGKILL') })
  t.equal((await send(pod.port, '/ready')).status, 200)
  pod.kill('SIGTERM')
  await pod.waitForLog((l) => l.drain === 'readiness-off')
  t.equal((await send(pod.port, '/ready')).status, 503, 'readiness 503')
  t.same(await send(pod.port, '/'), { status: 200, connection: 'close' }, 'a late request is served, with Connection: close')
  t.equal((await pod.exited).signal, 'SIGTERM')
})

t.test('a drain that is not clean ends with exit code 1, not by the signal', async (t) => {
  const pod = await spawnPod({
    ...PLAIN,
    FIXTURE_CLEANUPS: JSON.stringify([{ phase: 'databases', name: 'pg', behaviour: 'throw' }]),
    DRAIN_OPTIONS: JSON.stringify({ delayMs: 0 })
  })
  t.teardown(() => { pod.kill('SIGKILL') })
  pod.kill('SIGTERM')
  t.same(await pod.exited.then(({ code, signal }) => [code, signal]), [1, null])
  t.match(pod.logs.find((l) => l.drain === 'stopped'), { clean: false })
  t.match(pod.logs.find((l) => l.drain === 'exit'), { exitCode: 1 })
})

for (const start of ['app.listen', 'listen']) {
  t.test(`${start}: a second SIGTERM cuts what is left and exits 1`, async (t) => {
    const pod = await spawnPod({ ...PLAIN, FIXTURE_START: start, DRAIN_OPTIONS: JSON.stringify({ delayMs: 20000, requestTimeoutMs: 5000, idleCloseMs: 0 }) })
    t.teardown(() => { pod.kill('SIGKILL') })
    const slow = inFlight(pod.port, '/slow?ms=30000')
    await pod.waitForLog((l) => l.msg === 'slow request started')
    pod.kill('SIGTERM')
    await pod.waitForLog((l) => l.drain === 'readiness-off')
    pod.kill('SIGTERM')
    t.equal((await pod.exited).code, 1)
    t.equal(await slow, 'ECONNRESET')
    t.match(pod.logs.find((l) => l.drain === 'cut'), { reason: 'second SIGTERM', requests: [{ method: 'GET', url: '/slow?ms=30000' }] })
  })

  t.test(`${start}: a drain that overruns its budget is ended before SIGKILL`, async (t) => {
    // An onClose hook that never settles holds app.close(): the last resort
    // fires at grace - preStop - margin/2 = 3000 - 0 - 500 = 2500 ms after SIGTERM.
    const pod = await spawnPod({
      ...PLAIN,
      FIXTURE_START: start,
      TERMINATION_GRACE_PERIOD_SECONDS: '3',
      FIXTURE_HANG_ON_CLOSE: '1',
      DRAIN_OPTIONS: JSON.stringify({ delayMs: 0, requestTimeoutMs: 500, cleanupTimeoutMs: 500, marginMs: 1000 })
    })
    t.teardown(() => { pod.kill('SIGKILL') })
    pod.kill('SIGTERM')
    t.same(await pod.exited.then(({ code, signal }) => [code, signal]), [1, null])
    t.ok(pod.logs.some((l) => l.drain === 'exit' && /drain still running 2500 ms after .*: exiting before SIGKILL/.test(l.msg)), 'the last resort ended it')
  })
}

for (const version of ['v4', 'v3']) {
  t.test(`signal-exit ${version}'s listeners are not an owner: the plugin drains, signal-exit's handlers still run`, async (t) => {
    const pod = await spawnPod({ ...PLAIN, FIXTURE_SIGNAL_EXIT: version, DRAIN_OPTIONS: JSON.stringify({ delayMs: 0 }) })
    t.teardown(() => { pod.kill('SIGKILL') })
    pod.kill('SIGTERM')
    t.equal((await pod.exited).signal, 'SIGTERM')
    t.match(pod.logs.find((l) => l.drain === 'stopped'), { clean: true })
    t.ok(pod.logs.some((l) => l.msg === `signal-exit ${version} exit handler: SIGTERM`), 'signal-exit saw the raised signal and ran its exit handlers')
  })
}

t.test('SIGINT outside Kubernetes: no drain delay, idle connections closed at once; a second Ctrl-C cuts', async (t) => {
  const pod = await spawnPod({ ...PLAIN, DRAIN_OPTIONS: JSON.stringify({ delayMs: 20000 }) })
  t.teardown(() => { pod.kill('SIGKILL') })
  const slow = inFlight(pod.port, '/slow?ms=30000')
  await pod.waitForLog((l) => l.msg === 'slow request started')
  pod.kill('SIGINT')
  t.match(await pod.waitForLog((l) => l.drain === 'listener-closed'), { drain: 'listener-closed' })
  t.match(pod.logs.find((l) => l.drain === 'signal'), { reason: 'SIGINT', delayMs: 0, idleCloseMs: 0 })
  pod.kill('SIGINT')
  t.equal((await pod.exited).code, 1)
  t.equal(await slow, 'ECONNRESET')
  t.match(pod.logs.find((l) => l.drain === 'cut'), { reason: 'second SIGINT' })
})

t.test('SIGINT outside Kubernetes with nothing in flight ends by SIGINT at once', async (t) => {
  const pod = await spawnPod({ ...PLAIN, DRAIN_OPTIONS: JSON.stringify({ delayMs: 20000 }) })
  t.teardown(() => { pod.kill('SIGKILL') })
  pod.kill('SIGINT')
  t.equal((await pod.exited).signal, 'SIGINT')
  t.match(pod.logs.find((l) => l.drain === 'stopped'), { clean: true })
})

t.test('SIGINT in Kubernetes drains like SIGTERM, with the drain delay', async (t) => {
  const pod = await spawnPod({ ...PLAIN, KUBERNETES_SERVICE_HOST: '10.96.0.1', DRAIN_OPTIONS: JSON.stringify({ delayMs: 300 }) })
  t.teardown(() => { pod.kill('SIGKILL') })
  pod.kill('SIGINT')
  t.equal((await pod.exited).signal, 'SIGINT')
  t.match(pod.logs.find((l) => l.drain === 'signal'), { reason: 'SIGINT', delayMs: 300 })
})

t.test('listen() + the app\'s own close-with-grace + the plugin: drained once, listen() exits', async (t) => {
  const pod = await spawnPod({
    ...PLAIN,
    FIXTURE_START: 'listen+close-with-grace',
    FIXTURE_CLEANUPS: CLEANUPS,
    DRAIN_OPTIONS: JSON.stringify({ delayMs: 300 })
  })
  t.teardown(() => { pod.kill('SIGKILL') })
  pod.kill('SIGTERM')
  t.equal((await pod.exited).code, 0)
  for (const step of ['signal', 'readiness-off', 'http-drained', 'stopped']) {
    t.equal(pod.logs.filter((l) => l.drain === step).length, 1, `one "${step}"`)
  }
  t.equal(pod.logs.filter((l) => l.drain === 'cleanup').length, 3, 'each cleanup ran once')
  t.ok(pod.logs.some((l) => l.msg === 'close-with-grace: SIGTERM'), 'the app\'s handler ran too')
})

for (const start of ['app.listen', 'listen']) {
  t.test(`SIGTERM while the startup checks run (${start}): the start ends, cleanups run, right exit status`, async (t) => {
    const pod = launchPod({
      ...PLAIN,
      FIXTURE_START: start,
      FIXTURE_STARTUP_CHECK: 'hang',
      FIXTURE_CLEANUPS: CLEANUPS,
      DRAIN_OPTIONS: JSON.stringify({ delayMs: 5000 })
    })
    t.teardown(() => { pod.kill('SIGKILL') })
    await pod.waitForLog((l) => l.msg === 'startup check running')
    pod.kill('SIGTERM')
    const exit = await pod.exited
    if (start === 'listen') {
      t.same([exit.code, exit.signal], [0, null], 'listen() exits 0 after a clean drain')
      t.notOk(pod.logs.some((l) => l.msg.startsWith('Server listening at')), 'listen() never listened')
    } else {
      t.same([exit.code, exit.signal], [null, 'SIGTERM'], 'ends by SIGTERM')
    }
    t.match(pod.logs.find((l) => l.drain === 'signal'), { reason: 'SIGTERM', delayMs: 0 }, 'never ready, never an endpoint: no delay')
    t.same(steps(pod).filter((s) => s.startsWith('cleanup')), ['cleanup consumers/queue', 'cleanup databases/pg', 'cleanup caches/redis'])
    t.match(pod.logs.find((l) => l.drain === 'stopped'), { clean: true })
  })
}

const TWO_APPS = fileURLToPath(new URL('./fixtures/drain/two-apps.ts', import.meta.url))

for (const bCleanup of ['ok', 'throw']) {
  t.test(`two apps in one process (cleanup of the second: ${bCleanup}): each drains once, the last one ends the process`, async (t) => {
    const pod = launchPod({ FIXTURE_B_CLEANUP: bCleanup }, [TWO_APPS])
    t.teardown(() => { pod.kill('SIGKILL') })
    await pod.waitForLog((l) => l.app === 'b' && l.msg.startsWith('Server listening at'))
    pod.kill('SIGTERM')
    const exit = await pod.exited
    t.same([exit.code, exit.signal], bCleanup === 'ok' ? [null, 'SIGTERM'] : [1, null])
    for (const app of ['a', 'b']) {
      t.equal(pod.logs.filter((l) => l.app === app && l.drain === 'stopped').length, 1, `${app} drained once`)
    }
    t.same(pod.logs.filter((l) => l.drain === 'exit').map((l) => l.app), ['b'], 'only the last one ended the process')
  })
}

t.test('with logger: false the process still ends by the signal after the drain', async (t) => {
  const pod = launchPod({ ...PLAIN, FIXTURE_LOGGER: 'off', FIXTURE_STARTUP_CHECK: 'hang', DRAIN_OPTIONS: JSON.stringify({ delayMs: 0 }) })
  t.teardown(() => { pod.kill('SIGKILL') })
  await pod.waitForLog((l) => l.msg === 'startup check running')
  pod.kill('SIGTERM')
  t.equal((await pod.exited).signal, 'SIGTERM')
})
