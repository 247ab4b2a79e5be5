/**
 * The idle-pool load with undici (what Node's fetch runs on) instead of
 * node:http: one shared Pool, whose idle sockets close after the server's
 * `Keep-Alive: timeout=` hint minus undici's 2 s threshold (4 s without a
 * hint), unlike Node's `http.Agent`, which keeps them until the server closes
 * them. Every request is settled exactly once in the target's Recorder.
 *
 * undici does not hand a request its socket, so failures cannot be pinned to
 * a pod here (the report shows `?`); the pods' own drain reports still say
 * how each connection ended.
 */
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

export function undiciLoop (target: Target, opts: ClosedLoopOptions): Load {
  const pool = new Pool(`http://${target.host}:${target.port}`, {
    headersTimeout: target.requestTimeoutMs,
    bodyTimeout: target.requestTimeoutMs
  })
  const sendOne = async (): Promise<Outcome> => {
    const spec = nextRequest(opts.request)
    const kind = requestKind(spec)
    const start = target.recorder.send(kind)
    let outcome: Outcome
    try {
      const res = await pool.request({ method: spec.method as Dispatcher.HttpMethod, path: spec.path, body: spec.body, headers: requestHeaders(spec) })
      // Read to the end: a body cut midway rejects here, and is a failure.
      await res.body.text()
      outcome = { kind: 'response', status: res.statusCode }
    } catch (err) {
      outcome = undiciFailureOf(err as Error & { code?: string })
    }
    target.recorder.settle(start, outcome, undefined, kind)
    return outcome
  }
  return clientLoops(opts, sendOne, async () => { await pool.close() })
}
