/**
 * WebSocket clients (undici's WebSocket, already the kit's HTTP client: no
 * other dependency). A connection closed by the server with 1001 "Going
 * Away" (what the plugin's `closeWebSocket` sends in its drain), 1000 or
 * 1012 "Service Restart" is a clean hand-over: the client reconnects, as a
 * browser app would. A connection that ends any other way (1006: cut without
 * a close frame) is a dropped request, one that never opened a refused one.
 * Each connection counts as one request; connections still open when the
 * load stops count as served.
 *
 * undici does not hand out a connection's socket, so failures cannot be
 * pinned to a pod here (the report shows `?`).
 */
import { setMaxListeners } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { WebSocket } from 'undici'
import type { Outcome } from './accounting.js'
import type { Load, Target } from './target.js'

/** Close codes that hand the client over cleanly. */
const HAND_OVER = new Set([1000, 1001, 1012])
/** The pause before a reconnect, so a server that refuses at once is not hammered. */
const RECONNECT_MS = 50

export function webSocketClients (target: Target, connections: number, path: string): Load {
  const abort = new AbortController()
  // Every client waits on this one signal.
  setMaxListeners(0, abort.signal)
  const kind = `GET ${path} (WebSocket)`
  const host = target.host.includes(':') ? `[${target.host}]` : target.host
  const connection = async (): Promise<void> => {
    const start = target.recorder.send(kind)
    const outcome = await new Promise<Outcome>((resolve) => {
      const ws = new WebSocket(`ws://${host}:${target.port}${path}`)
      let opened = false
      const stop = (): void => { ws.close(1000) }
      const end = (code: number): void => {
        abort.signal.removeEventListener('abort', stop)
        if (abort.signal.aborted || (opened && HAND_OVER.has(code))) resolve({ kind: 'response', status: 200 })
        else resolve(opened ? { kind: 'cut', code: `close ${code}` } : { kind: 'refused', code: 'upgrade failed' })
      }
      abort.signal.addEventListener('abort', stop, { once: true })
      ws.addEventListener('open', () => { opened = true })
      // undici fires no 'close' for a connection that never opened, only
      // 'error'; an error ends the connection as 1006 (no close frame) does.
      // Whichever comes first settles it.
      ws.addEventListener('error', () => { end(1006) })
      ws.addEventListener('close', (event) => { end(event.code) })
    })
    target.recorder.settle(start, outcome, undefined, kind)
  }
  const client = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      await connection()
      await sleep(RECONNECT_MS, undefined, { signal: abort.signal }).catch(() => {})
    }
  }
  const clients = Array.from({ length: connections }, client)
  return {
    async stop () {
      abort.abort()
      await Promise.all(clients)
    }
  }
}
