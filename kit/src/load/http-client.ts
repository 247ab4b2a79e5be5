/**
 * The kit's own HTTP client loops: node:http with keep-alive agents, every
 * request settled exactly once in a Recorder. They honour `Connection: close`
 * (node:http does) and use the agent's LIFO socket reuse, like most services.
 */
import { Agent, request } from 'node:http'
import { setMaxListeners } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { failureOf, type Outcome, type Recorder } from './accounting.js'

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

/** Sends one request and settles it in the target's recorder; never rejects. */
export async function send (target: Target, agent: Agent, spec: RequestSpec): Promise<Outcome> {
  const start = target.recorder.send()
  let clientPort: number | undefined
  const outcome = await new Promise<Outcome>((resolve) => {
    const headers: Record<string, string | number> = spec.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(spec.body) }
    const req = request({ host: target.host, port: target.port, method: spec.method, path: spec.path, agent, headers }, (res) => {
      // A response cut mid-body is a failure even though its status line arrived.
      res.on('error', (err) => { resolve(failureOf(err)) })
      res.on('aborted', () => { resolve({ kind: 'reset', code: 'ECONNRESET' }) })
      res.on('end', () => { resolve({ kind: 'response', status: res.statusCode as number }) })
      res.resume()
    })
    req.on('socket', (socket) => {
      // A pooled socket is connected already; a new one learns its port on connect.
      if (socket.connecting) socket.once('connect', () => { clientPort = socket.localPort })
      else clientPort = socket.localPort
    })
    req.setTimeout(target.requestTimeoutMs, () => {
      resolve({ kind: 'timeout' })
      req.destroy()
    })
    req.on('error', (err) => { resolve(failureOf(err)) })
    req.end(spec.body)
  })
  target.recorder.settle(start, outcome, target.podFor(clientPort))
  return outcome
}

export interface ClosedLoopOptions {
  readonly connections: number
  readonly request: RequestSpec
  /** Random pause between two requests of one client, up to this many ms (0: a tight loop). */
  readonly thinkMs?: number
  /** Share one pool across all clients (idle pooled sockets) instead of one socket each. */
  readonly sharedPool?: boolean
  /**
   * Where think times come from: numbers in [0, 1), like Math.random (the
   * default, for real runs). A test passes `seededRandom(seed)` so the same
   * seed gives the same think-time sequence.
   */
  readonly random?: () => number
}

/**
 * A small deterministic PRNG (mulberry32): the same seed gives the same
 * sequence in [0, 1). Math.random cannot be seeded, and a test that checks
 * what the think times are needs them to be the same every run.
 */
export function seededRandom (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6D2B79F5) >>> 0
    let x = state
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

/** A pause after a failure, so a client that keeps failing does not spin. */
const BACKOFF_MS = 50

/**
 * `connections` clients, each sending its next request as soon as the last
 * one settled (plus think time), over keep-alive sockets.
 */
export function closedLoop (target: Target, opts: ClosedLoopOptions): Load {
  const agent = new Agent({ keepAlive: true, ...(opts.sharedPool === true ? {} : { maxSockets: opts.connections }) })
  return clientLoops(opts, async () => await send(target, agent, opts.request), () => { agent.destroy() })
}

/**
 * The loop of every closed-loop client kind: `connections` clients, each
 * calling `sendOne` again once its last request settled (plus think time, and
 * a pause after a failure); `close` runs once every client stopped.
 */
export function clientLoops (opts: ClosedLoopOptions, sendOne: () => Promise<Outcome>, close: () => Promise<void> | void): Load {
  let stopping = false
  const abort = new AbortController()
  // Every client sleeps on this one signal.
  setMaxListeners(0, abort.signal)
  const think = opts.thinkMs ?? 0
  // Resolved once: every client of this load draws from the same source.
  const random = opts.random ?? Math.random
  const client = async (): Promise<void> => {
    while (!stopping) {
      const outcome = await sendOne()
      const failed = outcome.kind !== 'response' || outcome.status >= 300
      const pause = (failed ? BACKOFF_MS : 0) + (think > 0 ? random() * think : 0)
      if (pause > 0) await sleep(pause, undefined, { signal: abort.signal }).catch(() => {})
    }
  }
  const clients = Array.from({ length: opts.connections }, client)
  return {
    async stop () {
      stopping = true
      abort.abort()
      await Promise.all(clients)
      await close()
    }
  }
}
