/**
 * A fault-injecting TCP proxy on 127.0.0.1 for dependency tests that must not
 * touch the shared servers: `kill()` resets every connection and every new one
 * (a crashed server), `hang()` accepts and reads but never answers (a frozen
 * server or a network blackhole), `restore()` forwards again and resets the
 * connections that were hung (the server came back, its old sockets are gone).
 */
import net from 'node:net'
import { once } from 'node:events'

export type ProxyMode = 'forward' | 'kill' | 'hang'

export interface TcpProxy {
  readonly port: number
  readonly mode: ProxyMode
  kill: () => void
  hang: () => void
  restore: () => void
  close: () => Promise<void>
}

export async function startTcpProxy (targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let mode: ProxyMode = 'forward'
  const pairs = new Set<{ client: net.Socket, upstream?: net.Socket }>()

  const server = net.createServer((client) => {
    const pair: { client: net.Socket, upstream?: net.Socket } = { client }
    pairs.add(pair)
    client.on('close', () => { pairs.delete(pair); pair.upstream?.destroy() })
    client.on('error', () => {})
    if (mode === 'kill') { client.resetAndDestroy(); return }
    if (mode === 'hang') { client.resume(); return }
    const upstream = net.connect(targetPort, targetHost)
    pair.upstream = upstream
    upstream.on('error', () => { client.resetAndDestroy() })
    upstream.on('close', () => { client.destroy() })
    client.pipe(upstream)
    upstream.pipe(client)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as net.AddressInfo).port

  function resetAll (): void {
    for (const { client, upstream } of pairs) {
      upstream?.destroy()
      client.resetAndDestroy()
    }
    pairs.clear()
  }

  return {
    port,
    get mode () { return mode },
    kill () {
      mode = 'kill'
      resetAll()
    },
    hang () {
      mode = 'hang'
      for (const { client, upstream } of pairs) {
        // Keep reading (so the client's writes succeed) and drop everything both ways.
        client.unpipe()
        upstream?.unpipe()
        upstream?.removeAllListeners('data')
        upstream?.pause()
        client.resume()
      }
    },
    restore () {
      if (mode === 'hang') resetAll()
      mode = 'forward'
    },
    async close () {
      resetAll()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
}

/** A proxy in front of the server of `url`, and the same URL pointing at the proxy. */
export async function startProxyFor (url: string): Promise<{ proxy: TcpProxy, url: string }> {
  const target = new URL(url)
  const proxy = await startTcpProxy(Number(target.port), target.hostname)
  target.host = `127.0.0.1:${proxy.port}`
  return { proxy, url: target.toString() }
}
