/**
 * The kit's own HTTP client loops: node:http with keep-alive agents, every
 * request settled exactly once in a Recorder. They honour `Connection: close`
 * (node:http does) and use the agent's LIFO socket reuse, like most services.
 */
import { Agent, request } from 'node:http'
import { failureOf, type Outcome } from './accounting.js'
import { clientLoops, type ClosedLoopOptions } from './client-loops.js'
import { nextRequest, requestHeaders, requestKind, type Load, type RequestSpec, type Target } from './target.js'

/** Sends one request and settles it in the target's recorder; never rejects. */
export async function send (target: Target, agent: Agent, spec: RequestSpec): Promise<Outcome> {
  const kind = requestKind(spec)
  const start = target.recorder.send(kind)
  let clientPort: number | undefined
  const outcome = await new Promise<Outcome>((resolve) => {
    const req = request({ host: target.host, port: target.port, method: spec.method, path: spec.path, agent, headers: requestHeaders(spec) }, (res) => {
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
    // From the send on, the connect included: req.setTimeout() starts only
    // once a socket is connected, so a SYN to the address of a pod that is
    // gone (no answer, no reset) waited for the kernel's own connect timeout,
    // over two minutes, and held the whole run that long.
    const timer = setTimeout(() => {
      resolve({ kind: 'timeout' })
      req.destroy()
    }, target.requestTimeoutMs)
    req.on('error', (err) => { resolve(failureOf(err)) })
    req.on('close', () => { clearTimeout(timer) })
    req.end(spec.body)
  })
  target.recorder.settle(start, outcome, target.podFor(clientPort), kind)
  return outcome
}

/**
 * `connections` clients, each sending its next request as soon as the last
 * one settled (plus think time), over keep-alive sockets.
 */
export function closedLoop (target: Target, opts: ClosedLoopOptions): Load {
  const agent = new Agent({ keepAlive: true, ...(opts.sharedPool === true ? {} : { maxSockets: opts.connections }) })
  return clientLoops(opts, async () => await send(target, agent, nextRequest(opts.request)), () => { agent.destroy() })
}
