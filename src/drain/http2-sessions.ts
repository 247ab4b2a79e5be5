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
import type { Http2Session, ServerHttp2Stream, IncomingHttpHeaders } from 'node:http2'
import type { Server } from 'node:net'
import type { Socket } from 'node:net'
import { Server as TlsServer } from 'node:tls'
import type { ConnectionMaxAge, RetirementCounts } from '../connection-age/max-age.js'
import { scrub } from '../scrub.js'
import { interposeTlsTransport, type TlsSessionTransport } from './http2-transport.js'
import type { CutRequest, TrackerEvents } from './connections.js'

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

interface Session {
  readonly session: Http2Session
  /** Where the first GOAWAY is written (the TCP socket for h2c, the TLS one under a transport); none: final GOAWAY alone. */
  readonly frames: Socket | undefined
  readonly streams: Map<ServerHttp2Stream, Stream>
  idleSince: number
  /** 'open' → 'notified' (first GOAWAY out, PING pending) → 'closing' (final GOAWAY out); 'cut': destroyed at the deadline. */
  state: 'open' | 'notified' | 'closing' | 'cut'
  /** When it reaches its max age, on the age's clock (Infinity: never). */
  readonly retireAt: number
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
  /** Streams completed after the drain started (not those cut at the deadline). */
  readonly streamsServed: number
  /** Sessions told to go away (graceful GOAWAY sequence started). */
  readonly goaways: number
  /** Sessions that stayed idle for `idleCloseMs` and were told to go away then. */
  readonly idleClosed: number
  /** Sessions destroyed at the deadline (or on a second signal). */
  readonly forced: number
}

export class Http2SessionTracker extends EventEmitter<TrackerEvents> {
  readonly #sessions = new Map<Http2Session, Session>()
  readonly #now: () => number
  #retiring = false
  #retiringSince = 0
  #seen = 0
  #streams = 0
  #streamsServed = 0
  #goaways = 0
  #idleClosed = 0
  #forced = 0
  #retiredByAge = 0
  #maxAgeGraceCut = 0
  readonly #maxAge: ConnectionMaxAge | undefined
  /** Where the session being set up writes frames: Node emits 'session' synchronously from its own connection listener. */
  #accepting: { frames: Socket, transport?: TlsSessionTransport } | undefined

  /**
   * `tlsTransport`: put a TlsSessionTransport under h2-over-TLS sessions
   * (drain.http2TlsTransport); `maxAge`: retire sessions by age while the
   * server serves (connection-age/max-age.ts).
   */
  constructor (server: Server, { tlsTransport = true, now = Date.now, maxAge }: { tlsTransport?: boolean, now?: () => number, maxAge?: ConnectionMaxAge } = {}) {
    super()
    this.#now = now
    this.#maxAge = maxAge
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

  get counts (): Http2Counts {
    let streams = 0
    for (const s of this.#sessions.values()) streams += s.streams.size
    return { sessions: this.#sessions.size, streams }
  }

  get stats (): Http2Stats {
    return { sessions: this.#seen, streams: this.#streams, streamsServed: this.#streamsServed, goaways: this.#goaways, idleClosed: this.#idleClosed, forced: this.#forced }
  }

  /** Sessions told to go away while the server serves, by reason, since the server started. */
  get retirements (): RetirementCounts {
    return { max_age: this.#retiredByAge, max_age_grace_cut: this.#maxAgeGraceCut }
  }

  /** Sessions busy now are told to go away at once; new ones after their first stream; idle ones by `closeIdle`. */
  startRetiring (): void {
    this.#retiring = true
    this.#retiringSince = this.#now()
    for (const s of this.#sessions.values()) if (s.streams.size > 0) this.#goAway(s)
  }

  /**
   * Tells sessions with no open stream that have stayed idle for
   * `idleCloseMs` to go away (the graceful sequence: a stream the client
   * sends meanwhile is still served). Returns the ms until the next idle
   * session is due, or undefined when none is idle.
   */
  closeIdle (idleCloseMs: number): number | undefined {
    const now = this.#now()
    let next: number | undefined
    for (const s of this.#sessions.values()) {
      if (s.streams.size > 0 || s.state !== 'open') continue
      const dueIn = Math.max(s.idleSince, this.#retiringSince) + idleCloseMs - now
      if (dueIn <= 0) {
        this.#idleClosed++
        this.#goAway(s)
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
      s.state = 'cut'
      s.session.destroy()
    }
    return cut
  }

  #track (session: Http2Session, frames: Socket | undefined): void {
    const s: Session = { session, frames, streams: new Map(), idleSince: this.#now(), state: 'open', retireAt: this.#maxAge?.retireAt() ?? Number.POSITIVE_INFINITY }
    this.#seen++
    this.#sessions.set(session, s)
    session.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      this.#streams++
      s.streams.set(stream, { method: String(headers[':method']), path: String(headers[':path']), startedAt: this.#now() })
      stream.once('close', () => {
        s.streams.delete(stream)
        s.idleSince = this.#now()
        if (this.#retiring && s.state !== 'cut') this.#streamsServed++
        this.emit('change')
      })
      // A session opened during the drain serves the streams its client sent
      // before it saw GOAWAY: at least this one, so a client never loops.
      if (this.#retiring) this.#goAway(s)
      // Looked at on use only, as HTTP/1.1's: an idle session is never told to go away for its age.
      else if (s.state === 'open' && this.#maxAge?.due(s.retireAt) === true) this.#retireForAge(s, this.#maxAge)
    })
    // A session's socket error ends it ('close' follows); without a listener it would be thrown.
    session.on('error', () => {})
    session.once('close', () => {
      this.#sessions.delete(session)
      this.emit('change')
    })
  }

  /**
   * gRPC's MAX_CONNECTION_AGE: the drain's two-step GOAWAY (this stream and
   * those in flight are served), then, after the grace, the session is
   * destroyed with whatever stream still runs.
   */
  #retireForAge (s: Session, maxAge: ConnectionMaxAge): void {
    this.#retiredByAge++
    this.#goAway(s)
    const cancel = maxAge.afterGrace(() => {
      this.#maxAgeGraceCut++
      s.session.destroy()
    })
    s.session.once('close', cancel)
  }

  #goAway (s: Session): void {
    if (s.state !== 'open' || s.session.destroyed || s.session.closed) return
    this.#goaways++
    s.state = 'notified'
    const final = (): void => {
      if (s.state !== 'notified') return
      s.state = 'closing'
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
      return
    }
    s.frames.write(goAwayFrame(MAX_STREAM_ID))
    // The ACK comes back after every frame the client sent before it; the
    // callback runs while Node parses that read, so the final GOAWAY waits a
    // turn of the event loop for the frames read with the ACK.
    const sent = s.session.ping((err) => { if (err === null) setImmediate(final); else final() })
    if (!sent) final()
  }
}
