/**
 * A JavaScript transport between the TLS socket and the HTTP/2 session of an
 * h2-over-TLS connection, so that the drain can write its first GOAWAY (see
 * http2-sessions.ts) into the TLS stream between two of the session's writes.
 *
 * Why it is needed: Node's Http2Session writes to the TLS socket's native
 * stream (TLSWrap) directly, beside the socket's JavaScript write queue;
 * TLSWrap takes one write at a time and aborts the process (`CHECK(
 * !current_write_)`) when a JavaScript write and the session's overlap, and
 * JavaScript cannot see when the session's write is in flight. A session
 * given a stream without a native handle is wrapped by Node in a
 * JSStreamSocket instead, which hands each of the session's writes (whole
 * frames, one write in flight at a time) to this Duplex under cork/uncork;
 * this Duplex passes them to the TLS socket's JavaScript write queue in one
 * piece, so a GOAWAY written to the TLS socket lands between whole writes.
 *
 * The price is a JavaScript hop for every read and write of h2 over TLS
 * (measured in bench/, docs/benchmarks.md). h2c needs none: the session and
 * `socket.write` share libuv's ordered write queue there.
 */
import type { Http2Session } from 'node:http2'
import type { Socket } from 'node:net'
import { Duplex } from 'node:stream'
import type { Server as TlsServer, TLSSocket } from 'node:tls'

/**
 * What `session.socket` and `request.socket` answer from the TLS connection,
 * as they do without the transport: addresses (`request.ip`), `encrypted`
 * (`request.protocol`), ALPN, SNI, peer certificates.
 */
const TLS_SOCKET_PROPERTIES = [
  'remoteAddress', 'remotePort', 'remoteFamily', 'localAddress', 'localPort', 'localFamily',
  'encrypted', 'alpnProtocol', 'servername', 'authorized', 'authorizationError',
  'getPeerCertificate', 'getPeerX509Certificate', 'getCertificate', 'getX509Certificate',
  'getCipher', 'getProtocol', 'getSession', 'getTLSTicket', 'getEphemeralKeyInfo',
  'getFinished', 'getPeerFinished', 'getSharedSigalgs', 'exportKeyingMaterial', 'isSessionReused'
] as const

export class TlsSessionTransport extends Duplex {
  /** The TLS connection under the session: the first GOAWAY is written to it. */
  readonly tls: TLSSocket

  constructor (tls: TLSSocket) {
    // Half-closing is left to the session's socket (Node's JSStreamSocket), as with a native one.
    super({ allowHalfOpen: true })
    this.tls = tls
    // What Node's Http2Session does to a native socket; on the wrapper it reaches nothing.
    tls.setNoDelay(true)
    tls.disableRenegotiation()
    tls.on('data', (chunk: Buffer) => { if (!this.push(chunk)) tls.pause() })
    tls.once('end', () => { this.push(null) })
    tls.on('error', (err) => { this.destroy(err) })
    tls.once('close', () => { this.destroy() })
  }

  /**
   * Makes the session and its socket answer like one on the TLS socket.
   * Node wraps this transport in a JSStreamSocket, read from by
   * `session.socket` and `request.socket`; it is handed out with 'connect',
   * emitted on the next tick, before any byte of the connection is read.
   */
  adopt (session: Http2Session): void {
    Object.defineProperty(session, 'encrypted', { value: true })
    Object.defineProperty(session, 'alpnProtocol', { value: this.tls.alpnProtocol })
    session.once('connect', (_session: Http2Session, socket: Socket) => {
      for (const name of TLS_SOCKET_PROPERTIES) {
        Object.defineProperty(socket, name, {
          configurable: true,
          get: () => {
            const value: unknown = this.tls[name]
            return typeof value === 'function' ? value.bind(this.tls) : value
          }
        })
      }
    })
  }

  override _read (): void {
    this.tls.resume()
  }

  override _write (chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.#forward(() => this.tls.write(chunk), done)
  }

  // One write of the session (its frames, under cork) reaches the TLS socket in one piece.
  override _writev (chunks: Array<{ chunk: Buffer }>, done: (err?: Error | null) => void): void {
    this.#forward(() => {
      this.tls.cork()
      let ok = true
      for (const { chunk } of chunks) ok = this.tls.write(chunk)
      this.tls.uncork()
      return ok
    }, done)
  }

  override _final (done: (err?: Error | null) => void): void {
    this.tls.end(done)
  }

  override _destroy (err: Error | null, done: (err?: Error | null) => void): void {
    this.tls.destroy()
    done(err)
  }

  /** The session's next write waits while the TLS socket's queue is full, as it would on the native socket. */
  #forward (write: () => boolean, done: (err?: Error | null) => void): void {
    if (write()) done()
    else this.tls.once('drain', () => { done() })
  }
}

/**
 * Puts a TlsSessionTransport between each TLS socket that negotiated `h2` and
 * its session, on a secure HTTP/2 server (with or without `allowHTTP1`), by
 * wrapping Node's own 'secureConnection' listener; HTTP/1.x sockets reach it
 * untouched. `onTransport` sees each transport before its session exists.
 * Returns false (nothing changed) when Node's listener is not found.
 */
export function interposeTlsTransport (server: TlsServer, onTransport: (transport: TlsSessionTransport) => void): boolean {
  const listeners = server.rawListeners('secureConnection') as Array<(this: TlsServer, socket: unknown) => void>
  // Node's http2 secure server adds it in its constructor: lib/internal/http2/core.js.
  const node = listeners.findIndex((l) => l.name === 'connectionListener')
  if (node < 0) return false
  const connectionListener = listeners[node]!
  listeners[node] = function (this: TlsServer, socket: unknown) {
    const tls = socket as TLSSocket
    if (tls.alpnProtocol !== 'h2') return connectionListener.call(this, tls)
    const transport = new TlsSessionTransport(tls)
    onTransport(transport)
    connectionListener.call(this, transport)
  }
  // Re-added in the same order: other listeners may rely on running after Node's.
  server.removeAllListeners('secureConnection')
  for (const l of listeners) server.on('secureConnection', l)
  return true
}
