// A request that outlives the budget is cut at the hard deadline: the pod logs
// what it cut and exits non-zero BEFORE the simulated SIGKILL, instead of
// being killed mid-cleanup by Kubernetes.
import http from 'node:http'
import t from 'tap'
import { spawnPod, type LogLine } from './fixtures/drain/harness.js'
import { signalLine, stepOrder } from './helpers/drain-log.js'

t.test('a drain that cannot finish is cut at the deadline and exits non-zero before SIGKILL', async (t) => {
  const gracePeriodMs = 4000
  // preStop 0 + delay 200 + request 1000 + cleanup 500 + margin 500 fits in 4 s;
  // HTTP deadline = 4000 - 0 - 500 - 500 = 3000 ms after SIGTERM.
  const pod = await spawnPod({
    TERMINATION_GRACE_PERIOD_SECONDS: String(gracePeriodMs / 1000),
    PRESTOP_SLEEP_SECONDS: '0',
    DRAIN_OPTIONS: JSON.stringify({ delayMs: 200, requestTimeoutMs: 1000, cleanupTimeoutMs: 500, marginMs: 500 })
  })
  t.teardown(() => { pod.kill('SIGKILL') })

  const agent = new http.Agent({ keepAlive: true })
  t.teardown(() => { agent.destroy() })
  const clientError = new Promise<string>((resolve) => {
    http.get({ host: '127.0.0.1', port: pod.port, path: '/slow?ms=60000', agent }, () => { resolve('answered') })
      .on('error', (err: NodeJS.ErrnoException) => { resolve(String(err.code)) })
  })
  await pod.waitForLog((l) => l.msg === 'slow request started')

  pod.kill('SIGTERM')
  let sigkilled = false
  const sigkill = setTimeout(() => { sigkilled = true; pod.kill('SIGKILL') }, gracePeriodMs)
  const exit = await pod.exited
  clearTimeout(sigkill)

  t.equal(exit.signal, null, 'exited on its own, not killed')
  t.equal(sigkilled, false, 'before the grace period ends: the simulated SIGKILL never fired')
  t.equal(exit.code, 1, 'a forced drain exits non-zero')
  t.equal(await clientError, 'ECONNRESET', 'the cut request was reset')

  const cut = pod.logs.find((l) => l.drain === 'cut') as LogLine & { reason: string, requests: Array<{ method: string, url: string, ageMs: number }>, forced: number }
  t.ok(cut, 'the cut is logged')
  t.equal(cut.forced, 1)
  t.equal(cut.requests.length, 1)
  t.match(cut.requests[0], { method: 'GET', url: '/slow?ms=60000' })
  // In flight at drain start: its age is counted from there (never 0, never more than the drain's).
  const { ageMs } = cut.requests[0]!
  t.ok(ageMs > 0 && ageMs <= cut.drainMs!, `with the age of the request since the drain started (${ageMs} ms, cut at ${cut.drainMs!} ms)`)
  // The cause, not a duration: the deadline timer cut it, set from the budget.
  const { deadlineMs } = signalLine(pod.logs)
  t.equal(deadlineMs, 3000, 'HTTP deadline = grace - cleanup - margin')
  t.equal(cut.reason, `hard deadline ${deadlineMs} ms after drain start`, 'cut by the deadline, not before')
  t.same(stepOrder(pod.logs, ['signal', 'delay-over', 'listener-closed', 'cut', 'stopped', 'exit']),
    ['signal', 'delay-over', 'listener-closed', 'cut', 'stopped', 'exit'], 'the cut ends the HTTP drain, the report and the exit follow')
  t.ok(pod.logs.some((l) => l.drain === 'progress'), 'connections left are reported while waiting')
  const stopped = pod.logs.find((l) => l.drain === 'stopped') as LogLine & { clean: boolean }
  t.equal(stopped.clean, false)
  t.match(pod.logs.find((l) => l.drain === 'exit'), { exitCode: 1 })
})
