/**
 * Exact accounting: every request a load generator sends ends in exactly one
 * outcome, so sent = 2xx + non-2xx + failed holds by construction and is
 * checked at the end of a run (`unsettled` must be 0).
 */
export type FailureKind = 'reset' | 'refused' | 'timeout' | 'cut' | 'error'

export type Outcome =
  | { readonly kind: 'response', readonly status: number }
  | { readonly kind: FailureKind, readonly code?: string }

export interface FailureRecord {
  /** Milliseconds since the run started, when the failure was seen. */
  readonly at: number
  /** `status 503`, `reset`, `timeout`, ... */
  readonly kind: string
  readonly code?: string
  /** The pod the connection was pinned to, when the balancer knows it. */
  readonly pod?: string
}

export interface Counts {
  sent: number
  ok: number
  /** Non-2xx answers by status code. */
  statuses: Record<string, number>
  /** Transport failures by kind. */
  failed: Record<string, number>
  /**
   * Times a request was sent again because it was refused unprocessed (h2:
   * REFUSED_STREAM or a session already going away, RFC 9113 8.7); each is
   * still one request in `sent`.
   */
  retried: number
}

/** One request kind's share of a run: `GET /` or a requests file's named request. */
export interface RequestCounts {
  sent: number
  ok: number
  dropped: number
}

/** Classifies a Node.js client error into the kinds the report shows. */
export function failureOf (err: Error & { code?: string }): Outcome {
  const code = err.code
  if (code === 'ECONNREFUSED') return { kind: 'refused', code }
  if (code === 'ECONNRESET' || code === 'EPIPE') return { kind: 'reset', code }
  if (code === 'ETIMEDOUT') return { kind: 'timeout', code }
  return code === undefined ? { kind: 'error' } : { kind: 'error', code }
}

export const BIN_MS = 250

/** The kind of requests sent without one (a test's own recorder). */
export const UNNAMED = 'request'

export class Recorder {
  readonly counts: Counts = { sent: 0, ok: 0, statuses: {}, failed: {}, retried: 0 }
  readonly latencies: number[] = []
  readonly failures: FailureRecord[] = []
  /** Completed requests per BIN_MS since the run started. */
  readonly throughput: number[] = []
  /** Dropped requests (non-2xx or failed) per BIN_MS. */
  readonly drops: number[] = []
  /** Answered (2xx) requests per pod, where the client knows its connection's pod (the L4 relay pins each one). */
  readonly served: Record<string, number> = {}
  /** Sent, answered 2xx and dropped per request kind (`GET /slow`, a requests file's names). */
  readonly byRequest: Record<string, RequestCounts> = {}
  readonly #now: () => number

  constructor (now: () => number) {
    this.#now = now
  }

  /** Call when a request is written, with the kind the report counts it under; returns its start time. */
  send (request = UNNAMED): number {
    this.counts.sent++
    this.byRequest[request] ??= { sent: 0, ok: 0, dropped: 0 }
    this.byRequest[request].sent++
    return this.#now()
  }

  /** Call when a sent request is sent again, before it is settled. */
  retry (): void {
    this.counts.retried++
  }

  /** Call exactly once per sent request, with the kind it was sent as. */
  settle (start: number, outcome: Outcome, pod?: string, request = UNNAMED): void {
    const at = this.#now()
    const bin = Math.floor(at / BIN_MS)
    this.throughput[bin] = (this.throughput[bin] ?? 0) + 1
    // Sent first, so the kind is there.
    const mine = this.byRequest[request] as RequestCounts
    if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) {
      this.counts.ok++
      mine.ok++
      this.latencies.push(at - start)
      if (pod !== undefined) this.served[pod] = (this.served[pod] ?? 0) + 1
      return
    }
    const kind = outcome.kind === 'response' ? `status ${outcome.status}` : outcome.kind
    if (outcome.kind === 'response') this.counts.statuses[outcome.status] = (this.counts.statuses[outcome.status] ?? 0) + 1
    else this.counts.failed[kind] = (this.counts.failed[kind] ?? 0) + 1
    this.drops[bin] = (this.drops[bin] ?? 0) + 1
    mine.dropped++
    const code = outcome.kind === 'response' ? undefined : outcome.code
    this.failures.push({ at, kind, ...(code === undefined ? {} : { code }), ...(pod === undefined ? {} : { pod }) })
  }

  get dropped (): number {
    return this.failures.length
  }

  get settled (): number {
    return this.counts.ok + this.failures.length
  }
}

/** Nearest-rank percentile of unsorted samples; 0 when there are none. */
export function percentile (samples: readonly number[], p: number): number {
  if (samples.length === 0) return 0
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))] as number
}
