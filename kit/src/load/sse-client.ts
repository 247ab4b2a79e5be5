/**
 * Server-Sent Events clients. A stream that ends after the server sent a
 * `retry:` hint is a clean hand-over: the client reconnects after that many ms,
 * as EventSource does. A stream cut without the hint (or reset) is a dropped
 * request. Each stream counts as one request; streams still open when the load
 * stops count as served.
 */
import { request } from 'node:http'
import { setMaxListeners } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { failureOf, type Outcome } from './accounting.js'
import type { Load, Target } from './target.js'

/** Reconnect delay cap, so a huge hint cannot stall the run. */
const MAX_RETRY_MS = 5000

export function sseStreams (target: Target, streams: number, path = '/events'): Load {
  const abort = new AbortController()
  // Every client sleeps on this one signal.
  setMaxListeners(0, abort.signal)
  const kind = `GET ${path}`
  const stream = async (): Promise<number | undefined> => {
    const start = target.recorder.send(kind)
    let clientPort: number | undefined
    let retryMs: number | undefined
    const outcome = await new Promise<Outcome>((resolve) => {
      const req = request({ host: target.host, port: target.port, path, agent: false, headers: { accept: 'text/event-stream' }, signal: abort.signal }, (res) => {
        if (res.statusCode !== 200) {
          res.resume()
          resolve({ kind: 'response', status: res.statusCode as number })
          return
        }
        let buffered = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          buffered += chunk
          const lines = buffered.split('\n')
          buffered = lines.pop() as string
          for (const line of lines) {
            const m = /^retry:\s*(\d+)/.exec(line)
            if (m !== null) retryMs = Number(m[1])
          }
        })
        res.on('error', (err) => { resolve(abort.signal.aborted ? { kind: 'response', status: 200 } : failureOf(err)) })
        res.on('end', () => { resolve(retryMs === undefined ? { kind: 'cut' } : { kind: 'response', status: 200 }) })
      })
      req.on('socket', (socket) => { socket.once('connect', () => { clientPort = socket.localPort }) })
      req.on('error', (err) => { resolve(abort.signal.aborted ? { kind: 'response', status: 200 } : failureOf(err)) })
      req.end()
    })
    target.recorder.settle(start, outcome, target.podFor(clientPort), kind)
    return outcome.kind === 'response' ? retryMs : undefined
  }
  const client = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      const retryMs = await stream()
      await sleep(Math.min(retryMs ?? 50, MAX_RETRY_MS), undefined, { signal: abort.signal }).catch(() => {})
    }
  }
  const clients = Array.from({ length: streams }, client)
  return {
    async stop () {
      abort.abort()
      await Promise.all(clients)
    }
  }
}
