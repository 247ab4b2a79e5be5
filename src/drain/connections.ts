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
import { scrub } from '../scrub.js'
import { IdleClosePolicy, type IdleSocket } from './idle-policy.js'
import { isHttp1Socket } from './http2-sessions.js'
import { advertise } from './keep-alive-hint.js'
import {
  DRAIN_REASON,
  type ConnectionState, type CutRequest, type IdleClose, type TrackedConnection, type TransportCounts, type TransportEndings, type TransportEvents, type TransportTracker
} from './transport.js'

export type { CutRequest } from './transport.js'

interface Exchange {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly startedAt: number
  /** What Node made of the request (its `Connection` header, HTTP version) before the drain changed it. */
  readonly keepAlive: boolean
  /** Its response is the connection's last: it must say `Connection: close`, whatever the route set. */
  closes: boolean
}

interface Pipelined {
  readonly req: IncomingMessage
  readonly res: ServerResponse
}

/** One HTTP/1.x connection; its fields are the tracker's, its `state` is what others read. */
export interface Connection extends TrackedConnection {
  readonly socket: Socket
  /** Why it was told to leave (`retire`), if it was. */
  retiredFor: string | undefined
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
}

export type ConnectionCounts = TransportCounts

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

type HeaderArgs = Parameters<ServerResponse['writeHead']>

/** `headers` without any `Connection` entry (object, or flat array of names and values): a copy when it had one (the caller's own is left alone), else itself. */
function withoutConnection (headers: unknown): unknown {
  const isConnection = (name: unknown): boolean => typeof name === 'string' && name.toLowerCase() === 'connection'
  if (Array.isArray(headers)) {
    const flat: unknown[] = []
    for (let i = 0; i < headers.length; i += 2) if (!isConnection(headers[i])) flat.push(headers[i], headers[i + 1])
    return flat.length === headers.length ? headers : flat
  }
  if (typeof headers !== 'object' || headers === null) return headers
  const names = Object.keys(headers)
  return names.some(isConnection) ? Object.fromEntries(Object.entries(headers).filter(([name]) => !isConnection(name))) : headers
}

/**
 * Node takes a `Connection` header the app set as the app's decision: a
 * route's own `Connection: keep-alive` (reply.header, setHeader, writeHead)
 * turns `shouldKeepAlive` back on and the drain's close is lost, so the
 * connection stays open until the idle close. On the response that ends its
 * connection, the app's `Connection` header becomes `Connection: close` as
 * the headers go out.
 */
function enforceClose (exchange: Exchange): void {
  const { res } = exchange
  const writeHead = res.writeHead
  res.writeHead = function (this: ServerResponse, ...args: HeaderArgs) {
    if (exchange.closes) {
      // writeHead(statusCode, [statusMessage], [headers]): the headers, if any, come last.
      const last = args.length - 1
      const stripped = last > 0 ? withoutConnection(args[last]) : args[0]
      if (this.hasHeader('connection') || stripped !== args[last]) {
        args[last] = stripped as never
        // Said, not just done: removing the header would close the socket
        // without telling the client, which might send on it meanwhile.
        this.setHeader('Connection', 'close')
      }
    }
    return writeHead.apply(this, args)
  } as ServerResponse['writeHead']
}

function cutRequest (req: IncomingMessage, ageMs: number): CutRequest {
  // URLs may carry tokens (`/reset?token=...`): scrubbed like every output.
  return { method: String(req.method), url: scrub(String(req.url)), ageMs }
}

/** Both trackers' events: `change` after a connection (session) closes or a request (stream) completes. */
export type TrackerEvents = TransportEvents

function stateOf (c: Connection): ConnectionState {
  if (c.idleClosing) return 'closing'
  if (c.retiredFor !== undefined) return 'retiring'
  return c.exchanges.size > 0 || c.upgraded || responseInFlight(c.socket) !== undefined ? 'busy' : 'idle'
}

export class ConnectionTracker extends EventEmitter<TrackerEvents> implements TransportTracker<Connection> {
  readonly kind = 'http1'
  readonly #connections = new Map<Socket, Connection>()
  readonly #now: () => number
  readonly #retiredBy: Record<string, number> = {}
  #policy: IdleClosePolicy<Connection> | undefined
  #idleCloseMs = 0
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
  readonly #onUse: ((c: Connection) => void) | undefined
  readonly #keepAliveHintMs: number
  /**
   * `onUse`: called at each request read on a connection not leaving yet
   * (connection-age/max-age.ts retires it there); `keepAliveHintMs`: the
   * `Keep-Alive: timeout` every response advertises (keep-alive-hint.ts; 0: Node's own).
   */
  constructor (server: Server, now: () => number = Date.now, onUse?: (c: Connection) => void, keepAliveHintMs = 0) {
    super()
    this.#now = now
    this.#onUse = onUse
    this.#keepAliveHintMs = keepAliveHintMs
    // TLS servers hand requests the TLS socket, not the raw one of 'connection'.
    const connectionEvent = server instanceof TlsServer ? 'secureConnection' : 'connection'
    // HTTP/2 sessions are tracked by Http2SessionTracker: only HTTP/1.x here.
    server.on(connectionEvent, (socket: Socket) => { if (isHttp1Socket(server, socket)) this.#track(socket) })
    // Requests are only watched once the drain has started: before it, the
    // hot path pays one check per request. Prepended so that it runs before
    // Fastify's handler, which may answer synchronously: `shouldKeepAlive`
    // and the keep-alive hint must be set before headers are written. The
    // plugin's only `request` listener: each one more costs every request.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      // An HTTP/2 stream through Node's compatibility API: not a connection.
      if (req.httpVersionMajor !== 1) return
      if (this.#keepAliveHintMs !== 0) advertise(res, this.#keepAliveHintMs)
      const c = this.#track(req.socket)
      if (c.retiredFor !== undefined) {
        this.#watch(c, req, res)
        return
      }
      // Pipelined (its response is queued behind the one in flight): rare, and
      // the drain could not find it through the socket when it starts.
      if (responseInFlight(req.socket) !== res) this.#pipeline(c, req, res)
      // Which socket a LIFO pool reaches last: the idle close starts there (idle-policy.ts).
      c.lastUse = ++this.#uses
      this.#onUse?.(c)
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

  get endings (): TransportEndings {
    const { servedDuringDrain, ...rest } = this.stats
    return { served: servedDuringDrain, ...rest }
  }

  get retiredBy (): Readonly<Record<string, number>> {
    return { ...this.#retiredBy }
  }

  connections (): Iterable<Connection> {
    return this.#connections.values()
  }

  /**
   * Tells one connection to leave after its response in flight, or after its
   * next one when idle (closing an idle socket would race its client).
   */
  retire (c: Connection, reason: string): boolean {
    if (this.#connections.get(c.socket) !== c || c.retiredFor !== undefined) return false
    c.retiredFor = reason
    this.#retiredBy[reason] = (this.#retiredBy[reason] ?? 0) + 1
    // The request in flight at this instant, and those pipelined behind it, in the order read.
    for (const res of this.#pendingBeforeDrain(c)) this.#watch(c, res.req, res)
    c.pipelined = []
    return true
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
  startRetiring ({ idleCloseMs, spacingMs }: IdleClose): void {
    this.#retiring = true
    this.#retiringSince = this.#now()
    this.#idleCloseMs = idleCloseMs
    this.#policy = new IdleClosePolicy<Connection>({ idleCloseMs, spacingMs }, this.#now)
    for (const c of this.#connections.values()) {
      this.retire(c, DRAIN_REASON)
      c.bytesReadWhenIdle = c.socket.bytesRead
    }
  }

  /** Half-closed connections still waiting for their client's close (the idle policy's). */
  get idleClosing (): number {
    return this.#policy?.closing ?? 0
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
  closeIdle (): number | undefined {
    const policy = this.#policy
    if (policy === undefined) return undefined
    const idleCloseMs = this.#idleCloseMs
    const now = this.#now()
    let next: number | undefined
    const idle = new Map<Connection, IdleSocket>()
    for (const c of this.#connections.values()) {
      if (c.exchanges.size > 0 || c.upgraded) continue
      const idleSocket = { address: c.remoteAddress, idleSince: Math.max(c.idleSince, this.#retiringSince), lastUse: c.lastUse }
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
      // Cut before the drain started (an abort): nothing is watched yet, unless
      // it was retired (for its age): then its exchanges above are all of them.
      if (!this.#retiring && c.retiredFor === undefined) for (const res of this.#pendingBeforeDrain(c)) cut.push(cutRequest(res.req, 0))
      this.#forced++
      this.#close(c)
    }
    return cut
  }

  #track (socket: Socket): Connection {
    const existing = this.#connections.get(socket)
    if (existing !== undefined) return existing
    const now = this.#now()
    const c: Connection = {
      socket, exchanges: new Set(), idleSince: now, lastUse: ++this.#uses, bytesReadWhenIdle: 0, upgraded: false, pipelined: [], tail: undefined,
      closeAnnounced: false, idleClosing: false, partialSince: undefined, retiredFor: undefined,
      openedAt: now,
      // Read once, here: Node caches the peer address from its first read, so
      // later reads answer the same; undefined only for a socket its client
      // reset before the accept (getpeername: ENOTCONN).
      remoteAddress: socket.remoteAddress ?? '',
      get state () { return stateOf(c) }
    }
    this.#connections.set(socket, c)
    // Accepted during the drain: it leaves after its first response.
    if (this.#retiring) this.retire(c, DRAIN_REASON)
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
    const exchange: Exchange = { req, res, startedAt: this.#now(), keepAlive: res.shouldKeepAlive, closes: false }
    c.lastUse = ++this.#uses
    // The client reaching into its pool: the idle close of this address holds meanwhile.
    this.#lastRequestAt.set(c.remoteAddress, exchange.startedAt)
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
    if (previous !== undefined && !previous.res.headersSent) {
      previous.res.shouldKeepAlive = previous.keepAlive
      previous.closes = false
    }
    c.tail = exchange
    c.exchanges.add(exchange)
    if (!res.headersSent) {
      res.shouldKeepAlive = false
      exchange.closes = true
      enforceClose(exchange)
    }
    res.once('finish', () => {
      // Outside the drain (a connection retired by age): no drain to count for.
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
