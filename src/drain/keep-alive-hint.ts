/**
 * Advertises `Keep-Alive: timeout=<s>` on keep-alive responses, a whole second
 * (at least) before the drain would close an idle connection, so that clients
 * which honour the hint (undici, i.e. Node's fetch; most proxies' upstream
 * pools) close their idle sockets themselves first and never race the drain's
 * close.
 *
 * Node writes that header from `res._keepAliveTimeout`, which its server sets
 * from `server.keepAliveTimeout` for every response before emitting 'request'
 * (Node 20 `_http_server.js` parserOnIncoming, `_http_outgoing.js`
 * `_storeHeader`: `Keep-Alive: timeout=${floor(ms / 1000)}`, only on
 * keep-alive responses). Only the advertised value is changed, per response:
 * lowering `server.keepAliveTimeout` itself would make the server close idle
 * sockets after 4 s in normal operation too, the very race this avoids.
 *
 * The cost: a client that honours the hint reconnects after an idle gap
 * longer than the hint (undici closes at hint - 2 s) instead of reusing the
 * socket for Fastify's 72 s. Node's `http.Agent` ignores the hint unless it
 * has a `timeout` of its own; idle-policy.ts handles that client.
 */
import type { Server, ServerResponse } from 'node:http'

/**
 * Clients subtract a safety margin from the hint (undici 2 s, Node's Agent
 * with a timeout 1 s) and stop reusing sockets at all when nothing is left:
 * a shorter hint would turn keep-alive off for them.
 */
const MIN_HINT_SECONDS = 3

/**
 * The advertised timeout in ms for a drain that closes idle connections after
 * `idleCloseMs`: whole seconds, at least one second earlier, never more than
 * the server really keeps a socket; 0 (no header) below MIN_HINT_SECONDS.
 */
export function keepAliveHintMs (idleCloseMs: number, serverKeepAliveTimeoutMs: number): number {
  const seconds = Math.min(Math.floor(idleCloseMs / 1000) - 1, Math.floor(serverKeepAliveTimeoutMs / 1000))
  return seconds >= MIN_HINT_SECONDS ? seconds * 1000 : 0
}

/** The hint for `server`'s responses, in ms (0: none): what the connection tracker writes on each. */
export function keepAliveHintFor (server: Server, idleCloseMs: number): number {
  // Node's default keepAliveTimeout when 0 (no timeout): nothing to clamp to.
  const serverMs = server.keepAliveTimeout > 0 ? server.keepAliveTimeout : Number.MAX_SAFE_INTEGER
  return keepAliveHintMs(idleCloseMs, serverMs)
}

/**
 * Writes the hint on one HTTP/1.x response. Called by the connection
 * tracker's own `request` listener rather than from a listener of its own:
 * every listener a server has beyond Fastify's is paid on every request.
 */
export function advertise (res: ServerResponse, hintMs: number): void {
  (res as ServerResponse & { _keepAliveTimeout: number })._keepAliveTimeout = hintMs
}
