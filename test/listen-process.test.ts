// listen() owns the process: signals start the drain, a second signal or an
// uncaught error ends it faster, and the exit code tells whether the drain
// was clean. Real child processes, real signals.
import t from 'tap'
import { inFlight, spawnPod } from './fixtures/drain/harness.js'

const QUICK = {
  PRESTOP_SLEEP_SECONDS: '0',
  TERMINATION_GRACE_PERIOD_SECONDS: '60'
}

t.test('SIGINT outside Kubernetes drains without the delay and exits 0', async (t) => {
  const pod = await spawnPod({ ...QUICK, DRAIN_OPTIONS: JSON.stringify({ delayMs: 20000 }) })
  t.teardown(() => { pod.kill('SIGKILL') })
  pod.kill('SIGINT')
  t.equal((await pod.exited).code, 0)
  t.match(pod.logs.find((l) => l.drain === 'signal'), { reason: 'SIGINT', delayMs: 0, idleCloseMs: 0 })
})

t.test('SIGINT in Kubernetes drains like SIGTERM', async (t) => {
  const pod = await spawnPod({ ...QUICK, KUBERNETES_SERVICE_HOST: '10.96.0.1', DRAIN_OPTIONS: JSON.stringify({ delayMs: 100 }) })
  t.teardown(() => { pod.kill('SIGKILL') })
  pod.kill('SIGINT')
  t.equal((await pod.exited).code, 0)
  t.match(pod.logs.find((l) => l.drain === 'signal'), { reason: 'SIGINT', delayMs: 100, idleCloseMs: 5000 })
})

t.test('an uncaught error drains without delay and exits 1', async (t) => {
  const pod = await spawnPod({ ...QUICK, DRAIN_OPTIONS: JSON.stringify({ delayMs: 20000 }) })
  t.teardown(() => { pod.kill('SIGKILL') })
  t.equal(await inFlight(pod.port, '/crash'), '200')
  const exit = await pod.exited
  t.equal(exit.code, 1)
  t.match(pod.logs.find((l) => l.msg === 'uncaught error: draining without delay'), { error: { type: 'Error', message: 'boom: uncaught #1' } })
  t.match(pod.logs.find((l) => l.drain === 'signal'), { reason: 'uncaught error', delayMs: 0 })
  const stopped = pod.logs.find((l) => l.drain === 'stopped')
  t.match(stopped, { clean: true }, 'the drain itself was clean; the error makes the exit code 1')
})

t.test('a second uncaught error while draining cuts what is left and exits 1', async (t) => {
  const pod = await spawnPod({ ...QUICK, DRAIN_OPTIONS: JSON.stringify({ delayMs: 0 }) })
  t.teardown(() => { pod.kill('SIGKILL') })
  const slow = inFlight(pod.port, '/slow?ms=30000')
  await pod.waitForLog((l) => l.msg === 'slow request started')
  t.equal(await inFlight(pod.port, '/crash?times=2'), '200')
  t.equal((await pod.exited).code, 1)
  t.equal(await slow, 'ECONNRESET')
  t.match(pod.logs.find((l) => l.msg === 'second uncaught error while draining'), { error: { type: 'Error', message: 'boom: uncaught #2' } })
  t.match(pod.logs.find((l) => l.drain === 'cut'), { reason: 'second uncaught error', requests: [{ url: '/slow?ms=30000' }] })
})

t.test('a timing budget that cannot fit refuses to start, naming what to change', async (t) => {
  const pod = spawnPod({ TERMINATION_GRACE_PERIOD_SECONDS: '10', PRESTOP_SLEEP_SECONDS: '5' })
  await t.rejects(pod, /pod exited/)
  const { stderr } = await pod.catch((err: Error) => ({ stderr: err.message }))
  t.match(stderr, /timing budget does not fit the grace period/)
  t.match(stderr, /Raise terminationGracePeriodSeconds \(and TERMINATION_GRACE_PERIOD_SECONDS\) to at least 22/)
})

t.test('listen() without the plugin is a TypeError', async (t) => {
  await t.rejects(spawnPod({ ...QUICK, FIXTURE_NO_PLUGIN: '1' }), /listen\(\) needs the plugin/)
})
