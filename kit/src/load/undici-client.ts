/**
 * The idle-pool load with undici (what Node's fetch runs on) instead of
 * node:http: one shared Pool, whose idle sockets close after the server's
 * `Keep-Alive: timeout=` hint minus undici's 2 s threshold (4 s without a
 * hint), unlike Node's `http.Agent`, which keeps them until the server closes
 * them. Every request is settled exactly once in the target's Recorder.
 *
 * undici does not hand a request its socket: its diagnostics channel
 * `undici:client:sendHeaders` does, when the request is written, so each
 * request carries an id of the load's own (`x-load-request`) that ties the
 * two together, and the request is counted on the pod its connection is
 * pinned to.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import { Pool, type Dispatcher } from 'undici'
import { failureOf, type Outcome } from './accounting.js'
import { clientLoops, type ClosedLoopOptions } from './client-loops.js'
import { nextRequest, requestHeaders, requestKind, type Load, type Target } from './target.js'

/** undici's error codes in the kinds the report shows. */
export function undiciFailureOf (err: Error & { code?: string }): Outcome {
  switch (err.code) {
    // "other side closed" / "socket hang up": the request crossed a close.
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED': return { kind: 'reset', code: err.code }
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT': return { kind: 'timeout', code: err.code }
    default: return failureOf(err)
  }
}

const SEND_HEADERS = 'undici:client:sendHeaders'
const REQUEST_ID = 'x-load-request'

/** Watches undici write requests: the local port each request of this load went out on, by its id. */
function requestPorts (): { readonly ports: Map<string, number>, readonly close: () => void } {
  const ports = new Map<string, number>()
  const onSend = (message: unknown): void => {
    const { request, socket } = message as { request: { headers: unknown }, socket: Socket }
    // undici 6 keeps a request's headers as a flat [name, value, ...] list.
    const headers = request.headers as string[]
    const at = headers.indexOf(REQUEST_ID)
    // Another pool's requests (the process may have more) are not this load's.
    if (at >= 0) ports.set(headers[at + 1] as string, socket.localPort as number)
  }
  subscribe(SEND_HEADERS, onSend)
  return { ports, close: () => { unsubscribe(SEND_HEADERS, onSend) } }
}

export function undiciLoop (target: Target, opts: ClosedLoopOptions): Load {
  const pool = new Pool(`http://${target.host}:${target.port}`, {
    headersTimeout: target.requestTimeoutMs,
    bodyTimeout: target.requestTimeoutMs
  })
  const sent = requestPorts()
  let serial = 0
  const sendOne = async (): Promise<Outcome> => {
    const spec = nextRequest(opts.request)
    const kind = requestKind(spec)
    const start = target.recorder.send(kind)
    const id = String(++serial)
    let outcome: Outcome
    try {
      const res = await pool.request({ method: spec.method as Dispatcher.HttpMethod, path: spec.path, body: spec.body, headers: { ...requestHeaders(spec), [REQUEST_ID]: id } })
      // Read to the end: a body cut midway rejects here, and is a failure.
      await res.body.text()
      outcome = { kind: 'response', status: res.statusCode }
    } catch (err) {
      outcome = undiciFailureOf(err as Error & { code?: string })
    }
    const port = sent.ports.get(id)
    sent.ports.delete(id)
    target.recorder.settle(start, outcome, target.podFor(port), kind)
    return outcome
  }
  return clientLoops(opts, sendOne, async () => { sent.close(); await pool.close() })
}
