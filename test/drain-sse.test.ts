// A Server-Sent Events stream is told to go away at drain start: it ends with
// a retry hint (the client reconnects, to another pod) instead of being cut at
// the deadline. Over HTTP/1.1 and HTTP/2.
import http from 'node:http'
import http2 from 'node:http2'
import { once } from 'node:events'
import t from 'tap'
import { spawnPod, type Pod } from './fixtures/drain/harness.js'

/** Reads the stream until its second event, sends SIGTERM, and returns the last event before it ended. */
async function lastEventAfterSigterm (stream: NodeJS.ReadableStream, pod: Pod): Promise<string> {
  let text = ''
  const ended = new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk) => { text += String(chunk) })
    stream.on('end', resolve)
    stream.on('error', reject)
  })
  while (!text.includes('data: 1')) await once(stream as NodeJS.EventEmitter, 'data')
  pod.kill('SIGTERM')
  await ended
  return text.slice(text.lastIndexOf('\n\n', text.length - 3) + 2)
}

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
  const last = await lastEventAfterSigterm(res, pod)
  t.match(last, /^retry: 500\nevent: reconnect\ndata: \{"reason":"draining"\}\n\n$/, 'the last event carries the retry hint')
  const exit = await pod.exited
  t.equal(exit.code, 0, 'and the drain is clean: nothing cut at the deadline')
  t.match(pod.logs.find((l) => l.drain === 'readiness-off'), { goAways: 1 })
})

t.test('over HTTP/2 (h2c) too: the stream ends with the retry hint and the session gets GOAWAY', async (t) => {
  const pod = await spawnPod({
    FIXTURE_HTTP2: 'h2c',
    PRESTOP_SLEEP_SECONDS: '0',
    TERMINATION_GRACE_PERIOD_SECONDS: '30',
    DRAIN_OPTIONS: JSON.stringify({ delayMs: 300, idleCloseMs: 300 })
  })
  t.teardown(() => { pod.kill('SIGKILL') })
  const session = http2.connect(`http://127.0.0.1:${pod.port}`)
  t.teardown(() => { session.destroy() })
  const goaways: number[] = []
  session.on('goaway', (code: number) => { goaways.push(code) })
  session.on('error', () => {})
  const stream = session.request({ ':path': '/events' })
  const [headers] = await once(stream, 'response') as [http2.IncomingHttpHeaders]
  t.equal(headers['content-type'], 'text/event-stream')
  const last = await lastEventAfterSigterm(stream, pod)
  t.match(last, /^retry: 500\nevent: reconnect\ndata: \{"reason":"draining"\}\n\n$/, 'the last event carries the retry hint')
  const exit = await pod.exited
  t.equal(exit.code, 0, 'clean drain: nothing cut')
  t.ok(goaways.length > 0 && goaways.every((c) => c === 0), 'the session was told to go away (NO_ERROR)')
  t.match(pod.logs.find((l) => l.drain === 'stopped'), { clean: true, http2: { sessions: 1, goaways: 1, forced: 0 } })
})
