/** The simulated cluster's network: everything on the loopback interface. */
import { createServer } from 'node:net'

export const LOOPBACK = '127.0.0.1'

/** A free loopback port: bind to port 0, read it, release it. */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}
