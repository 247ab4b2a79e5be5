/** What every load client is given (where to send, where to count) and what it hands back (a way to stop). */
import type { Recorder } from './accounting.js'

export interface Target {
  /** Where the load goes: the balancer on loopback, or the URL under `check`. */
  readonly host: string
  readonly port: number
  readonly recorder: Recorder
  /** The pod a client connection went to, by the client's local port. */
  readonly podFor: (clientPort: number | undefined) => string | undefined
  readonly requestTimeoutMs: number
}

export interface RequestSpec {
  readonly method: 'GET' | 'POST'
  readonly path: string
  readonly body?: string
}

/** A running load generator. */
export interface Load {
  /** Stops sending new requests and resolves when every sent one is settled. */
  stop (): Promise<void>
}
