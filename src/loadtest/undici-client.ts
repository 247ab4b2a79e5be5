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
import { setMaxListeners } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { Pool } from 'undici'
import { failureOf, type Outcome } from './accounting.js'
import type { ClosedLoopOptions, Load, Target } from './http-client.js'

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

/** A pause after a failure, so a client that keeps failing does not spin. */
const BACKOFF_MS = 50

export function undiciLoop (target: Target, opts: ClosedLoopOptions): Load {
  let stopping = false
  const abort = new AbortController()
  setMaxListeners(0, abort.signal)
  const pool = new Pool(`http://${target.host}:${target.port}`, {
    headersTimeout: target.requestTimeoutMs,
    bodyTimeout: target.requestTimeoutMs
  })
  const think = opts.thinkMs ?? 0
  const once = async (): Promise<Outcome> => {
    const start = target.recorder.send()
    let outcome: Outcome
    try {
      const res = await pool.request({ method: opts.request.method, path: opts.request.path, body: opts.request.body, headers: opts.request.body === undefined ? {} : { 'content-type': 'application/json' } })
      await res.body.dump()
      outcome = { kind: 'response', status: res.statusCode }
    } catch (err) {
      outcome = undiciFailureOf(err as Error & { code?: string })
    }
    target.recorder.settle(start, outcome, undefined)
    return outcome
  }
  const client = async (): Promise<void> => {
    while (!stopping) {
      const outcome = await once()
      const failed = outcome.kind !== 'response' || outcome.status >= 300
      const pause = (failed ? BACKOFF_MS : 0) + (think > 0 ? Math.random() * think : 0)
      if (pause > 0) await sleep(pause, undefined, { signal: abort.signal }).catch(() => {})
    }
  }
  const clients = Array.from({ length: opts.connections }, client)
  return {
    async stop () {
      stopping = true
      abort.abort()
      await Promise.all(clients)
      await pool.close()
    }
  }
}
