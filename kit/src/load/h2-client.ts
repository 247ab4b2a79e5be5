/**
 * gRPC-style HTTP/2 clients: a few long-lived sessions (h2c, prior
 * knowledge), many concurrent streams on each, and a new session as soon as
 * the old one is told to go away (GOAWAY) or ends, the way gRPC channels
 * behave. Every stream is settled exactly once in the Recorder.
 *
 * A stream refused before the server processed it (REFUSED_STREAM, or
 * `request()` on a session already going away) is retried once on the next
 * session, as gRPC does transparently: RFC 9113 8.7 guarantees it was not
 * processed. It is still one request in the accounting (one `send`, one
 * `settle`); the retries are counted apart (`counts.retried`, in the report).
 */
import { connect, type ClientHttp2Session } from 'node:http2'
import { setMaxListeners } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { failureOf, type Outcome } from './accounting.js'
import { nextRequest, requestHeaders, requestKind, type Load, type RequestSource, type RequestSpec, type Target } from './target.js'

export interface H2LoadOptions {
  /** Sessions (channels) kept open at once. */
  readonly sessions: number
  /** Concurrent streams on each session, each started as soon as the last one settled. */
  readonly streams: number
  /** The one request every stream sends, or a draw from a requests file's mix. */
  readonly request: RequestSource
}

const BACKOFF_MS = 50
/** A refused stream is sent again at most this many times before it counts as refused. */
const MAX_RETRIES = 3

/** Streams refused without being processed (RFC 9113 8.7), safe to send again. */
function refusedUnprocessed (err: Error & { code?: string }): boolean {
  return err.code === 'ERR_HTTP2_GOAWAY_SESSION' || err.code === 'ERR_HTTP2_INVALID_SESSION' ||
    /REFUSED_STREAM/.test(err.message)
}

/** One channel: the current session, replaced once it goes away. */
class Channel {
  readonly #target: Target
  #current: ClientHttp2Session | undefined
  /** A session being opened: every stream of the channel waits for the same one. */
  #opening: Promise<ClientHttp2Session> | undefined
  #pod: string | undefined
  sessionsOpened = 0

  constructor (target: Target) {
    this.#target = target
  }

  get pod (): string | undefined {
    return this.#pod
  }

  /** The open session, or a new one when the last went away. Rejects when it cannot connect. */
  async session (): Promise<ClientHttp2Session> {
    const current = this.#current
    if (current !== undefined && !current.closed && !current.destroyed) return current
    this.#opening ??= new Promise<ClientHttp2Session>((resolve, reject) => {
      const session = connect(`http://${this.#target.host}:${this.#target.port}`)
      session.once('connect', () => {
        this.#current = session
        this.#opening = undefined
        this.sessionsOpened++
        this.#pod = this.#target.podFor(session.socket.localPort)
        resolve(session)
      })
      session.once('error', (err) => {
        if (this.#current === session) return
        this.#opening = undefined
        reject(err)
      })
      // Errors after connect end the session; its streams see them.
      session.on('error', () => {})
    })
    return await this.#opening
  }

  close (): void {
    this.#current?.destroy()
  }
}

async function streamOnce (target: Target, session: ClientHttp2Session, spec: RequestSpec): Promise<Outcome | 'retry'> {
  return await new Promise((resolve) => {
    // `session` is open: the channel hands out no other, and nothing runs between that check and
    // this call, so request() cannot meet a GOAWAY here. Should it throw anyway, the promise
    // rejects and the caller counts a request that was not sent.
    const req = session.request({ ...requestHeaders(spec), ':method': spec.method, ':path': spec.path })
    let status = 0
    const timer = setTimeout(() => { resolve({ kind: 'timeout' }); req.close() }, target.requestTimeoutMs)
    const settle = (o: Outcome | 'retry'): void => { clearTimeout(timer); resolve(o) }
    req.on('response', (headers) => { status = Number(headers[':status']) })
    req.on('end', () => { settle(status === 0 ? { kind: 'cut' } : { kind: 'response', status }) })
    req.on('error', (err: Error & { code?: string }) => {
      if (refusedUnprocessed(err)) settle('retry')
      // A stream reset or a session destroyed mid-stream: it was sent and lost.
      else settle(/CANCEL|INTERNAL_ERROR|STREAM_CLOSED/.test(err.message) ? { kind: 'reset', code: err.code } : failureOf(err))
    })
    req.resume()
    req.end(spec.body)
  })
}

export function grpcStyle (target: Target, opts: H2LoadOptions): Load {
  let stopping = false
  const abort = new AbortController()
  setMaxListeners(0, abort.signal)
  const channels = Array.from({ length: opts.sessions }, () => new Channel(target))
  const stream = async (channel: Channel): Promise<void> => {
    while (!stopping) {
      const spec = nextRequest(opts.request)
      const kind = requestKind(spec)
      const start = target.recorder.send(kind)
      let outcome: Outcome | 'retry' = 'retry'
      for (let attempt = 0; outcome === 'retry' && attempt <= MAX_RETRIES; attempt++) {
        if (attempt > 0) target.recorder.retry()
        try {
          outcome = await streamOnce(target, await channel.session(), spec)
        } catch (err) {
          // No session (the balancer had no endpoint or the pod refused the connection), or a
          // request the session would not write: nothing was sent.
          outcome = failureOf(err as Error)
        }
      }
      const final: Outcome = outcome === 'retry' ? { kind: 'refused', code: 'REFUSED_STREAM' } : outcome
      target.recorder.settle(start, final, channel.pod, kind)
      if (final.kind !== 'response' || final.status >= 300) await sleep(BACKOFF_MS, undefined, { signal: abort.signal }).catch(() => {})
    }
  }
  const running = channels.flatMap((c) => Array.from({ length: opts.streams }, async () => { await stream(c) }))
  return {
    async stop () {
      stopping = true
      abort.abort()
      await Promise.all(running)
      for (const c of channels) c.close()
    }
  }
}
