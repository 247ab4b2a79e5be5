// During the drain delay the pod is out of rotation (readiness 503) but still
// serves everything that reaches it, on old and new connections, with
// Connection: close — never the 503 Fastify answers once close() has started.
import http from 'node:http'
import { once } from 'node:events'
import t from 'tap'
import { spawnPod } from './fixtures/drain/harness.js'

async function send (port: number, method: string, path: string, body?: string): Promise<{ status: number, connection: string | undefined, body: string }> {
  const req = http.request({ host: '127.0.0.1', port, method, path, agent: false, headers: body === undefined ? {} : { 'content-type': 'application/json' } })
  req.end(body)
  const [res] = await once(req, 'response') as [http.IncomingMessage]
  let text = ''
  for await (const chunk of res) text += String(chunk)
  return { status: res.statusCode ?? 0, connection: res.headers.connection, body: text }
}

t.test('readiness fails at once while every request is still served', async (t) => {
  const pod = await spawnPod({
    PRESTOP_SLEEP_SECONDS: '0',
    TERMINATION_GRACE_PERIOD_SECONDS: '30',
    DRAIN_OPTIONS: JSON.stringify({ delayMs: 2000 })
  })
  t.teardown(() => { pod.kill('SIGKILL') })
  t.equal((await send(pod.port, 'GET', '/ready')).status, 200, 'ready before SIGTERM')

  pod.kill('SIGTERM')
  await pod.waitForLog((l) => l.drain === 'readiness-off')
  t.equal((await send(pod.port, 'GET', '/ready')).status, 503, 'readiness 503 from SIGTERM on')
  t.equal((await send(pod.port, 'GET', '/health')).status, 200, 'liveness stays 200')
  const hello = await send(pod.port, 'GET', '/')
  t.equal(hello.status, 200, 'a late request on a new connection is served')
  t.equal(hello.connection, 'close', 'with Connection: close')
  const echo = await send(pod.port, 'POST', '/echo', '{"late":true}')
  t.same([echo.status, echo.body], [200, '{"late":true}'], 'a late POST body is served')

  t.equal((await pod.exited).code, 0)
  t.notOk(pod.logs.some((l) => l.msg.includes('Service Unavailable')), 'no Fastify closing 503')
})
