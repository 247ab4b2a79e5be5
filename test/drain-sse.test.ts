// A Server-Sent Events stream is told to go away at drain start: it ends with
// a retry hint (the client reconnects, to another pod) instead of being cut at
// the deadline.
import http from 'node:http'
import { once } from 'node:events'
import t from 'tap'
import { spawnPod } from './fixtures/drain/harness.js'

t.test('an SSE stream ends with a retry hint when the drain starts', async (t) => {
  const pod = await spawnPod({
    PRESTOP_SLEEP_SECONDS: '0',
    TERMINATION_GRACE_PERIOD_SECONDS: '30',
    DRAIN_OPTIONS: JSON.stringify({ delayMs: 300, idleCloseMs: 300 })
  })
  t.teardown(() => { pod.kill('SIGKILL') })
  const agent = new http.Agent({ keepAlive: true })
  t.teardown(() => { agent.destroy() })

  const req = http.get({ host: '127.0.0.1', port: pod.port, path: '/events', agent })
  const [res] = await once(req, 'response') as [http.IncomingMessage]
  t.equal(res.headers['content-type'], 'text/event-stream')
  let text = ''
  const ended = new Promise<void>((resolve, reject) => {
    res.on('data', (chunk) => { text += String(chunk) })
    res.on('end', resolve)
    res.on('error', reject)
  })
  while (!text.includes('data: 1')) await once(res, 'data')

  pod.kill('SIGTERM')
  await ended
  const last = text.slice(text.lastIndexOf('\n\n', text.length - 3) + 2)
  t.match(last, /^retry: 500\nevent: reconnect\ndata: \{"reason":"draining"\}\n\n$/, 'the last event carries the retry hint')
  const exit = await pod.exited
  t.equal(exit.code, 0, 'and the drain is clean: nothing cut at the deadline')
  t.match(pod.logs.find((l) => l.drain === 'readiness-off'), { goAways: 1 })
})
