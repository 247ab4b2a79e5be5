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

/** One request a client sends: the built-in scenarios' own, or one line of a requests file. */
export interface RequestSpec {
  /** An HTTP method in upper case: GET, POST, PUT, ... */
  readonly method: string
  /** Path and query, from the leading `/`. */
  readonly path: string
  /** Extra request headers; a body without a `content-type` is sent as application/json. */
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string
  /** What the report counts it under (a requests file may name it); default `METHOD path`. */
  readonly name?: string
}

/**
 * Where a load takes its requests from: always the same one, or a draw from
 * a weighted mix (a requests file) on every send.
 */
export type RequestSource = RequestSpec | (() => RequestSpec)

/** The request to send next from a source. */
export const nextRequest = (source: RequestSource): RequestSpec => typeof source === 'function' ? source() : source

/** What the report counts a request under: `GET /slow?ms=2000`, or the name a requests file gave it. */
export const requestKind = (r: RequestSpec): string => r.name ?? `${r.method} ${r.path}`

/** The headers of a request with a body: the spec's own, and application/json unless it names a content type. */
export function requestHeaders (r: RequestSpec): Record<string, string> {
  const headers = { ...r.headers }
  if (r.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json'
  return headers
}

/** A running load generator. */
export interface Load {
  /** Stops sending new requests and resolves when every sent one is settled. */
  stop (): Promise<void>
}
