/**
 * The one interface the drain loops over: a tracker per transport (HTTP/1.x
 * connections, HTTP/2 sessions, whatever comes next), so the run (run.ts)
 * never merges two protocols by hand and every count covers both.
 *
 * Shape, for code that builds on it (the drain; retiring connections by age):
 *
 *   tracker.kind                      'http1' | 'http2'
 *   tracker.connections()             every open connection: { openedAt, remoteAddress, state }
 *   tracker.retire(c, reason)         ask ONE connection to leave gracefully, now or after its
 *                                     response in flight; counted under `reason` (retiredBy)
 *   tracker.startRetiring(idle)       the drain started: every connection is retired ('drain'),
 *                                     those that stay idle are closed by closeIdle()
 *   tracker.closeIdle()               the drain's idle close; ms until it needs another look
 *   tracker.cut()                     destroy every connection left; the requests cut
 *   tracker.counts / endings / retiredBy, and 'change' when a connection or request ends
 *
 * Connection states (explicit per connection; `retire` moves idle|busy to retiring):
 *
 *   idle ⇄ busy → retiring → closing → (gone)
 *
 *   idle      open, nothing in flight
 *   busy      a request / stream in flight (an upgraded WebSocket stays busy)
 *   retiring  told to leave: HTTP/1.x answers its next response with
 *             `Connection: close`; HTTP/2 got the graceful GOAWAY sequence
 *   closing   the drain half-closed it (idle) or sent the final GOAWAY:
 *             waiting for the peer's own close
 *
 * Why retiring is graceful on both: closing an idle HTTP/1.1 socket races a
 * client that picks it from its pool (zero-downtime-physics.md), so an idle
 * HTTP/1.x connection given to `retire` leaves after its NEXT response; only
 * the drain's idle close (idle-policy.ts) ever closes one that stays idle.
 */
import type { EventEmitter } from 'node:events'

/** A request the drain could not answer (cut at the deadline, or pipelined after its connection's last response). */
export interface CutRequest {
  readonly method: string
  readonly url: string
  /**
   * Since it arrived; for a request already in flight when the drain started,
   * since the drain started (0 when cut before any drain).
   */
  readonly ageMs: number
}

export type ConnectionState = 'idle' | 'busy' | 'retiring' | 'closing'

/** What a tracker tells about each open connection (HTTP/1.x socket, HTTP/2 session). */
export interface TrackedConnection {
  /** Epoch ms at which the connection was accepted. */
  readonly openedAt: number
  readonly remoteAddress: string
  readonly state: ConnectionState
}

/** The reason the drain retires connections under (`retiredBy`). */
export const DRAIN_REASON = 'drain'

/** How the drain closes connections that stay idle. */
export interface IdleClose {
  /** Idle this long (from the later of the last response and the drain start): closed. */
  readonly idleCloseMs: number
  /** HTTP/1.x: one close at a time per client address, spaced by this (idle-policy.ts). */
  readonly spacingMs: number
}

export interface TransportCounts {
  /** Open connections (sessions). */
  readonly connections: number
  /** Requests (streams) in flight; an upgraded WebSocket counts as one. */
  readonly inFlight: number
}

/** How connections ended during the drain; the `outcome` label of zero_downtime_drain_connections_total. */
export interface TransportEndings {
  /** Responses (streams) answered in full after the drain started. */
  readonly served: number
  /** Ended after they were told to leave (`Connection: close`, GOAWAY) while busy. */
  readonly retired: number
  /** Their client closed them before they were told to leave. */
  readonly closedByClient: number
  /** Closed (told to leave) for staying idle `idleCloseMs`. */
  readonly idleClosed: number
  /** HTTP/1.x: request headers incomplete for `idleCloseMs` (slowloris); destroyed. */
  readonly stalledClosed: number
  /** Destroyed at the deadline or on a second signal. */
  readonly forced: number
}

export interface TransportEvents {
  /** A connection (session) ended, or a request (stream) completed. */
  change: []
}

export interface TransportTracker<C extends TrackedConnection = TrackedConnection> extends EventEmitter<TransportEvents> {
  readonly kind: 'http1' | 'http2'
  readonly counts: TransportCounts
  readonly endings: TransportEndings
  /** Connections told to leave, per reason (`drain`, or a caller's own such as `max-age`), since the server started. */
  readonly retiredBy: Readonly<Record<string, number>>
  /** Connections the idle close told to leave that are still open (waiting for their peer). */
  readonly idleClosing: number
  connections (): Iterable<C>
  /** Asks one open connection to leave gracefully; false when it is gone or leaving already. */
  retire (connection: C, reason: string): boolean
  startRetiring (idle: IdleClose): void
  /** Closes the connections idle long enough; returns the ms until it needs another look, or undefined. */
  closeIdle (): number | undefined
  /** Destroys every connection left; returns the requests that were in flight. */
  cut (): CutRequest[]
  /** Requests read that could not be answered (HTTP/1.x pipelining after a close), reported as cut. */
  readonly discarded: readonly CutRequest[]
}
