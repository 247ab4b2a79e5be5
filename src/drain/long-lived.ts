/**
 * Long-lived connections (Server-Sent Events, WebSockets) never carry "one more
 * response" that could say `Connection: close`, so the drain tells them to go
 * away at its very start: they reconnect through the balancer, which by then
 * sends them to another pod, instead of being cut at the deadline.
 */
import type { FastifyBaseLogger } from 'fastify'
import { describeError } from '../scrub.js'
import { callback, durationMs, invalidArgument } from '../options.js'

export type GoAwayListener = () => void | Promise<void>

export class GoAwayRegistry {
  readonly #listeners = new Set<GoAwayListener>()
  readonly #log: FastifyBaseLogger
  #fired = false

  constructor (log: FastifyBaseLogger) {
    this.#log = log
  }

  /**
   * Registers `fn` to run at drain start; returns a function that unregisters
   * it (call it when the stream ends on its own). A stream opened after the
   * drain started is told to go away on the next tick.
   */
  on (fn: GoAwayListener): () => void {
    callback(fn, 'onGoAway() listener')
    if (this.#fired) {
      setImmediate(() => { this.#call(fn) })
      return () => {}
    }
    this.#listeners.add(fn)
    return () => { this.#listeners.delete(fn) }
  }

  /** Calls every listener once; returns how many there were. */
  fire (): number {
    this.#fired = true
    const listeners = [...this.#listeners]
    this.#listeners.clear()
    for (const fn of listeners) this.#call(fn)
    return listeners.length
  }

  #call (fn: GoAwayListener): void {
    const failed = (err: unknown): void => {
      this.#log.error({ drain: 'go-away', error: describeError(err) }, 'a go-away listener failed')
    }
    try {
      Promise.resolve(fn()).catch(failed)
    } catch (err) {
      failed(err)
    }
  }
}

/** Anything an SSE stream is written to: a `ServerResponse` or `reply.raw`. */
export interface EventStreamSink {
  write (chunk: string): unknown
  end (): unknown
}

export interface EndEventStreamOptions {
  /** Reconnection delay the client should use, ms (SSE `retry:` field). Default 1000. */
  retryMs?: number
  /** Event name of the last message. Default `reconnect`. */
  event?: string
  /** Data of the last message. Default `{"reason":"draining"}`. */
  data?: string
}

/**
 * Ends a Server-Sent Events stream with a `retry:` hint and a final event, so
 * EventSource clients reconnect (to another pod) after `retryMs` instead of
 * treating the end as a failure.
 */
export function endEventStream (sink: EventStreamSink, options: EndEventStreamOptions = {}): void {
  const { retryMs = 1000, event = 'reconnect', data = '{"reason":"draining"}' } = options
  // The client's reconnection timer takes digits only; a line break in the
  // event name would start another SSE field.
  if (!Number.isInteger(durationMs(retryMs, 'endEventStream option "retryMs"', true))) {
    throw invalidArgument('endEventStream option "retryMs"', 'a whole number of milliseconds', retryMs)
  }
  if (typeof event !== 'string' || event === '' || /[\r\n]/.test(event)) {
    throw invalidArgument('endEventStream option "event"', 'a non-empty string on one line', event)
  }
  if (typeof data !== 'string') throw invalidArgument('endEventStream option "data"', 'a string', data)
  // SSE ends a line at CRLF, LF or a lone CR: each starts a new `data:` line,
  // never a field of its own (a lone CR would otherwise inject `event:`, `id:`).
  const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}`).join('\n')
  sink.write(`retry: ${retryMs}\nevent: ${event}\n${lines}\n\n`)
  sink.end()
}

/** The part of a `ws` WebSocket (or the browser-style API) the drain needs. */
export interface ClosableWebSocket {
  close (code?: number, reason?: string): unknown
}

/** WebSocket close code 1001 "Going Away": the server is shutting down, reconnect elsewhere. */
export const WS_GOING_AWAY = 1001

/** Closes a WebSocket with 1001 so the client reconnects (to another pod). */
export function closeWebSocket (ws: ClosableWebSocket, reason = 'server draining'): void {
  ws.close(WS_GOING_AWAY, reason)
}
