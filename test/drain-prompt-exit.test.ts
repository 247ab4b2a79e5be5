// The drain ends when the last connection is gone, not at a timer: a pod whose
// last keep-alive connection retires exits right after it.
import http from 'node:http'
import { once } from 'node:events'
import type { Socket } from 'node:net'
import t from 'tap'
import { spawnPod, type LogLine } from './fixtures/drain/harness.js'
import { checkPromptEnd } from './helpers/drain-log.js'

t.test('the process exits because its last connection closed, not because a timer fired', async (t) => {
  // preStop declared: no in-app delay. Idle closing and the deadline are far away,
  // so only "no connection left" can end this drain early.
  const pod = await spawnPod({
    TERMINATION_GRACE_PERIOD_SECONDS: '60',
    PRESTOP_SLEEP_SECONDS: '5',
    DRAIN_OPTIONS: JSON.stringify({ idleCloseMs: 30000 })
  })
  t.teardown(() => { pod.kill('SIGKILL') })

  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => { agent.destroy() })
  const get = async (): Promise<{ res: http.IncomingMessage, socket: Socket }> => {
    const req = http.get({ host: '127.0.0.1', port: pod.port, path: '/', agent })
    const [res] = await once(req, 'response') as [http.IncomingMessage]
    const socket = res.socket
    res.resume()
    await once(res, 'end')
    return { res, socket }
  }
  const first = await get()
  t.equal(first.res.headers.connection, 'keep-alive', 'before the drain: keep-alive')
  const socket = first.socket

  pod.kill('SIGTERM')
  await pod.waitForLog((l) => l.drain === 'listener-closed')
  const last = await get()
  t.equal(last.socket, socket, 'the pooled connection carried one more request')
  t.equal(last.res.statusCode, 200)
  t.equal(last.res.headers.connection, 'close', 'answered with Connection: close')
  if (!socket.destroyed) await once(socket, 'close')

  const exit = await pod.exited
  t.equal(exit.code, 0)
  // Causes, not durations: HTTP drained with its one connection retired, and
  // no timer of the drain (idle closing at 30 s, the deadline) had its turn.
  const drained = pod.logs.find((l) => l.drain === 'http-drained')
  t.match(drained, { retired: 1, idleClosed: 0, forced: 0 }, 'drained by the retired connection')
  // Before idle closing (30 s here) or the deadline were due, by this run's logged config.
  checkPromptEnd(t, pod.logs)
  t.ok(pod.logs.findIndex((l) => l.drain === 'http-drained') < pod.logs.findIndex((l) => l.drain === 'stopped'), 'then the drain stopped')
  const stopped = pod.logs.find((l) => l.drain === 'stopped') as LogLine & { connections: { retired: number, idleClosed: number, forced: number } }
  t.same(stopped.connections, { retired: 1, closedByClient: 0, idleClosed: 0, stalledClosed: 0, forced: 0 })
  t.match(pod.logs.find((l) => l.drain === 'signal'), { delayMs: 0 }, 'no in-app delay when a preStop sleep is declared')
})
