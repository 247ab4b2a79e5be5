/**
 * Tracks HTTP/2 sessions (h2c, h2 over TLS, the h2 side of an `allowHTTP1`
 * server) and the streams open on each, and retires sessions with GOAWAY the
 * graceful way (RFC 9113 section 6.8), so no stream is refused or reset:
 *
 *   1. a GOAWAY with last-stream-id 2^31-1: refuses nothing, the client stops
 *      opening streams on this session (and opens a new one elsewhere);
 *   2. a PING: once its ACK is back, every stream the client opened before it
 *      saw the first GOAWAY has reached us (one connection, in order);
 *   3. the final GOAWAY with the real last stream id (`session.close()`),
 *      after which Node ends the session once its last stream finishes.
 *
 * Why the first GOAWAY is written as a raw frame: Node's
 * `session.goaway(0, 2 ** 31 - 1)` reaches nghttp2's `nghttp2_submit_goaway`,
 * which marks the GOAWAY as sent and from then on silently IGNORES every new
 * stream, and the final GOAWAY then refuses the streams the client had sent in
 * between (measured on Node 20: 20 of 60 streams refused). nghttp2's graceful
 * `nghttp2_submit_shutdown_notice` is not exposed by Node. The 17-byte frame
 * goes through the socket's own write path, queued after whole frames Node
 * wrote, so it never splits one; nghttp2 does not know it was sent and keeps
 * accepting streams until step 3. h2c: the TCP socket, whose writes and the
 * session's share libuv's ordered queue. h2 over TLS: the TLS socket under a
 * TlsSessionTransport (http2-transport.ts), through which every write of the
 * session passes in JavaScript; without it (Node's listener not found) the
 * sequence is the final GOAWAY alone (see #goAway).
 *
 * Streams, not sessions, are the requests: `servedStreams` counts streams
 * completed from the drain start, `cut` names those the deadline cut.
 */
import { EventEmitter } from 'node:events'
import { constants, type Http2Session, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2'
import type { Server } from 'node:net'
import type { Socket } from 'node:net'
import { Server as TlsServer } from 'node:tls'
import { scrub } from '../scrub.js'
import { SYSTEM_CLOCK, type Clock } from '../clock.js'
import { interposeTlsTransport, type TlsSessionTransport } from './http2-transport.js'
import {
  DRAIN_REASON,
  type ConnectionState, type CutRequest, type IdleClose, type TrackedConnection, type TransportCounts, type TransportEndings, type TransportEvents, type TransportTracker
} from './transport.js'

/** RFC 9113 6.8 / 6.5: the largest stream id, "refuse nothing". */
const MAX_STREAM_ID = 2 ** 31 - 1
const FRAME_GOAWAY = 0x7

/** A GOAWAY frame (RFC 9113 6.8): 9-byte header on stream 0, last-stream-id, NO_ERROR. */
function goAwayFrame (lastStreamId: number): Buffer {
  const frame = Buffer.alloc(17)
  frame.writeUIntBE(8, 0, 3)
  frame[3] = FRAME_GOAWAY
  frame.writeUInt32BE(lastStreamId, 9)
  return frame
}

/** Node's http2 servers (h2c and secure) have `updateSettings`; http/https servers do not. */
export function isHttp2Server (server: Server): boolean {
  return typeof (server as Server & { updateSettings?: unknown }).updateSettings === 'function'
}

/**
 * Whether a socket accepted by `server` speaks HTTP/1.x: every socket of an
 * http/https server; on an h2 server only TLS sockets that negotiated
 * `http/1.1` or no ALPN (served only with `allowHTTP1`). Node's h2c server
 * speaks HTTP/2 with prior knowledge only.
 */
export function isHttp1Socket (server: Server, socket: Socket): boolean {
  if (!isHttp2Server(server)) return true
  const alpn = (socket as Socket & { alpnProtocol?: string | false }).alpnProtocol
  return server instanceof TlsServer && (alpn === false || alpn === 'http/1.1')
}

interface Stream {
  readonly method: string
  readonly path: string
  readonly startedAt: number
}

/** One HTTP/2 session; its fields are the tracker's, its `state` is what others read. */
export interface Session extends TrackedConnection {
  readonly session: Http2Session
  /** Where the first GOAWAY is written (the TCP socket for h2c, the TLS one under a transport); none: final GOAWAY alone. */
  readonly frames: Socket | undefined
  readonly streams: Map<ServerHttp2Stream, Stream>
  idleSince: number
  /** 'open' → 'notified' (first GOAWAY out, PING pending) → 'closing' (final GOAWAY out); 'cut': destroyed at the deadline. */
  phase: 'open' | 'notified' | 'closing' | 'cut'
  /** Why it was told to go away: retired (busy, opened during the drain, or by a caller), or it stayed idle. */
  goneAway: 'retired' | 'idle' | undefined
  /** Cancels the bound on the PING's answer. */
  cancelPingBound: () => void
}

function stateOf (s: Session): ConnectionState {
  if (s.phase === 'open') return s.streams.size > 0 ? 'busy' : 'idle'
  return s.phase === 'notified' ? 'retiring' : 'closing'
}

export interface Http2Counts {
  /** Open HTTP/2 sessions. */
  readonly sessions: number
  /** Streams open on them. */
  readonly streams: number
}

export interface Http2Stats {
  /** Sessions seen since the server started. */
  readonly sessions: number
  /** Streams received since the server started. */
  readonly streams: number
  /** Streams answered in full after the drain started (not those their client reset, nor those cut at the deadline). */
  readonly streamsServed: number
  /** Sessions told to go away (graceful GOAWAY sequence started). */
  readonly goaways: number
  /** Sessions that ended during the drain after it told them to go away while they were busy. */
  readonly retired: number
  /** Sessions their client closed during the drain before it told them to go away. */
  readonly closedByClient: number
  /** Sessions that ended after the drain told them to go away for staying idle `idleCloseMs`. */
  readonly idleClosed: number
  /** Sessions destroyed at the deadline (or on a second signal). */
  readonly forced: number
}

export interface Http2TrackerOptions {
  /** Put a TlsSessionTransport under h2-over-TLS sessions (drain.http2TlsTransport). */
  readonly tlsTransport?: boolean
  readonly clock?: Clock
  /**
   * How long a session told to go away may take to answer the drain's PING
   * before the final GOAWAY goes out anyway (drain.idleCloseSpacingMs, the
   * bound HTTP/1.1 gives a peer that never answers a FIN).
   */
  readonly pingTimeoutMs?: number
  /** Called at each stream opened on a session not leaving yet (connection-age/max-age.ts retires it there). */
  readonly onUse?: (s: Session) => void
}

/** Used when `pingTimeoutMs` is 0 (every idle connection closed at once): still wait one such bound for the ACK. */
const DEFAULT_PING_TIMEOUT_MS = 250

export class Http2SessionTracker extends EventEmitter<TransportEvents> implements TransportTracker<Session> {
  readonly kind = 'http2'
  readonly #sessions = new Map<Http2Session, Session>()
  readonly #now: () => number
  readonly #clock: Clock
  readonly #pingTimeoutMs: number
  readonly #retiredBy: Record<string, number> = {}
  #idleCloseMs = 0
  #retiring = false
  #retiringSince = 0
  #seen = 0
  #streams = 0
  #streamsServed = 0
  #goaways = 0
  #retired = 0
  #closedByClient = 0
  #idleClosed = 0
  #forced = 0
  /** Where the session being set up writes frames: Node emits 'session' synchronously from its own connection listener. */
  #accepting: { frames: Socket, transport?: TlsSessionTransport } | undefined

  readonly #onUse: ((s: Session) => void) | undefined
  constructor (server: Server, { tlsTransport = true, clock = SYSTEM_CLOCK, pingTimeoutMs = DEFAULT_PING_TIMEOUT_MS, onUse }: Http2TrackerOptions = {}) {
    super()
    this.#clock = clock
    this.#onUse = onUse
    this.#now = () => Math.round(clock.now())
    this.#pingTimeoutMs = pingTimeoutMs > 0 ? pingTimeoutMs : DEFAULT_PING_TIMEOUT_MS
    if (!isHttp2Server(server)) return
    if (server instanceof TlsServer) {
      if (tlsTransport) interposeTlsTransport(server, (transport) => { this.#accepting = { frames: transport.tls, transport } })
    } else {
      server.prependListener('connection', (socket: Socket) => { this.#accepting = { frames: socket } })
    }
    server.on('session', (session: Http2Session) => {
      const accepting = this.#accepting
      this.#accepting = undefined
      accepting?.transport?.adopt(session)
      this.#track(session, accepting?.frames)
    })
  }

  get counts (): TransportCounts {
    let inFlight = 0
    for (const s of this.#sessions.values()) inFlight += s.streams.size
    return { connections: this.#sessions.size, inFlight }
  }

  /** Streams are answered on the session or cut with it: none is read and left unanswered. */
  readonly discarded: readonly CutRequest[] = []

  get endings (): TransportEndings {
    return { served: this.#streamsServed, retired: this.#retired, closedByClient: this.#closedByClient, idleClosed: this.#idleClosed, stalledClosed: 0, forced: this.#forced }
  }

  get retiredBy (): Readonly<Record<string, number>> {
    return { ...this.#retiredBy }
  }

  get idleClosing (): number {
    let n = 0
    for (const s of this.#sessions.values()) if (s.goneAway === 'idle') n++
    return n
  }

  connections (): Iterable<Session> {
    return this.#sessions.values()
  }

  /** Starts the graceful GOAWAY sequence on one session: it serves the streams its client sent before it saw the GOAWAY, then ends. */
  retire (s: Session, reason: string): boolean {
    if (this.#sessions.get(s.session) !== s) return false
    return this.#goAway(s, 'retired', reason)
  }

  get stats (): Http2Stats {
    return {
      sessions: this.#seen,
      streams: this.#streams,
      streamsServed: this.#streamsServed,
      goaways: this.#goaways,
      retired: this.#retired,
      closedByClient: this.#closedByClient,
      idleClosed: this.#idleClosed,
      forced: this.#forced
    }
  }

  /** Sessions busy now are told to go away at once; new ones after their first stream; idle ones by `closeIdle`. */
  startRetiring ({ idleCloseMs }: IdleClose): void {
    this.#retiring = true
    this.#retiringSince = this.#now()
    this.#idleCloseMs = idleCloseMs
    for (const s of this.#sessions.values()) if (s.streams.size > 0) this.#goAway(s, 'retired', DRAIN_REASON)
  }

  /**
   * Tells sessions with no open stream that have stayed idle for
   * `idleCloseMs` to go away (the graceful sequence: a stream the client
   * sends meanwhile is still served). Returns the ms until the next idle
   * session is due, or undefined when none is idle.
   */
  closeIdle (): number | undefined {
    if (!this.#retiring) return undefined
    const idleCloseMs = this.#idleCloseMs
    const now = this.#now()
    let next: number | undefined
    for (const s of this.#sessions.values()) {
      if (s.streams.size > 0 || s.phase !== 'open') continue
      const dueIn = Math.max(s.idleSince, this.#retiringSince) + idleCloseMs - now
      if (dueIn <= 0) {
        this.#goAway(s, 'idle', DRAIN_REASON)
      } else if (next === undefined || dueIn < next) {
        next = dueIn
      }
    }
    return next
  }

  /** Destroys every session left; returns the streams that were cut. */
  cut (): CutRequest[] {
    const now = this.#now()
    const cut: CutRequest[] = []
    for (const s of [...this.#sessions.values()]) {
      // URLs may carry tokens: scrubbed like every output (here, not per stream on the hot path).
      for (const st of s.streams.values()) cut.push({ method: st.method, url: scrub(st.path), ageMs: now - Math.max(st.startedAt, this.#retiringSince) })
      this.#forced++
      this.#sessions.delete(s.session)
      // Its streams close as the session is destroyed: they were cut, not served.
      s.phase = 'cut'
      s.cancelPingBound()
      s.session.destroy()
    }
    return cut
  }

  #track (session: Http2Session, frames: Socket | undefined): void {
    const now = this.#now()
    const s: Session = {
      session,
      frames,
      streams: new Map(),
      idleSince: now,
      phase: 'open',
      goneAway: undefined,
      cancelPingBound: () => {},
      openedAt: now,
      remoteAddress: (frames ?? session.socket).remoteAddress ?? '',
      get state () { return stateOf(s) }
    }
    this.#seen++
    this.#sessions.set(session, s)
    session.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      this.#streams++
      s.streams.set(stream, { method: String(headers[':method']), path: String(headers[':path']), startedAt: this.#now() })
      stream.once('close', () => {
        s.streams.delete(stream)
        s.idleSince = this.#now()
        // A stream its client reset (or that failed) was not answered in full.
        if (this.#retiring && s.phase !== 'cut' && stream.rstCode === constants.NGHTTP2_NO_ERROR) this.#streamsServed++
        this.emit('change')
      })
      // A session opened during the drain serves the streams its client sent
      // before it saw GOAWAY: at least this one, so a client never loops.
      if (this.#retiring) this.#goAway(s, 'retired', DRAIN_REASON)
      else this.#onUse?.(s)
    })
    // A session's socket error ends it ('close' follows); without a listener it would be thrown.
    session.on('error', () => {})
    session.once('close', () => {
      // Still listed: it ended on its own, not cut by the drain.
      s.cancelPingBound()
      if (this.#sessions.delete(session) && this.#retiring) this.#ended(s)
      this.emit('change')
    })
  }

  #ended (s: Session): void {
    if (s.goneAway === 'retired') this.#retired++
    else if (s.goneAway === 'idle') this.#idleClosed++
    else this.#closedByClient++
  }

  /** Returns false when the session was leaving already. */
  #goAway (s: Session, why: 'retired' | 'idle', reason: string): boolean {
    if (s.phase !== 'open' || s.session.destroyed || s.session.closed) return false
    this.#goaways++
    this.#retiredBy[reason] = (this.#retiredBy[reason] ?? 0) + 1
    s.goneAway = why
    s.phase = 'notified'
    const final = (): void => {
      if (s.phase !== 'notified') return
      s.phase = 'closing'
      // The final GOAWAY (last stream id = the last one received); Node ends
      // the session once its open streams finish.
      if (!s.session.destroyed) s.session.close()
    }
    // No safe place for the frame (a TLS session without the transport:
    // TLSWrap aborts the process on a write beside the session's): the final
    // GOAWAY goes out at once, and streams the client sent meanwhile are
    // refused with REFUSED_STREAM (not processed, RFC 9113 8.7: safe to retry).
    if (s.frames === undefined || !s.frames.writable) {
      final()
      return true
    }
    s.frames.write(goAwayFrame(MAX_STREAM_ID))
    // The ACK comes back after every frame the client sent before it; the
    // callback runs while Node parses that read, so the final GOAWAY waits a
    // turn of the event loop for the frames read with the ACK.
    const sent = s.session.ping((err) => { if (err === null) setImmediate(final); else final() })
    if (!sent) {
      final()
      return true
    }
    // A peer that never answers (a paused container, a stuck event loop, a
    // half-open connection) must not hold the drain to its deadline: after
    // the bound HTTP/1.1 gives a FIN, the final GOAWAY goes out anyway, and
    // Node ends the session once its open streams finish.
    s.cancelPingBound = this.#clock.after(this.#pingTimeoutMs, final, false)
    return true
  }
}
