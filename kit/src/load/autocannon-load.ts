/**
 * autocannon for keep-alive throughput, wrapped for exact accounting.
 *
 * On its own autocannon loses requests silently: when a connection ends it
 * reconnects without counting the request that was in flight, and it keeps
 * writing on a connection after a `Connection: close` response (which RFC 9112
 * forbids), so a correct server would be blamed for the client's mistake. The
 * wrapper counts each request autocannon writes, settles it on its response,
 * settles the ones in flight as failed when their connection errors, ends or
 * times out, and makes the client reconnect after `Connection: close`.
 */
import { createRequire } from 'node:module'
import { failureOf, type Outcome, type Recorder } from './accounting.js'
import type { Load, Target } from './target.js'

/** The part of autocannon's per-connection client the wrapper uses. */
interface AutocannonClient {
  conn: { localPort?: number, on: (event: string, fn: (err?: Error) => void) => void, prependListener: (event: string, fn: (err?: Error) => void) => void }
  on: (event: string, fn: (...args: any[]) => void) => void
  _connect: () => void
  _doRequest: (...args: unknown[]) => void
  _destroyConnection: () => void
}

interface AutocannonInstance {
  stop: () => void
  on: (event: 'done', fn: () => void) => void
}

type Autocannon = (opts: Record<string, unknown>) => AutocannonInstance

/** Requests one autocannon client has written and not yet settled. */
class InFlight {
  readonly starts: number[] = []
  /** Local port of the current connection; its pod is looked up when a request settles. */
  port: number | undefined
  constructor (readonly recorder: Recorder, readonly podFor: Target['podFor'], readonly kind: string) {}

  fail (outcome: Outcome): void {
    for (const start of this.starts.splice(0)) this.settle(start, outcome)
  }

  settle (start: number, outcome: Outcome): void {
    // Looked up late: the client's 'connect' can run before the balancer has seen the connection.
    this.recorder.settle(start, outcome, this.podFor(this.port), this.kind)
  }
}

export async function autocannonLoad (target: Target, connections: number, path = '/'): Promise<Load> {
  // autocannon is CommonJS and ships no type declarations: require it untyped, use it through the
  // interfaces above. Not import(): tsx appends an interop branch to it that no module can take.
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon
  let stopping = false
  const clients: InFlight[] = []
  const setupClient = (client: AutocannonClient): void => {
    const flight = new InFlight(target.recorder, target.podFor, `GET ${path}`)
    clients.push(flight)
    let closeAfterResponse = false
    const connect = client._connect.bind(client)
    let cause: Outcome | undefined
    client._connect = () => {
      // Whatever was still in flight on the previous connection is lost. With
      // no error and no end seen, autocannon's request timer fired.
      flight.fail(cause ?? { kind: 'timeout' })
      cause = undefined
      connect()
      const conn = client.conn
      conn.on('connect', () => { flight.port = conn.localPort })
      // Prepended: autocannon's own listeners reconnect synchronously, so the cause must be known first.
      conn.prependListener('error', (err) => { cause = failureOf(err as Error) })
      // node:http calls this 'socket hang up' (ECONNRESET): closed with a request in flight.
      conn.prependListener('end', () => { cause = { kind: 'reset', code: 'ECONNRESET' } })
    }
    const doRequest = client._doRequest.bind(client)
    client._doRequest = (...args: unknown[]) => {
      if (stopping) return
      if (closeAfterResponse) {
        closeAfterResponse = false
        client._destroyConnection()
        client._connect()
        return
      }
      doRequest(...args)
    }
    client.on('request', () => { flight.starts.push(target.recorder.send(flight.kind)) })
    client.on('headers', (info: { shouldKeepAlive: boolean }) => { closeAfterResponse = !info.shouldKeepAlive })
    client.on('response', (status: number) => {
      flight.settle(flight.starts.shift() as number, { kind: 'response', status })
    })
  }
  const instance = autocannon({
    url: `http://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}${path}`,
    connections,
    duration: 3600,
    timeout: Math.ceil(target.requestTimeoutMs / 1000),
    setupClient
  })
  const finished = new Promise<void>((resolve) => { instance.on('done', resolve) })
  return {
    async stop () {
      stopping = true
      const deadline = Date.now() + target.requestTimeoutMs
      while (clients.some((c) => c.starts.length > 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
      for (const c of clients) c.fail({ kind: 'timeout' })
      instance.stop()
      await finished
    }
  }
}
