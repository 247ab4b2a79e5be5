/**
 * A listening socket on a port the kernel picked, for a proxy the kit starts
 * (HAProxy, nginx): neither binds port 0 and says which port it got (HAProxy
 * refuses `bind :0`), so the kit listens itself and hands the socket over as
 * an inherited file descriptor (HAProxy `bind fd@3`, nginx's NGINX=3;
 * variable, the one it uses to hand its sockets to a new binary). The port
 * is never released, so nothing can take it in between.
 */
import { createServer, type Server } from 'node:net'
import { LOOPBACK } from './loopback.js'

export interface HandedSocket {
  readonly port: number
  /** The socket's file descriptor in this process, for a child's stdio. */
  readonly fd: number
  /** Closes this process's copy once the child has its own. */
  close (): Promise<void>
}

export async function listeningSocket (host = LOOPBACK): Promise<HandedSocket> {
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  // Node has no public accessor for a server's descriptor; its handle carries it on Unix.
  const { fd } = (server as unknown as { _handle: { fd: number } })._handle
  /* c8 ignore next -- Windows only: a handle there has no descriptor (-1) to inherit */
  if (fd < 0) throw new Error('cannot hand a listening socket to a proxy on this platform: use --proxy l4')
  return { port: (server.address() as { port: number }).port, fd, close: async () => { await new Promise((resolve) => server.close(resolve)) } }
}
