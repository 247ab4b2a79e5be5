/** One HTTP GET that succeeds on 200-399 within a timeout: the kubelet's rule for an HTTP probe. */
import { request } from 'node:http'
import { connect as connectH2 } from 'node:http2'
import type { Protocol } from './protocol.js'
import { formatAddress, type PodAddress } from './pod-network.js'

export async function probeOnce (address: PodAddress, path: string, timeoutMs: number, protocol: Protocol = 'h1'): Promise<boolean> {
  if (protocol === 'h2') return await probeH2(address, path, timeoutMs)
  return await new Promise((resolve) => {
    const req = request({ host: address.host, port: address.port, path, agent: false, timeout: timeoutMs }, (res) => {
      res.resume()
      resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 400)
    })
    req.on('timeout', () => { req.destroy() })
    req.on('error', () => { resolve(false) })
    req.end()
  })
}

/**
 * The same probe over h2c (its own session each time, like kubelet's own
 * connection per probe): for a replica that speaks HTTP/2 only, as a gRPC
 * service probed with a gRPC/h2 health check would.
 */
async function probeH2 (address: PodAddress, path: string, timeoutMs: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const session = connectH2(`http://${formatAddress(address)}`)
    const done = (ok: boolean): void => { clearTimeout(timer); session.destroy(); resolve(ok) }
    const timer = setTimeout(() => { done(false) }, timeoutMs)
    session.on('error', () => { done(false) })
    const req = session.request({ ':path': path })
    req.on('response', (headers) => {
      const status = Number(headers[':status'])
      done(status >= 200 && status < 400)
    })
    req.on('error', () => { done(false) })
    req.end()
  })
}
