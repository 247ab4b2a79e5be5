/**
 * Tracks every HTTP/1.1 connection and, from the drain start, the requests in
 * flight on it (those in flight at that instant are found through the socket;
 * pipelined requests queued behind them are not, a case no common client
 * produces), and
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
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { Server as TlsServer } from 'node:tls'

interface Exchange {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly startedAt: number
}

interface Connection {
  readonly socket: Socket
  readonly exchanges: Set<Exchange>
  /** Epoch ms since which no request is in flight (connection time at first). */
  idleSince: number
  /** `socket.bytesRead` when it became idle: more means a request is arriving. */
  bytesReadWhenIdle: number
  /** Taken over by an `upgrade` (WebSocket): busy until it closes. */
  upgraded: boolean
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
  /** Connections that ended after a `Connection: close` response or by their client. */
  readonly retired: number
  /** Connections closed by the drain after staying idle for `idleCloseMs`. */
  readonly idleClosed: number
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

export class ConnectionTracker {
  readonly #connections = new Map<Socket, Connection>()
  readonly #now: () => number
  #retiring = false
  /** Epoch ms of the drain start (0 before): idle clocks never start earlier. */
  #retiringSince = 0
  #servedDuringDrain = 0
  #retired = 0
  #idleClosed = 0
  #forced = 0
  /** Called after a connection closes or a request completes. */
  onChange: () => void = () => {}

  constructor (server: Server, now: () => number = Date.now) {
    this.#now = now
    // TLS servers hand requests the TLS socket, not the raw one of 'connection'.
    const connectionEvent = server instanceof TlsServer ? 'secureConnection' : 'connection'
    server.on(connectionEvent, (socket: Socket) => { this.#track(socket) })
    // Requests are only watched once the drain has started: before it, the
    // hot path pays one check per request. Prepended so that it runs before
    // Fastify's handler, which may answer synchronously: `shouldKeepAlive`
    // must be set before headers are written.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      if (this.#retiring) this.#watch(this.#track(req.socket), req, res)
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

  get stats (): ConnectionStats {
    return { servedDuringDrain: this.#servedDuringDrain, retired: this.#retired, idleClosed: this.#idleClosed, forced: this.#forced }
  }

  /** From now on every response carries `Connection: close`, including those in flight whose headers are not sent yet. */
  startRetiring (): void {
    this.#retiring = true
    this.#retiringSince = this.#now()
    for (const c of this.#connections.values()) {
      // The request in flight on each connection at drain start.
      const res = responseInFlight(c.socket)
      if (res !== undefined) this.#watch(c, res.req, res)
      c.bytesReadWhenIdle = c.socket.bytesRead
    }
  }

  /**
   * Closes connections with nothing in flight that have stayed idle for
   * `idleCloseMs`, counted from the later of their last response and the
   * drain start. Returns the milliseconds until the next idle connection is
   * due, or undefined when none is idle.
   */
  closeIdle (idleCloseMs: number): number | undefined {
    const now = this.#now()
    let next: number | undefined
    for (const c of this.#connections.values()) {
      if (c.exchanges.size > 0 || c.upgraded) continue
      if (c.socket.bytesRead !== c.bytesReadWhenIdle) {
        // Part of a request has arrived but not its headers yet: closing now
        // would reset the client; look again later (the deadline bounds it).
        c.idleSince = now
        c.bytesReadWhenIdle = c.socket.bytesRead
      }
      const dueIn = Math.max(c.idleSince, this.#retiringSince) + idleCloseMs - now
      if (dueIn <= 0) {
        this.#idleClosed++
        this.#close(c)
      } else if (next === undefined || dueIn < next) {
        next = dueIn
      }
    }
    return next
  }

  /** Destroys every connection left; returns the requests that were cut. */
  cut (): CutRequest[] {
    const now = this.#now()
    const cut: CutRequest[] = []
    for (const c of this.#connections.values()) {
      for (const { req, startedAt } of c.exchanges) {
        cut.push({ method: String(req.method), url: String(req.url), ageMs: now - startedAt })
      }
      // Cut before the drain started (an abort): nothing is watched yet.
      const unwatched = c.exchanges.size === 0 ? responseInFlight(c.socket) : undefined
      if (unwatched !== undefined) cut.push({ method: String(unwatched.req.method), url: String(unwatched.req.url), ageMs: 0 })
      this.#forced++
      this.#close(c)
    }
    return cut
  }

  #track (socket: Socket): Connection {
    const existing = this.#connections.get(socket)
    if (existing !== undefined) return existing
    const c: Connection = { socket, exchanges: new Set(), idleSince: this.#now(), bytesReadWhenIdle: 0, upgraded: false }
    this.#connections.set(socket, c)
    socket.once('close', () => {
      // Still listed: it ended on its own (after a Connection: close response,
      // or its client closed it), not by #close.
      if (this.#connections.delete(socket) && this.#retiring) this.#retired++
      this.onChange()
    })
    return c
  }

  /** Unlisted at once: a destroyed socket is gone even before its 'close' event. */
  #close (c: Connection): void {
    this.#connections.delete(c.socket)
    c.socket.destroy()
  }

  /** Follows one request from the drain on: it is in flight until its response closes. */
  #watch (c: Connection, req: IncomingMessage, res: ServerResponse): void {
    const exchange: Exchange = { req, res, startedAt: this.#now() }
    c.exchanges.add(exchange)
    if (!res.headersSent) res.shouldKeepAlive = false
    res.once('finish', () => { this.#servedDuringDrain++ })
    res.once('close', () => {
      c.exchanges.delete(exchange)
      c.idleSince = this.#now()
      c.bytesReadWhenIdle = c.socket.bytesRead
      this.onChange()
    })
  }

  #onUpgrade (req: IncomingMessage): void {
    this.#track(req.socket).upgraded = true
  }
}
