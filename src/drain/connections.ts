/**
 * Tracks every HTTP/1.1 connection and, from the drain start, the requests in
 * flight on it (those in flight at that instant are found through the socket,
 * pipelined ones queued behind them through the 'request' event), and
 * retires keep-alive connections without racing a client that is sending.
 *
 * Why not `server.close()` / Fastify's `forceCloseConnections`: since Node 19
 * `http.Server.close()` closes every idle keep-alive socket at once, and a
 * client that picked such a socket from its pool at that instant gets
 * ECONNRESET (measured: 8-13 resets per rollout with 200 pooled clients).
 * Instead, from the drain start every response carries `Connection: close`
 * (Node ends the socket after it; RFC 9112 forbids the client to send more),
 * and only connections that STAY idle are closed, late, when the chance that
 * their client picks them is smallest.
 *
 * Pipelining: Node parses every request of a write at once, emits 'request'
 * for each (so their handlers run) and queues their responses behind the one
 * in flight; after a response with `Connection: close` it ends the socket and
 * drops the responses still queued. So only the request read LAST on a
 * connection gets `Connection: close`, and a request read after that response
 * already went out (the client pipelined past it) is reported as cut: its
 * handler ran, its response cannot be sent.
 */
import { EventEmitter } from 'node:events'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { Server as TlsServer } from 'node:tls'
import type { ConnectionMaxAge, RetireReason, RetirementCounts } from '../connection-age/max-age.js'
import { scrub } from '../scrub.js'
import type { IdleClosePolicy, IdleSocket } from './idle-policy.js'
import { isHttp1Socket } from './http2-sessions.js'

interface Exchange {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly startedAt: number
  /** What Node made of the request (its `Connection` header, HTTP version) before the drain changed it. */
  readonly keepAlive: boolean
}

interface Pipelined {
  readonly req: IncomingMessage
  readonly res: ServerResponse
}

/** Exported for the idle policy's type only: its fields are the tracker's. */
export interface Connection {
  readonly socket: Socket
  readonly exchanges: Set<Exchange>
  /** Epoch ms since which no request is in flight (connection time at first). */
  idleSince: number
  /** The tracker's use counter at its last request (or its connection): orders connections by last use, like a LIFO pool. */
  lastUse: number
  /** `socket.bytesRead` when it became idle: more means a request is arriving. */
  bytesReadWhenIdle: number
  /** Taken over by an `upgrade` (WebSocket): busy until it closes. */
  upgraded: boolean
  /** Before the drain: requests read behind the one in flight, whose responses Node queues. */
  pipelined: Pipelined[]
  /** During the drain: the request read last, the only one answered with `Connection: close`. */
  tail: Exchange | undefined
  /** A `Connection: close` response went out: Node ends the socket after it. */
  closeAnnounced: boolean
  /** Half-closed by the drain (idle): waiting for its client's own close. */
  idleClosing: boolean
  /** Epoch ms since which bytes of a request arrived without complete headers (undefined: none). */
  partialSince: number | undefined
  /** When it reaches its max age, on the age's clock (Infinity: never). */
  readonly retireAt: number
  /** Retired before the drain (its requests watched as the drain's are), and why. */
  retiredFor: RetireReason | undefined
}

/** A request that was still in flight when the drain had to cut it. */
export interface CutRequest {
  readonly method: string
  readonly url: string
  /**
   * Since it arrived; for a request already in flight when the drain started,
   * since the drain started (0 when cut before any drain).
   */
  readonly ageMs: number
}

export interface ConnectionCounts {
  /** Open connections. */
  readonly connections: number
  /** Requests in flight (WebSockets count as one request each). */
  readonly inFlight: number
}

export interface ConnectionStats {
  /** Responses completed after the drain started. */
  readonly servedDuringDrain: number
  /** Connections that ended after a `Connection: close` response. */
  readonly retired: number
  /** Connections their client closed during the drain (no `Connection: close` sent on them). */
  readonly closedByClient: number
  /** Connections closed by the drain after staying idle for `idleCloseMs`. */
  readonly idleClosed: number
  /** Connections closed by the drain whose request headers stayed incomplete for `idleCloseMs` (slowloris). */
  readonly stalledClosed: number
  /** Connections destroyed at the deadline (or on a second signal). */
  readonly forced: number
}

/**
 * The response a connection is busy with, if any: Node keeps the response it
 * is writing as the socket's `_httpMessage` (set when the request is parsed,
 * cleared once the response is finished), which is how http-terminator tells
 * busy sockets from idle ones too.
 */
function responseInFlight (socket: Socket): ServerResponse | undefined {
  const res = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage
  return res === null || res === undefined || res.writableFinished ? undefined : res
}

/** Node's own flag, set when the headers went out with `Connection: close`: it ends the socket after this response. */
function endsConnection (res: ServerResponse): boolean {
  return (res as ServerResponse & { _last?: boolean })._last === true
}

function cutRequest (req: IncomingMessage, ageMs: number): CutRequest {
  // URLs may carry tokens (`/reset?token=...`): scrubbed like every output.
  return { method: String(req.method), url: scrub(String(req.url)), ageMs }
}

/** Both trackers' events: `change` after a connection (session) closes or a request (stream) completes. */
export interface TrackerEvents {
  change: []
}

export class ConnectionTracker extends EventEmitter<TrackerEvents> {
  readonly #connections = new Map<Socket, Connection>()
  readonly #now: () => number
  #retiring = false
  /** Epoch ms of the drain start (0 before): idle clocks never start earlier. */
  #retiringSince = 0
  #servedDuringDrain = 0
  #retired = 0
  #closedByClient = 0
  #idleClosed = 0
  #stalledClosed = 0
  #forced = 0
  /** Counts connections and requests; a counter, not a clock: the hot path pays an increment. */
  #uses = 0
  /** During the drain: per client address, epoch ms of the latest request read from it. */
  readonly #lastRequestAt = new Map<string, number>()
  readonly #discarded: CutRequest[] = []
  readonly #maxAge: ConnectionMaxAge | undefined
  #retiredByAge = 0
  /** `maxAge`: retire connections by age (connection-age/max-age.ts) while the server serves. */
  constructor (server: Server, now: () => number = Date.now, maxAge?: ConnectionMaxAge) {
    super()
    this.#now = now
    this.#maxAge = maxAge
    // TLS servers hand requests the TLS socket, not the raw one of 'connection'.
    const connectionEvent = server instanceof TlsServer ? 'secureConnection' : 'connection'
    // HTTP/2 sessions are tracked by Http2SessionTracker: only HTTP/1.x here.
    server.on(connectionEvent, (socket: Socket) => { if (isHttp1Socket(server, socket)) this.#track(socket) })
    // Requests are only watched once the drain has started: before it, the
    // hot path pays one check per request. Prepended so that it runs before
    // Fastify's handler, which may answer synchronously: `shouldKeepAlive`
    // must be set before headers are written.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      // An HTTP/2 stream through Node's compatibility API: not a connection.
      if (req.httpVersionMajor !== 1) return
      const c = this.#track(req.socket)
      if (this.#retiring || c.retiredFor !== undefined) {
        this.#watch(c, req, res)
        return
      }
      // Pipelined (its response is queued behind the one in flight): rare, and
      // the drain could not find it through the socket when it starts.
      if (responseInFlight(req.socket) !== res) this.#pipeline(c, req, res)
      // Which socket a LIFO pool reaches last: the idle close starts there (idle-policy.ts).
      c.lastUse = ++this.#uses
      // Looked at on use only: an idle connection is never closed for its age (that would race its client).
      if (this.#maxAge?.due(c.retireAt) === true) this.#retire(c, 'max_age')
    })
    // Only when the app handles upgrades itself (a WebSocket plugin registered
    // before listen): adding the first 'upgrade' listener would change how
    // Node treats upgrade requests nobody handles.
    server.once('listening', () => {
      if (server.listenerCount('upgrade') > 0) {
        server.prependListener('upgrade', (req: IncomingMessage) => { this.#onUpgrade(req) })
      }
    })
  }

  get counts (): ConnectionCounts {
    let inFlight = 0
    for (const c of this.#connections.values()) inFlight += c.exchanges.size + (c.upgraded ? 1 : 0)
    return { connections: this.#connections.size, inFlight }
  }

  /** Requests the drain read but could not answer: pipelined after their connection's last response. */
  get discarded (): readonly CutRequest[] {
    return this.#discarded
  }

  /** Connections retired while serving, by reason, since the server started. */
  get retirements (): RetirementCounts {
    return { max_age: this.#retiredByAge, max_age_grace_cut: 0 }
  }

  get stats (): ConnectionStats {
    return {
      servedDuringDrain: this.#servedDuringDrain,
      retired: this.#retired,
      closedByClient: this.#closedByClient,
      idleClosed: this.#idleClosed,
      stalledClosed: this.#stalledClosed,
      forced: this.#forced
    }
  }

  /** From now on every response carries `Connection: close`, including those in flight whose headers are not sent yet. */
  startRetiring (): void {
    this.#retiring = true
    this.#retiringSince = this.#now()
    for (const c of this.#connections.values()) {
      // The request in flight on each connection at drain start, and those
      // pipelined behind it, in the order read (a retired one's are watched already).
      if (c.retiredFor === undefined) for (const res of this.#pendingBeforeDrain(c)) this.#watch(c, res.req, res)
      c.pipelined = []
      c.bytesReadWhenIdle = c.socket.bytesRead
    }
  }

  /**
   * Closes idle connections as `policy` decides (see idle-policy.ts): those
   * with nothing in flight for `idleCloseMs`, counted from the later of their
   * last response and the drain start. A connection whose request headers
   * stay incomplete that long (counted from its first bytes) is destroyed:
   * a slowloris client must not hold the drain to its deadline, and a real
   * client sends its headers in milliseconds. Returns the milliseconds until
   * the policy or a partial request needs another look, or undefined.
   */
  closeIdle (policy: IdleClosePolicy<Connection>, idleCloseMs: number): number | undefined {
    const now = this.#now()
    let next: number | undefined
    const idle = new Map<Connection, IdleSocket>()
    for (const c of this.#connections.values()) {
      if (c.exchanges.size > 0 || c.upgraded) continue
      const idleSocket = { address: c.socket.remoteAddress ?? '', idleSince: Math.max(c.idleSince, this.#retiringSince), lastUse: c.lastUse }
      // Half-closed already: the policy waits for its client's close.
      if (c.idleClosing) {
        idle.set(c, idleSocket)
        continue
      }
      if (c.socket.bytesRead !== c.bytesReadWhenIdle || c.partialSince !== undefined) {
        c.partialSince ??= now
        c.bytesReadWhenIdle = c.socket.bytesRead
        const dueIn = Math.max(c.partialSince, this.#retiringSince) + idleCloseMs - now
        if (dueIn <= 0) {
          this.#stalledClosed++
          this.#close(c)
        } else {
          next = next === undefined ? dueIn : Math.min(next, dueIn)
        }
        continue
      }
      idle.set(c, idleSocket)
    }
    const plan = policy.plan(idle, this.#lastRequestAt)
    for (const c of plan.end) {
      c.idleClosing = true
      c.socket.end()
    }
    for (const c of plan.destroy) {
      this.#idleClosed++
      this.#close(c)
    }
    return next === undefined ? plan.nextInMs : Math.min(next, plan.nextInMs ?? next)
  }

  /** Destroys every connection left; returns the requests that were cut. */
  cut (): CutRequest[] {
    const now = this.#now()
    const cut: CutRequest[] = []
    for (const c of this.#connections.values()) {
      for (const { req, startedAt } of c.exchanges) cut.push(cutRequest(req, now - startedAt))
      // Cut before the drain started (an abort): nothing is watched yet.
      if (!this.#retiring && c.retiredFor === undefined) for (const res of this.#pendingBeforeDrain(c)) cut.push(cutRequest(res.req, 0))
      this.#forced++
      this.#close(c)
    }
    return cut
  }

  #track (socket: Socket): Connection {
    const existing = this.#connections.get(socket)
    if (existing !== undefined) return existing
    const c: Connection = {
      socket, exchanges: new Set(), idleSince: this.#now(), lastUse: ++this.#uses, bytesReadWhenIdle: 0, upgraded: false, pipelined: [], tail: undefined,
      closeAnnounced: false, idleClosing: false, partialSince: undefined, retireAt: this.#maxAge?.retireAt() ?? Number.POSITIVE_INFINITY, retiredFor: undefined
    }
    this.#connections.set(socket, c)
    socket.once('close', () => {
      // Still listed: it ended on its own (after a Connection: close response,
      // its client closed it, or its client answered the drain's idle close),
      // not by #close.
      if (this.#connections.delete(socket) && this.#retiring) {
        if (c.idleClosing) this.#idleClosed++
        else if (c.closeAnnounced) this.#retired++
        else this.#closedByClient++
      }
      this.emit('change')
    })
    return c
  }

  /** Unlisted at once: a destroyed socket is gone even before its 'close' event. */
  #close (c: Connection): void {
    this.#connections.delete(c.socket)
    c.socket.destroy()
  }

  /**
   * Retires one connection while the server serves, exactly as the drain
   * retires them all: from now on its requests are watched, and the one read
   * last gets `Connection: close` (those pipelined before it are answered
   * first, none gets a 503).
   */
  #retire (c: Connection, reason: RetireReason): void {
    c.retiredFor = reason
    this.#retiredByAge++
    for (const res of this.#pendingBeforeDrain(c)) this.#watch(c, res.req, res)
    c.pipelined = []
  }

  #pipeline (c: Connection, req: IncomingMessage, res: ServerResponse): void {
    c.pipelined = c.pipelined.filter((p) => !p.res.writableFinished)
    c.pipelined.push({ req, res })
  }

  /** The responses not finished on a connection before the drain watched it, in the order their requests were read. */
  #pendingBeforeDrain (c: Connection): ServerResponse[] {
    const pending = c.pipelined.map((p) => p.res).filter((res) => !res.writableFinished)
    const inFlight = responseInFlight(c.socket)
    // The first pipelined response becomes the socket's own once those before it finished.
    return inFlight === undefined || pending.includes(inFlight) ? pending : [inFlight, ...pending]
  }

  /** Follows one request from the drain on: it is in flight until its response closes. */
  #watch (c: Connection, req: IncomingMessage, res: ServerResponse): void {
    const exchange: Exchange = { req, res, startedAt: this.#now(), keepAlive: res.shouldKeepAlive }
    c.lastUse = ++this.#uses
    // The client reaching into its pool: the idle close of this address holds meanwhile.
    if (this.#retiring) this.#lastRequestAt.set(c.socket.remoteAddress ?? '', exchange.startedAt)
    // Read after a response that ended the connection (Node has ended the
    // socket): it is never answered. Needs the client's bytes to arrive in the
    // instant between that response and the socket's close, which no test can
    // arrange on purpose; those read before that instant are found by #ending.
    /* c8 ignore next 4 */
    if (c.socket.writableEnded) {
      this.#discarded.push(cutRequest(req, 0))
      return
    }
    // Only the request read last announces the close: announced on an earlier
    // one, Node would end the socket before answering those read after it.
    const previous = c.tail
    if (previous !== undefined && !previous.res.headersSent) previous.res.shouldKeepAlive = previous.keepAlive
    c.tail = exchange
    c.exchanges.add(exchange)
    if (!res.headersSent) res.shouldKeepAlive = false
    res.once('finish', () => {
      // A connection retired for its age before the drain: not the drain's.
      if (this.#retiring) this.#servedDuringDrain++
      if (endsConnection(res)) {
        c.closeAnnounced = true
        this.#ending(c, exchange)
      }
    })
    res.once('close', () => {
      c.exchanges.delete(exchange)
      c.idleSince = this.#now()
      c.bytesReadWhenIdle = c.socket.bytesRead
      c.partialSince = undefined
      this.emit('change')
    })
  }

  /** Node ends the socket after `last`: every response still pending on it is dropped. */
  #ending (c: Connection, last: Exchange): void {
    const now = this.#now()
    for (const e of c.exchanges) {
      if (e === last || e.res.writableFinished) continue
      c.exchanges.delete(e)
      this.#discarded.push(cutRequest(e.req, now - e.startedAt))
    }
  }

  #onUpgrade (req: IncomingMessage): void {
    this.#track(req.socket).upgraded = true
  }
}
